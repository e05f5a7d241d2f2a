"""R-HDL-7 one case, one file: a criminal case's next stage is a new case, linked to the previous."""

from services.intake.tests.conftest import CRIMINAL, today


async def _ended(intake_service, **overrides) -> dict:
    case = await intake_service.register(**overrides)
    await intake_service.assign(case)
    closed = await intake_service.client.post(f"/api/v1/cases/{case['case_id']}/closure",
                                              headers=intake_service.handler(),
                                              json={"outcome": "移送审查起诉", "ended_on": today()})
    assert closed.status_code == 200, closed.text
    return closed.json()


async def test_the_next_stage_is_a_new_case_with_its_own_number_linked_both_ways(intake_service):
    client = intake_service.client
    previous = await intake_service.register(criminal_stage="investigation")
    url = f"/api/v1/cases/{previous['case_id']}"
    open_stage = await client.post(f"{url}/next-stage", json={"criminal_stage": "prosecution_review"})
    assert open_stage.status_code == 409 and open_stage.json()["rule"] == "R-HDL-7"
    await intake_service.assign(previous)
    await client.post(f"{url}/closure", headers=intake_service.handler(),
                      json={"outcome": "移送审查起诉", "ended_on": today()})

    created = await client.post(f"{url}/next-stage", json={"criminal_stage": "prosecution_review",
                                                           "registered_by": "staff-1"})
    assert created.status_code == 201, created.text
    nxt = created.json()
    assert created.headers["location"] == f"/api/v1/cases/{nxt['case_id']}"
    assert nxt["case_id"] != previous["case_id"] and nxt["case_number"] != previous["case_number"]
    assert (nxt["status"], nxt["criminal_stage"], nxt["criminal_role"], nxt["cause"],
            nxt["previous_case_id"]) == ("registered", "prosecution_review", "defence", CRIMINAL["cause"],
                                         previous["case_id"])
    assert nxt["handler_id"] is None and nxt["record_entries"] == 0  # its own file, its own assignment
    assert (await client.get(url)).json()["next_case_id"] == nxt["case_id"]
    assert (await client.get(f"/api/v1/cases/{nxt['case_id']}")).json() == nxt

    again = await client.post(f"{url}/next-stage", json={"criminal_stage": "prosecution_review"})
    assert again.status_code == 200 and again.json()["case_id"] == nxt["case_id"]
    assert (await client.get("/api/v1/cases")).json()["total"] == 2
    timeline = (await client.get(f"{url}/timeline")).json()
    assert timeline[-1]["action"] == "next_stage" and nxt["case_number"] in timeline[-1]["summary"]
    first = (await client.get(f"/api/v1/cases/{nxt['case_id']}/timeline")).json()[0]
    assert (first["actor"], previous["case_id"] in first["summary"]) == ("staff-1", True)


async def test_the_next_stage_must_come_later_and_only_criminal_cases_have_one(intake_service):
    client = intake_service.client
    previous = await _ended(intake_service, criminal_stage="first_instance")
    url = f"/api/v1/cases/{previous['case_id']}/next-stage"
    for earlier in ("investigation", "first_instance"):
        refused = await client.post(url, json={"criminal_stage": earlier})
        assert refused.status_code == 422 and refused.json()["rule"] == "R-HDL-7"
    bad = await client.post(url, json={"criminal_stage": "appeal"})
    assert bad.status_code == 422 and "criminal_stage" in {e["field"] for e in bad.json()["errors"]}
    civil = await _ended(intake_service, case_kind="civil", criminal_stage=None, criminal_role=None,
                         matter="civil_litigation")
    refused = await client.post(f"/api/v1/cases/{civil['case_id']}/next-stage",
                                json={"criminal_stage": "retrial"})
    assert refused.status_code == 422 and refused.json()["rule"] == "R-HDL-7"
    assert (await client.post(url, json={"criminal_stage": "second_instance"})).status_code == 201
    missing = await client.post("/api/v1/cases/nope/next-stage", json={"criminal_stage": "retrial"})
    assert missing.status_code == 404
