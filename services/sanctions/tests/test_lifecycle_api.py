"""The investigation's lifecycle, complaints, information back to the notifying organ and the
automatic end of suspensions, over HTTP against the real database and broker."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from services.sanctions.app import MIGRATIONS, SanctionsSettings, create_app, reinstate_due_now
from services.sanctions.tests.test_investigations_api import AIDED_NAME, LAWYER, evaluation_failed
from shared.auth import Role
from shared.clock import local_date
from shared.contracts import (
    CaseAssigned,
    CaseFlags,
    CaseRegistered,
    HandlerReinstated,
    HandlerSuspended,
    InvestigationConcluded,
    InvestigationOpened,
)
from shared.contracts.sanctions import INVESTIGATIONS, SUSPENSIONS
from shared.deps import get_clock
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish, read_topic

AGENCY = "chaoyang-centre"
ORGAN = "chaoyang-procuratorate"
BUREAUS = {AGENCY: "chaoyang-bureau"}
COMPLAINT = f"受援人{AIDED_NAME}反映承办律师开庭前未与其见面沟通"


@pytest.fixture
async def service(migrated_settings):
    settings = await migrated_settings(
        SanctionsSettings,
        MIGRATIONS,
        responsible_bureaus=BUREAUS,
        investigation_days=30,
        complaint_answer_days=15,
    )
    app = create_app(settings)
    async with serve_in_process(app) as client:
        yield settings, app, client


def registration(case_id: str, case_number: str, source_system: str | None = ORGAN) -> CaseRegistered:
    return CaseRegistered(
        case_id=case_id,
        case_number=case_number,
        case_kind="criminal",
        cause="盗窃",
        district="朝阳区",
        agency_id=AGENCY,
        flags=CaseFlags(),
        registered_at=datetime.now(UTC),
        source_system=source_system,
        external_reference="朝检援通〔2026〕88号",
    )


async def heard(app, count: int) -> None:
    """Wait until the service's inbox has taken `count` events in."""

    async def inbox():
        async with app.state.engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM inbox"))).scalar_one() >= count or None

    await eventually(inbox)


def at_moment(app, moment: datetime) -> None:
    app.dependency_overrides[get_clock] = lambda: lambda: moment


