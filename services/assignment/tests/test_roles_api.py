"""Who may call assignment (docs/assignment.md "Who may call"): no token is a 401, a wrong role
a 403, and the scoped roles see only their own: a handler their record and the decision record of
a case they handle, a judicial organ whom the case it notified was assigned to."""

import pytest

from services.assignment.app import MIGRATIONS, AssignmentSettings, create_app
from services.assignment.tests.conftest import AGENCY, decision, handler, institution, registered
from shared.auth import Role
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import publish

COURT = "chaoyang-court"


@pytest.fixture
async def service(migrated_settings):
    """HTTP only; yields the default (staff) client and the settings to mint other callers."""
    settings = await migrated_settings(AssignmentSettings, MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False)
    app = create_app(settings)
    async with serve_in_process(app) as client:
        yield client, settings, app


async def test_without_a_token_the_service_answers_401(service):
    _, _, app = service
    async with serve_in_process(app, headers={}) as anonymous:
        listed = await anonymous.get("/api/v1/handlers")
        recruited = await anonymous.post("/api/v1/institutions", json={"name": "甲", "kind": "law_firm",
                                                                        "agency_id": AGENCY,
                                                                        "district": "朝阳区"})
    for response in (listed, recruited):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == 'Bearer realm="fayuan"'


async def test_only_the_agency_chooses_a_handler_and_manages_the_pool(service):
    client, settings, _ = service
    handler_ = as_role(settings, Role.case_handler, handler_id="h-1")
    choose = await client.post("/api/v1/cases/some-case/assignment", headers=handler_,
                               json={"handler_id": "h-1", "reason": "本人熟悉此类案件，申请承办"})
    assert choose.status_code == 403 and choose.headers["content-type"] == "application/problem+json"
    assert 'error="insufficient_scope"' in choose.headers["www-authenticate"]
    # The auditor reads everything and changes nothing; the bar association has no business here.
    recruit = await client.post("/api/v1/institutions", headers=as_role(settings, Role.auditor),
                                json={"name": "甲", "kind": "law_firm", "agency_id": AGENCY,
                                      "district": "朝阳区"})
    assert recruit.status_code == 403
    assert (await client.get("/api/v1/handlers",
                             headers=as_role(settings, Role.bar_association))).status_code == 403
    assert (await client.get("/api/v1/handlers", headers=handler_)).status_code == 403
    assert (await client.get("/api/v1/assignments/blocked",
                             headers=as_role(settings, Role.bureau_investigator))).status_code == 403
    firm = await institution(client)
    assert (await client.get(f"/api/v1/institutions/{firm}",
                             headers=as_role(settings, Role.auditor))).status_code == 200


async def test_a_handler_reads_their_own_registry_record_and_no_one_elses(service):
    client, settings, _ = service
    firm = await institution(client)
    mine, theirs = await handler(client, firm, "王律师"), await handler(client, firm, "李律师")
    me = as_role(settings, Role.case_handler, handler_id=mine)
    own = await client.get(f"/api/v1/handlers/{mine}", headers=me)
    assert own.status_code == 200 and own.json()["name"] == "王律师"
    other = await client.get(f"/api/v1/handlers/{theirs}", headers=me)
    unknown = await client.get("/api/v1/handlers/no-such-handler")
    assert other.status_code == unknown.status_code == 404
    assert other.json()["detail"] == unknown.json()["detail"]  # nothing tells that the other exists
    assert theirs not in other.json()["detail"] and "no-such-handler" not in unknown.json()["detail"]


async def test_reports_are_for_the_agency_its_quality_lead_the_bureau_and_the_auditor(service):
    client, settings, _ = service
    for role in (Role.agency_staff, Role.quality_lead, Role.bureau_investigator, Role.auditor):
        response = await client.get("/api/v1/assignments/reports/monthly",
                                    headers=as_role(settings, role, agency_id=AGENCY))
        assert response.status_code == 200, role
    for role in (Role.case_handler, Role.closing_checker, Role.bar_association, Role.judicial_organ):
        response = await client.get("/api/v1/assignments/reports/fairness",
                                    headers=as_role(settings, role, agency_id=AGENCY))
        assert response.status_code == 403, role


async def test_request_bounds_name_the_field(service):
    client, _, _ = service
    recruited = await client.post("/api/v1/institutions", json={
        "name": "甲", "kind": "law_firm", "agency_id": AGENCY, "district": "朝阳区",
        "recruitment": {"method": "public_call", "recruited_on": "2026-01-05",
                        "recruiting_agency": "x" * 101},
    })
    assert recruited.status_code == 422
    assert [e["field"] for e in recruited.json()["errors"]] == ["recruitment.recruiting_agency"]
    assert "x" * 101 not in recruited.text
    paged = await client.get("/api/v1/handlers", params={"offset": 10**9})
    assert paged.status_code == 422 and [e["field"] for e in paged.json()["errors"]] == ["query.offset"]


async def test_a_handler_reads_the_decision_record_of_their_own_case_only(running):
    async with running() as (client, settings):
        firm = await institution(client)
        first, second = await handler(client, firm, "甲"), await handler(client, firm, "乙")
        mine, theirs = registered(), registered()
        for case in (mine, theirs):
            await publish(settings, case)
            await decision(client, case.case_id)
        me = as_role(settings, Role.case_handler, handler_id=first)
        own = await client.get(f"/api/v1/cases/{mine.case_id}/assignment", headers=me)
        other = await client.get(f"/api/v1/cases/{theirs.case_id}/assignment", headers=me)
        unknown = await client.get("/api/v1/cases/no-such-case/assignment", headers=me)
        second_sees = await client.get(f"/api/v1/cases/{theirs.case_id}/assignment",
                                       headers=as_role(settings, Role.case_handler, handler_id=second))
    assert own.status_code == 200 and own.json()["handler"]["handler_id"] == first and own.json()["decisions"]
    assert other.status_code == unknown.status_code == 404
    assert other.json()["detail"] == unknown.json()["detail"]
    assert second_sees.status_code == 200 and second_sees.json()["handler"]["handler_id"] == second


