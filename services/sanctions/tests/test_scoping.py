"""Whose records of sanctions a caller sees and acts on (docs/security.md "Scoping"): agency staff
their own agency's investigations, complaints and suspensions; a district's bureau those of the
cases registered in its district (CaseRegistered's `district`); the city bureau, the auditor and
the bar association (its notices) every agency's. Another agency's record is a 404, as an unknown
one, and lists hold none of it whatever the query says."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.sanctions.app import MIGRATIONS, SanctionsSettings, create_app
from services.sanctions.tests.test_investigations_api import LAWYER, evaluation_failed
from services.sanctions.tests.test_lifecycle_api import at_moment, heard
from shared.auth import Role
from shared.clock import local_date
from shared.contracts import CaseAssigned, CaseFlags, CaseRegistered, EvaluationFailed
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import publish

A, B = "chaoyang-centre", "haidian-centre"
DISTRICTS = {A: "朝阳区", B: "海淀区"}
COMPLAINT = "受援人反映承办律师开庭前未与其见面沟通"
SUSPENSION = {"handler_id": LAWYER.handler_id, "reason": "承办案件同行评估不合格", "months": 3}


@pytest.fixture
async def service(migrated_settings):
    settings = await migrated_settings(SanctionsSettings, MIGRATIONS)
    app = create_app(settings)
    async with serve_in_process(app) as client:
        yield settings, app, client


async def failed_case_of(settings, agency: str) -> EvaluationFailed:
    """A case of `agency` registered in its district, assigned to a lawyer, failed at evaluation."""
    failure = evaluation_failed(LAWYER).model_copy(update={"agency_id": agency})
    await publish(settings, CaseRegistered(
        case_id=failure.case_id, case_number=failure.case_number, case_kind="criminal", cause="盗窃",
        district=DISTRICTS[agency], agency_id=agency, flags=CaseFlags(), registered_at=datetime.now(UTC),
    ), source="/fayuan/intake")
    await publish(settings, CaseAssigned(case_id=failure.case_id, case_number=failure.case_number,
                                         handler=LAWYER, method="rotation", assigned_at=datetime.now(UTC)),
                  source="/fayuan/assignment")
    await publish(settings, failure, source="/fayuan/evaluation")
    return failure


def ids(page: dict, key: str) -> set[str]:
    return {item[key] for item in page["items"]}


async def test_each_caller_sees_and_acts_on_its_own_agency_or_district_only(service):
    settings, app, client = service
    case_a, case_b = await failed_case_of(settings, A), await failed_case_of(settings, B)
    await heard(app, 6)
    staff_a = as_role(settings, Role.agency_staff, sub="staff-a", agency_id=A)
    staff_b = as_role(settings, Role.agency_staff, sub="staff-b", agency_id=B)
    bureau_a = as_role(settings, Role.bureau_investigator, sub="investigator-a", district=DISTRICTS[A])
    bureau_b = as_role(settings, Role.bureau_investigator, sub="investigator-b", district=DISTRICTS[B])
    city = as_role(settings, Role.bureau_investigator, sub="investigator-city")
    auditor = as_role(settings, Role.auditor)

    # Investigations: the list, one, its notes and evidence, and each of the bureau's commands.
    everything = (await client.get("/api/v1/investigations", headers=city)).json()
    by_case = {i["case_id"]: i["investigation_id"] for i in everything["items"]}
    inv_a, inv_b = by_case[case_a.case_id], by_case[case_b.case_id]
    for caller in (city, auditor):
        assert ids((await client.get("/api/v1/investigations", headers=caller)).json(),
                   "investigation_id") == {inv_a, inv_b}
    for caller, own in ((staff_a, inv_a), (bureau_a, inv_a), (staff_b, inv_b), (bureau_b, inv_b)):
        listed = (await client.get("/api/v1/investigations", headers=caller)).json()
        assert ids(listed, "investigation_id") == {own}
    for caller in (staff_a, bureau_a):
        for path in ("", "/notes", "/evidence"):
            response = await client.get(f"/api/v1/investigations/{inv_b}{path}", headers=caller)
            assert response.status_code == 404, path
            assert response.json()["detail"] == "no investigation with this investigation_id"
        assert (await client.get(f"/api/v1/investigations/{inv_a}", headers=caller)).status_code == 200
    commands = (("/assignment", {"assignee_id": "investigator-a"}), ("/notes", {"text": "调取卷宗"}),
                ("/evidence", {"reference": "朝司调-1", "description": "会见登记表"}),
                ("/findings", {"findings": "经调查，未会见属实。"}),
                ("/decision", {"violation": False, "measures": [], "reasoning": "经调查不构成违规"}),
                ("/closure", None))
    for path, body in commands:
        response = await client.post(f"/api/v1/investigations/{inv_b}{path}", headers=bureau_a, json=body)
        assert response.status_code == 404, (path, response.text)
    for path, body in commands:  # the district's own bureau, on its own case
        response = await client.post(f"/api/v1/investigations/{inv_b}{path}", headers=bureau_b, json=body)
        assert response.status_code in (200, 201), (path, response.text)

    # Complaints: lodged for a case of the caller's agency (or district), listed, read, answered.
    received = str(local_date(datetime.now(UTC)) - timedelta(days=1))

    async def lodge(case_id: str, caller: dict[str, str]):
        return await client.post("/api/v1/complaints", headers=caller,
                                 json={"case_id": case_id, "received_on": received, "text": COMPLAINT})

    for caller in (staff_a, bureau_a):
        refused = await lodge(case_b.case_id, caller)
        assert refused.status_code == 404 and refused.json()["detail"] == "no case with this case_id"
    complaint_a = (await lodge(case_a.case_id, staff_a)).json()["complaint_id"]
    lodged_b = await lodge(case_b.case_id, staff_b)
    assert lodged_b.status_code == 201, lodged_b.text
    complaint_b = lodged_b.json()["complaint_id"]
    for caller in (staff_a, bureau_a):
        assert ids((await client.get("/api/v1/complaints", headers=caller)).json(),
                   "complaint_id") == {complaint_a}
        other = await client.get("/api/v1/complaints", headers=caller, params={"case_id": case_b.case_id})
        assert other.json()["total"] == 0
        assert (await client.get(f"/api/v1/complaints/{complaint_b}", headers=caller)).status_code == 404
    for path, body in (("/answer", {"answer": "已核查处理完毕"}), ("/investigation", None)):
        response = await client.post(f"/api/v1/complaints/{complaint_b}{path}", headers=bureau_a, json=body)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["detail"] == "no complaint with this complaint_id"
    answered = await client.post(f"/api/v1/complaints/{complaint_b}/answer", headers=bureau_b,
                                 json={"answer": "已核查处理完毕"})
    assert answered.status_code == 200, answered.text
    for caller in (city, auditor):
        assert ids((await client.get("/api/v1/complaints", headers=caller)).json(),
                   "complaint_id") == {complaint_a, complaint_b}

    # Suspensions: decided for the agency's own pool, listed, read, reinstated.
    refused = await client.post("/api/v1/suspensions", headers=staff_a,
                                json=SUSPENSION | {"investigation_id": inv_b})
    assert refused.status_code == 404 and "investigation_id" in refused.json()["detail"]
    suspension_a = (await client.post("/api/v1/suspensions", headers=staff_a,
                                      json=SUSPENSION | {"case_id": case_a.case_id})).json()["suspension_id"]
    decided_b = await client.post("/api/v1/suspensions", headers=staff_b,
                                  json=SUSPENSION | {"case_id": case_b.case_id})
    assert decided_b.status_code == 201, decided_b.text
    suspension_b = decided_b.json()["suspension_id"]
    for caller in (staff_a, bureau_a):
        assert ids((await client.get("/api/v1/suspensions", headers=caller)).json(),
                   "suspension_id") == {suspension_a}
        assert (await client.get(f"/api/v1/suspensions/{suspension_b}", headers=caller)).status_code == 404
        reinstated = await client.post(f"/api/v1/suspensions/{suspension_b}/reinstatement", headers=caller,
                                       json={"reason": "整改完成，经复查合格"})
        assert reinstated.status_code == 404
        assert reinstated.json()["detail"] == "no suspension with this suspension_id"
    for caller in (city, auditor):
        assert ids((await client.get("/api/v1/suspensions", headers=caller)).json(),
                   "suspension_id") == {suspension_a, suspension_b}
    reinstated = await client.post(f"/api/v1/suspensions/{suspension_b}/reinstatement", headers=staff_b,
                                   json={"reason": "整改完成，经复查合格"})
    assert reinstated.status_code == 200, reinstated.text

    # The bar association's notices (read by the bar association and the bureau).
    bar = as_role(settings, Role.bar_association)
    notices = (await client.get("/api/v1/bar-notices", headers=bar)).json()
    notice_of = {n["case_id"]: n["notice_id"] for n in notices["items"]}
    notice_b = notice_of[case_b.case_id]
    assert set(notice_of) >= {case_a.case_id, case_b.case_id}
    assert ids((await client.get("/api/v1/bar-notices", headers=bureau_a)).json(),
               "notice_id") == {notice_of[case_a.case_id]}
    assert (await client.get(f"/api/v1/bar-notices/{notice_b}", headers=bureau_a)).status_code == 404
    assert (await client.get(f"/api/v1/bar-notices/{notice_b}", headers=bureau_b)).status_code == 200
    at_moment(app, datetime.now(UTC) + timedelta(days=60))
    unanswered = "/api/v1/bar-notices/unanswered"
    assert ids((await client.get(unanswered, headers=bureau_a)).json(),
               "notice_id") == {notice_of[case_a.case_id]}
    for caller in (bar, city):
        listed = (await client.get(unanswered, headers=caller)).json()
        assert {notice_of[case_a.case_id], notice_b} <= ids(listed, "notice_id")


async def test_a_district_bureau_sees_nothing_of_a_case_whose_registration_it_has_not_heard_of(service):
    """Fails closed: with no district known for the case, only the city bureau and its agency see
    its investigation."""
    settings, app, client = service
    failure = evaluation_failed(LAWYER).model_copy(update={"case_id": f"case-{uuid.uuid4().hex[:6]}"})
    await publish(settings, failure, source="/fayuan/evaluation")
    await heard(app, 1)
    district = as_role(settings, Role.bureau_investigator, district=DISTRICTS[A])
    assert (await client.get("/api/v1/investigations", headers=district)).json()["total"] == 0
    city = as_role(settings, Role.bureau_investigator)
    staff = as_role(settings, Role.agency_staff, agency_id=A)
    for caller in (city, staff):
        assert (await client.get("/api/v1/investigations", headers=caller)).json()["total"] == 1