async def test_the_bureau_investigates_decides_a_suspension_closes_and_informs_the_organ(service):
    settings, app, client = service
    failure = evaluation_failed(LAWYER)
    await publish(settings, registration(failure.case_id, failure.case_number), source="/fayuan/intake")
    await publish(settings, failure, source="/fayuan/evaluation")
    await heard(app, 2)
    [opened] = (await client.get("/api/v1/investigations")).json()["items"]
    path = f"/api/v1/investigations/{opened['investigation_id']}"
    today = local_date(datetime.now(UTC))
    assert (opened["bureau_id"], opened["status"], opened["overdue"]) == ("chaoyang-bureau", "open", False)
    assert date.fromisoformat(opened["due_on"]) - today in (
        timedelta(days=29),
        timedelta(days=30),
        timedelta(days=31),
    )

    investigator = as_role(settings, Role.bureau_investigator, sub="investigator-wang")
    agency = as_role(settings, Role.agency_staff, agency_id=AGENCY)
    assigned = await client.post(
        f"{path}/assignment", json={"assignee_id": "investigator-wang"}, headers=investigator
    )
    assert assigned.status_code == 200 and assigned.json()["assignee_id"] == "investigator-wang"
    assert (
        await client.post(f"{path}/assignment", json={"assignee_id": "x"}, headers=agency)
    ).status_code == 403
    note = await client.post(f"{path}/notes", json={"text": "已调取卷宗"}, headers=investigator)
    assert note.status_code == 201 and note.json()["author"] == "investigator-wang"
    proof = await client.post(
        f"{path}/evidence",
        json={"reference": "朝司调〔2026〕17号-3", "description": "会见登记表复印件"},
        headers=investigator,
    )
    assert proof.status_code == 201
    assert [n["text"] for n in (await client.get(f"{path}/notes", headers=agency)).json()["items"]] == [
        "已调取卷宗"
    ]
    assert (await client.get(f"{path}/evidence")).json()["items"][0]["reference"] == "朝司调〔2026〕17号-3"

    early = await client.post(
        f"{path}/decision",
        headers=investigator,
        json={"violation": False, "measures": [], "reasoning": "尚未调查完毕"},
    )
    assert early.status_code == 409 and early.json()["rule"] == "R-SAN-3"
    found = await client.post(
        f"{path}/findings", json={"findings": "未会见犯罪嫌疑人，属实"}, headers=investigator
    )
    assert found.status_code == 200 and found.json()["bureau_findings"] == "未会见犯罪嫌疑人，属实"
    wrong = await client.post(
        f"{path}/decision",
        headers=investigator,
        json={"violation": True, "measures": ["suspension_from_assignment"], "reasoning": "未履行会见职责"},
    )
    assert wrong.status_code == 422 and "suspension_months" in wrong.json()["detail"]
    decided = await client.post(
        f"{path}/decision",
        headers=investigator,
        json={
            "violation": True,
            "measures": ["order_to_correct", "suspension_from_assignment"],
            "reasoning": "未履行会见职责",
            "suspension_scope": "agency",
            "suspension_months": 3,
        },
    )
    assert decided.status_code == 200, decided.text
    investigation = decided.json()
    assert (investigation["status"], investigation["violation"]) == ("decided", True)
    suspension = (await client.get(f"/api/v1/suspensions/{investigation['suspension_id']}")).json()
    assert (suspension["handler_id"], suspension["scope"], suspension["agency_id"], suspension["status"]) == (
        LAWYER.handler_id,
        "agency",
        AGENCY,
        "in_force",
    )
    assert (suspension["case_id"], suspension["investigation_id"]) == (
        failure.case_id,
        opened["investigation_id"],
    )
    assert suspension["decided_by"] == "investigator-wang"

    closed = await client.post(f"{path}/closure", headers=investigator)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["organ_id"] == ORGAN
    assert (await client.post(f"{path}/closure", headers=investigator)).status_code == 409

    organ = as_role(settings, Role.judicial_organ, institution_id=ORGAN)
    other = as_role(settings, Role.judicial_organ, institution_id="haidian-court")
    [report] = (await client.get("/api/v1/organ-reports", headers=organ)).json()["items"]
    assert (report["case_id"], report["violation"], report["measures"]) == (
        failure.case_id,
        True,
        ["order_to_correct", "suspension_from_assignment"],
    )
    assert "reasoning" not in report and "bureau_findings" not in report
    one = await client.get(f"/api/v1/organ-reports/{opened['investigation_id']}", headers=organ)
    assert one.status_code == 200 and one.json() == report
    assert (await client.get("/api/v1/organ-reports", headers=other)).json()["items"] == []
    assert (
        await client.get(f"/api/v1/organ-reports/{opened['investigation_id']}", headers=other)
    ).status_code == 404
    assert (await client.get("/api/v1/organ-reports", headers=investigator)).status_code == 403
    assert (await client.get(path, headers=organ)).status_code == 403

    told = await read_topic(settings.kafka_bootstrap_servers, settings.topic(INVESTIGATIONS), expect=2)
    concluded = [e.model() for e in told if e.type == InvestigationConcluded.type]
    assert [type(e.model()) for e in told] == [InvestigationOpened, InvestigationConcluded]
    assert concluded[0].organ_id == ORGAN and concluded[0].suspension_id == suspension["suspension_id"]
    assert all(AIDED_NAME not in str(e.data) for e in told)
    [suspended] = await read_topic(settings.kafka_bootstrap_servers, settings.topic(SUSPENSIONS), expect=1)
    event = suspended.model()
    assert isinstance(event, HandlerSuspended) and suspended.key == LAWYER.handler_id
    assert (event.scope, event.agency_id, event.case_id, str(event.until)) == (
        "agency",
        AGENCY,
        failure.case_id,
        suspension["until"],
    )


