"""Who may call sanctions (docs/sanctions.md "Who may call"): investigations are the
bureau's (and the agency reads them), suspensions are decided by the agency or the bureau, and
the bar association reads the notices sent to it and nothing else."""

import pytest

from services.sanctions.app import MIGRATIONS, SanctionsSettings, create_app
from services.sanctions.tests.test_investigations_api import LAWYER, evaluation_failed
from shared.auth import Role
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish

SUSPENSION = {"handler_id": "lawyer-li", "reason": "承办案件同行评估不合格", "agency_id": "chaoyang-centre",
              "case_id": "case-7", "months": 3}


@pytest.fixture
async def service(migrated_settings):
    settings = await migrated_settings(SanctionsSettings, MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False)
    app = create_app(settings)
    async with serve_in_process(app) as client:
        yield client, settings, app


async def test_without_a_token_the_service_answers_401(service):
    _, _, app = service
    async with serve_in_process(app, headers={}) as anonymous:
        for response in (await anonymous.get("/api/v1/investigations"),
                         await anonymous.get("/api/v1/bar-notices"),
                         await anonymous.post("/api/v1/suspensions", json=SUSPENSION)):
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == 'Bearer realm="fayuan"'


async def test_the_bar_association_reads_no_investigation_and_decides_no_suspension(service):
    client, settings, _ = service
    bar = as_role(settings, Role.bar_association)
    investigations = await client.get("/api/v1/investigations", headers=bar)
    assert investigations.status_code == 403
    assert investigations.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/investigations/any", headers=bar)).status_code == 403
    assert (await client.get("/api/v1/suspensions", headers=bar)).status_code == 403
    assert (await client.post("/api/v1/suspensions", headers=bar, json=SUSPENSION)).status_code == 403


async def test_suspensions_are_decided_by_the_agency_or_the_bureau_and_read_by_the_auditor(service):
    client, settings, _ = service
    for role in (Role.case_handler, Role.quality_lead, Role.auditor, Role.judicial_organ):
        refused = await client.post("/api/v1/suspensions", headers=as_role(settings, role), json=SUSPENSION)
        assert refused.status_code == 403, role
    staff = as_role(settings, Role.agency_staff, agency_id=SUSPENSION["agency_id"])
    by_agency = await client.post("/api/v1/suspensions", headers=staff, json=SUSPENSION)
    assert by_agency.status_code == 201, by_agency.text
    suspension_id = by_agency.json()["suspension_id"]
    reinstated = await client.post(f"/api/v1/suspensions/{suspension_id}/reinstatement",
                                   headers=as_role(settings, Role.bureau_investigator),
                                   json={"reason": "整改完成，经复查合格"})
    assert reinstated.status_code == 200 and reinstated.json()["status"] == "reinstated"
    read = await client.get(f"/api/v1/suspensions/{suspension_id}", headers=as_role(settings, Role.auditor))
    assert read.status_code == 200
    by_agency_read = await client.get("/api/v1/investigations", headers=staff)
    assert by_agency_read.status_code == 200


async def test_request_bounds_and_unknown_ids_name_the_field_not_the_value(service):
    client, _, _ = service
    too_long = await client.post("/api/v1/suspensions",
                                 json={**SUSPENSION, "reason": "理" * 1001, "note": "x"})
    assert too_long.status_code == 422
    assert {e["field"] for e in too_long.json()["errors"]} == {"reason", "note"}
    assert "理" * 1001 not in too_long.text
    unknown = await client.post("/api/v1/suspensions",
                                json={**SUSPENSION, "investigation_id": "inv-secret-42"})
    assert unknown.status_code == 404 and "investigation_id" in unknown.json()["detail"]
    assert "inv-secret-42" not in unknown.json()["detail"]
    paged = await client.get("/api/v1/investigations", params={"offset": 10**9})
    assert paged.status_code == 422 and [e["field"] for e in paged.json()["errors"]] == ["query.offset"]


async def test_the_bar_association_reads_the_notices_sent_to_it(migrated_settings):
    settings = await migrated_settings(SanctionsSettings, MIGRATIONS)
    failure = evaluation_failed(LAWYER)
    async with serve_in_process(create_app(settings), headers=as_role(settings, Role.bar_association)) as bar:
        await publish(settings, failure, source="/fayuan/evaluation")

        async def noticed():
            response = await bar.get("/api/v1/bar-notices")
            assert response.status_code == 200, response.text
            return next((n for n in response.json()["items"] if n["case_id"] == failure.case_id), None)

        notice = await eventually(noticed)
    assert notice["lawyer"]["handler_id"] == LAWYER.handler_id
    assert notice["case_number"] == failure.case_number
