"""The provider registry over HTTP: recruitment, commitments, handlers, and the problems that
name the field at fault."""

from services.assignment.tests.conftest import AGENCY, handler, institution


async def test_recruited_institution_is_readable_with_its_commitment(registry):
    created = await registry.post("/api/v1/institutions", json={"name": "北京某律师事务所",
                                                                 "kind": "law_firm", "agency_id": AGENCY,
                                                                 "district": "朝阳区"})
    assert created.status_code == 201
    institution_id = created.json()["institution_id"]
    assert created.headers["location"] == f"/api/v1/institutions/{institution_id}"
    assert created.json()["commitment_valid_until"] is None
    signed = await registry.post(f"/api/v1/institutions/{institution_id}/commitment",
                                 json={"signed_on": "2026-01-05", "valid_until": "2027-01-04"})
    assert signed.status_code == 200
    fetched = (await registry.get(f"/api/v1/institutions/{institution_id}")).json()
    assert (fetched["commitment_signed_on"] == "2026-01-05"
            and fetched["commitment_valid_until"] == "2027-01-04")
    listed = (await registry.get("/api/v1/institutions", params={"agency_id": AGENCY})).json()
    assert listed["total"] == 1 and listed["items"][0] == fetched


async def test_invalid_institution_gets_a_problem_naming_each_field(registry):
    response = await registry.post("/api/v1/institutions", json={"name": "", "kind": "bank",
                                                                  "agency_id": AGENCY, "district": "朝阳区",
                                                                  "extra": 1})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {e["field"] for e in response.json()["errors"]} == {"name", "kind", "extra"}


async def test_commitment_ending_before_it_is_signed_is_refused(registry):
    institution_id = await institution(registry, commitment=False)
    response = await registry.post(f"/api/v1/institutions/{institution_id}/commitment",
                                   json={"signed_on": "2026-06-01", "valid_until": "2026-05-01"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["valid_until"]


async def test_commitment_of_an_unknown_institution_is_a_404(registry):
    response = await registry.post("/api/v1/institutions/nope/commitment",
                                   json={"signed_on": "2026-06-01", "valid_until": "2027-05-01"})
    assert response.status_code == 404 and response.json()["status"] == 404


async def test_registered_handler_serves_their_institutions_agency(registry):
    institution_id = await institution(registry)
    handler_id = await handler(registry, institution_id, "王律师")
    fetched = await registry.get(f"/api/v1/handlers/{handler_id}")
    assert fetched.status_code == 200
    body = fetched.json()
    assert (body["agency_id"] == AGENCY and body["status"] == "active"
            and body["institution_id"] == institution_id)
    volunteer = await registry.post("/api/v1/handlers", json={"name": "李志愿者", "kind": "volunteer",
                                                               "institution_id": institution_id,
                                                               "years_of_practice": 0})
    assert volunteer.status_code == 201 and volunteer.json()["licence_number"] is None
    assert volunteer.headers["location"] == f"/api/v1/handlers/{volunteer.json()['handler_id']}"
    listed = (await registry.get("/api/v1/handlers", params={"agency_id": AGENCY})).json()
    assert [h["handler_id"] for h in listed["items"]] == [handler_id, volunteer.json()["handler_id"]]


async def test_handler_of_an_unknown_institution_is_refused_naming_institution_id(registry):
    response = await registry.post("/api/v1/handlers", json={"name": "王律师", "kind": "lawyer",
                                                              "licence_number": "11101201010000001",
                                                              "institution_id": "nope",
                                                              "years_of_practice": 3})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["institution_id"]


async def test_lawyer_without_licence_and_bad_fields_are_refused(registry):
    institution_id = await institution(registry)
    no_licence = await registry.post("/api/v1/handlers", json={"name": "王律师", "kind": "lawyer",
                                                                "institution_id": institution_id,
                                                                "years_of_practice": 3})
    assert no_licence.status_code == 422
    assert [e["field"] for e in no_licence.json()["errors"]] == ["licence_number"]
    bad = await registry.post("/api/v1/handlers", json={"name": "王律师", "kind": "judge",
                                                         "institution_id": institution_id,
                                                         "years_of_practice": -1})
    assert {e["field"] for e in bad.json()["errors"]} == {"kind", "years_of_practice"}


async def test_unknown_handler_and_case_are_404_problems(registry):
    assert (await registry.get("/api/v1/handlers/nope")).status_code == 404
    missing = await registry.get("/api/v1/cases/nope/assignment")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