async def test_overdue_investigations_are_on_the_bureaus_worklist_until_closed(service):
    settings, app, client = service
    failures = [evaluation_failed(LAWYER) for _ in range(2)]
    await publish(settings, *failures, source="/fayuan/evaluation")
    await heard(app, 2)
    assert (await client.get("/api/v1/investigations", params={"overdue": "true"})).json()["total"] == 0
    at_moment(app, datetime.now(UTC) + timedelta(days=32))
    worklist = (
        await client.get("/api/v1/investigations", params={"overdue": "true", "bureau_id": "chaoyang-bureau"})
    ).json()
    assert worklist["total"] == 2 and all(i["overdue"] for i in worklist["items"])
    first = worklist["items"][0]["investigation_id"]
    path = f"/api/v1/investigations/{first}"
    await client.post(f"{path}/findings", json={"findings": "评估所指问题系卷宗整理疏漏"})
    await client.post(f"{path}/decision", json={"violation": False, "reasoning": "不构成违规"})
    assert (await client.post(f"{path}/closure")).status_code == 200
    after = (await client.get("/api/v1/investigations", params={"overdue": "true"})).json()
    assert [i["investigation_id"] for i in after["items"]] != [first] and after["total"] == 1
    assert (await client.get(path)).json()["overdue"] is False
    city = await client.get("/api/v1/investigations", params={"overdue": "true", "bureau_id": "city"})
    assert city.json()["total"] == 0


async def test_a_complaint_is_lodged_answered_and_opens_an_investigation_without_its_text_in_events(service):
    settings, app, client = service
    case_id = str(uuid.uuid4())
    case_number = f"FY-2026-{case_id[:6]}"
    await publish(settings, registration(case_id, case_number, source_system=None), source="/fayuan/intake")
    await publish(
        settings,
        CaseAssigned(
            case_id=case_id,
            case_number=case_number,
            handler=LAWYER,
            method="rotation",
            assigned_at=datetime.now(UTC),
        ),
        source="/fayuan/assignment",
    )
    await heard(app, 2)
    agency = as_role(settings, Role.agency_staff, agency_id=AGENCY)
    received = str(local_date(datetime.now(UTC)) - timedelta(days=1))
    unknown = await client.post(
        "/api/v1/complaints",
        headers=agency,
        json={"case_id": "no-such-case", "received_on": received, "text": COMPLAINT},
    )
    assert unknown.status_code == 404
    lodged = await client.post(
        "/api/v1/complaints",
        headers=agency,
        json={"case_id": case_id, "received_on": received, "text": COMPLAINT},
    )
    assert lodged.status_code == 201, lodged.text
    complaint = lodged.json()
    assert (complaint["bureau_id"], complaint["handler_id"], complaint["status"]) == (
        "chaoyang-bureau",
        LAWYER.handler_id,
        "lodged",
    )
    assert complaint["answer_due_on"] == str(date.fromisoformat(received) + timedelta(days=15))
    path = f"/api/v1/complaints/{complaint['complaint_id']}"
    assert (
        await client.post(f"{path}/answer", headers=agency, json={"answer": "已处理完毕"})
    ).status_code == 403
    assert (await client.get(path, headers=as_role(settings, Role.bar_association))).status_code == 403

    at_moment(app, datetime.now(UTC) + timedelta(days=20))
    overdue = (await client.get("/api/v1/complaints", params={"overdue": "true"})).json()
    assert [c["complaint_id"] for c in overdue["items"]] == [complaint["complaint_id"]]
    investigated = await client.post(f"{path}/investigation")
    assert investigated.status_code == 201, investigated.text
    investigation = investigated.json()
    assert (investigation["origin"], investigation["complaint_id"], investigation["evaluation_id"]) == (
        "complaint",
        complaint["complaint_id"],
        None,
    )
    assert investigation["handler"] == LAWYER.model_dump(mode="json")
    assert investigated.headers["Location"] == f"/api/v1/investigations/{investigation['investigation_id']}"
    again = await client.post(f"{path}/investigation")
    assert again.status_code == 409
    answered = await client.post(f"{path}/answer", json={"answer": "已立案调查，结果将书面告知。"})
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    assert answered.json()["investigation_id"] == investigation["investigation_id"]
    assert (await client.post(f"{path}/answer", json={"answer": "第二次答复"})).status_code == 409
    assert (await client.get("/api/v1/complaints", params={"overdue": "true"})).json()["total"] == 0

    [opened] = await read_topic(settings.kafka_bootstrap_servers, settings.topic(INVESTIGATIONS), expect=1)
    assert opened.model().complaint_id == complaint["complaint_id"]
    assert AIDED_NAME not in str(opened.data) and "开庭前" not in str(opened.data)