async def test_the_notifying_organ_reads_who_was_assigned_and_nothing_more(running):
    async with running() as (client, settings):
        firm = await institution(client)
        lawyer = await handler(client, firm, "王律师")
        notified = registered().model_copy(update={"source_system": COURT,
                                                   "external_reference": "(2026)京0105刑初1号"})
        walk_in = registered()
        for case in (notified, walk_in):
            await publish(settings, case)
            await decision(client, case.case_id)
        court = as_role(settings, Role.judicial_organ, institution_id=COURT)
        told = await client.get(f"/api/v1/cases/{notified.case_id}/assignment", headers=court)
        another_court = await client.get(
            f"/api/v1/cases/{notified.case_id}/assignment",
            headers=as_role(settings, Role.judicial_organ, institution_id="haidian-court"))
        not_theirs = await client.get(f"/api/v1/cases/{walk_in.case_id}/assignment", headers=court)
        staff_view = (await client.get(f"/api/v1/cases/{notified.case_id}/assignment")).json()
        registry = await client.get(f"/api/v1/handlers/{lawyer}", headers=court)
    assert told.status_code == 200
    body = told.json()
    assert (body["status"] == "assigned" and body["handler"]["handler_id"] == lawyer
            and body["handler"]["name"] == "王律师")
    assert body["decisions"] == []  # the candidates and reasons are the agency's record, not the organ's
    assert staff_view["source_system"] == COURT and staff_view["decisions"]
    assert another_court.status_code == not_theirs.status_code == 404
    assert registry.status_code == 403


async def test_an_agency_sees_and_acts_on_its_own_pool_rules_and_reports_only(service):
    client, settings, _ = service
    other = "haidian-centre"
    theirs = as_role(settings, Role.agency_staff, sub="staff-haidian", agency_id=other)
    their_firm = await institution(client, agency=other, district="海淀区", headers=theirs)
    their_lawyer = await handler(client, their_firm, "赵律师", headers=theirs)
    my_firm = await institution(client)
    await handler(client, my_firm, "钱律师")
    filed = await client.post(f"/api/v1/agencies/{other}/assignment-rules", headers=theirs, json={
        "title": "海淀指派规则", "text": "轮流指派", "effective_from": "2026-01-01"})
    assert filed.status_code == 201, filed.text
    me = as_role(settings, Role.agency_staff, sub="staff-chaoyang", agency_id=AGENCY)
    for path in (f"/api/v1/institutions/{their_firm}", f"/api/v1/handlers/{their_lawyer}",
                 f"/api/v1/agencies/{other}/assignment-rules"):
        response = await client.get(path, headers=me)
        assert response.status_code == 404 and response.json()["status"] == 404, path
    for path, body in ((f"/api/v1/institutions/{their_firm}/commitment",
                        {"signed_on": "2026-01-01", "valid_until": "2026-12-31"}),
                       (f"/api/v1/institutions/{their_firm}/commitment/withdrawal",
                        {"withdrawn_on": "2026-06-01", "reason": "不再参与"}),
                       (f"/api/v1/handlers/{their_lawyer}/unavailability",
                        {"unavailable_from": "2026-06-01", "unavailable_to": "2026-06-10"}),
                       (f"/api/v1/agencies/{other}/assignment-rules",
                        {"title": "冒名", "text": "冒名", "effective_from": "2026-01-01"}),
                       (f"/api/v1/agencies/{other}/assignment-rules/1/publication", None),
                       ("/api/v1/handlers", {"name": "孙律师", "kind": "lawyer", "institution_id": their_firm,
                                             "years_of_practice": 6, "licence_number": "11101201010000077"})):
        response = await client.post(path, headers=me, json=body)
        assert response.status_code == 404, (path, response.text)
    recruited = await client.post("/api/v1/institutions", headers=me, json={
        "name": "冒名所", "kind": "law_firm", "agency_id": other, "district": "海淀区"})
    assert recruited.status_code == 403 and "agency_id" in recruited.json()["detail"]
    for path in ("/api/v1/institutions", "/api/v1/handlers", "/api/v1/volunteers",
                 "/api/v1/assignments/blocked"):
        listed = (await client.get(path, headers=me, params={"agency_id": other})).json()
        assert listed["total"] == 0, path
        mine = (await client.get(path, headers=me)).json()
        assert all(item.get("agency_id", AGENCY) == AGENCY for item in mine["items"]), path
    institutions = (await client.get("/api/v1/institutions", headers=me)).json()
    assert [i["institution_id"] for i in institutions["items"]] == [my_firm]
    report = (await client.get("/api/v1/assignments/reports/monthly", headers=me)).json()
    assert report["agency_id"] == AGENCY and {h["handler_name"] for h in report["handlers"]} == {"钱律师"}
    # A district's bureau sees the agencies with institutions in its district; the city bureau all.
    haidian = as_role(settings, Role.bureau_investigator, district="海淀区")
    seen = (await client.get("/api/v1/institutions", headers=haidian)).json()
    assert [i["institution_id"] for i in seen["items"]] == [their_firm]
    assert (await client.get(f"/api/v1/institutions/{my_firm}", headers=haidian)).status_code == 404
    city = as_role(settings, Role.bureau_investigator)
    assert (await client.get("/api/v1/institutions", headers=city)).json()["total"] == 2