async def test_a_suspension_ends_by_itself_at_the_first_tick_after_its_last_day(service):
    settings, app, client = service
    decided = await client.post(
        "/api/v1/suspensions",  # the city bureau decides for every agency of the city
        headers=as_role(settings, Role.bureau_investigator, sub="investigator-wang"),
        json={
            "handler_id": "lawyer-li",
            "reason": "承办案件同行评估不合格",
            "months": 3,
            "scope": "city",
            "case_id": "case-9",
        },
    )
    assert decided.status_code == 201, decided.text
    suspension = decided.json()
    last_day = date.fromisoformat(suspension["until"])
    assert (suspension["scope"], suspension["starts_on"]) == ("city", str(local_date(datetime.now(UTC))))
    on_last_day = datetime(last_day.year, last_day.month, last_day.day, 15, 0, tzinfo=UTC)  # 23:00 Beijing
    at_moment(app, on_last_day)
    assert await reinstate_due_now(app) == 0
    tick = on_last_day + timedelta(hours=1, minutes=5)  # 00:05 the day after, in Beijing
    at_moment(app, tick)
    assert await reinstate_due_now(app) == 1
    assert await reinstate_due_now(app) == 0
    ended = (await client.get(f"/api/v1/suspensions/{suspension['suspension_id']}")).json()
    assert (ended["status"], ended["automatic"]) == ("reinstated", True)
    assert datetime.fromisoformat(ended["reinstated_at"]) == tick
    events = await read_topic(settings.kafka_bootstrap_servers, settings.topic(SUSPENSIONS), expect=2)
    reinstated = events[-1].model()
    assert (
        isinstance(reinstated, HandlerReinstated)
        and reinstated.automatic
        and reinstated.reinstated_at == tick
    )


async def test_agency_staff_suspend_from_their_own_agency_only(service):
    settings, _, client = service
    agency = as_role(settings, Role.agency_staff, agency_id=AGENCY)
    body = {"handler_id": "lawyer-li", "reason": "承办案件同行评估不合格", "months": 1, "case_id": "case-1"}
    city = await client.post("/api/v1/suspensions", headers=agency, json={**body, "scope": "city"})
    assert city.status_code == 403 and city.json()["rule"] == "R-SAN-2"
    other = await client.post(
        "/api/v1/suspensions", headers=agency, json={**body, "agency_id": "haidian-centre"}
    )
    assert other.status_code == 403
    own = await client.post("/api/v1/suspensions", headers=agency, json=body)
    assert own.status_code == 201 and own.json()["agency_id"] == AGENCY
    no_period = await client.post("/api/v1/suspensions", headers=agency, json={**body, "months": None})
    assert no_period.status_code == 422 and "months" in no_period.json()["detail"]
