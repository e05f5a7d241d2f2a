"""The legal-aid duty record per lawyer and firm per year (R-SAN-5): built from the events
sanctions hears (assignments, declines, releases, closures, grades) and its own sanctions,
served to the bar association as JSON, CSV and XLSX, and published once for a finished year."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import make_url

from services.sanctions.app import MIGRATIONS, SanctionsSettings, create_app
from services.sanctions.tests.test_investigations_api import investigation_of
from shared.auth import Role
from shared.clock import BEIJING, now
from shared.contracts import (
    CaseAssigned,
    CaseClosed,
    DutyRecordPublished,
    EvaluationCompleted,
    EvaluationFailed,
    HandlerDeclined,
    HandlerRef,
    HandlerReleased,
)
from shared.contracts.sanctions import BAR_NOTICES
from shared.deps import get_clock
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish, read_topic

YEAR = now().astimezone(BEIJING).year
FIRM, OTHER_FIRM = "firm-jincheng", "firm-mingfa"
LI = HandlerRef(handler_id="lawyer-li", name="李文博", kind="lawyer", licence_number="11101201810234567",
                institution_id=FIRM, institution_name="北京金诚律师事务所")
WANG = HandlerRef(handler_id="lawyer-wang", name="=王律师", kind="lawyer",
                  licence_number="11101201910000002", institution_id=FIRM,
                  institution_name="北京金诚律师事务所")
ZHAO = HandlerRef(handler_id="lawyer-zhao", name="赵\x07敏", kind="lawyer",
                  licence_number="11101201910000003", institution_id=OTHER_FIRM,
                  institution_name="北京明法律师事务所")
VOLUNTEER = HandlerRef(handler_id="volunteer-chen", name="陈思远", kind="volunteer",
                       institution_id="clinic", institution_name="某大学法律援助志愿团")


def at(month: int, year: int = YEAR) -> datetime:
    return datetime(year, month, 10, 2, 0, tzinfo=UTC)


def case() -> tuple[str, str]:
    n = uuid.uuid4().hex[:6]
    return f"case-{n}", f"FY-{YEAR}-{n}"


def assigned(handler: HandlerRef, when: datetime) -> CaseAssigned:
    case_id, number = case()
    return CaseAssigned(case_id=case_id, case_number=number, handler=handler, method="rotation",
                        assigned_at=when)


def graded(handler: HandlerRef, grade: str, when: datetime) -> EvaluationCompleted:
    case_id, number = case()
    return EvaluationCompleted(evaluation_id=f"evaluation-{uuid.uuid4().hex[:8]}", case_id=case_id,
                               case_number=number, case_kind="civil", agency_id="chaoyang-centre",
                               handler=handler, grade=grade, reviewer_id="reviewer-1", completed_at=when)


def closed(handler: HandlerRef, when: datetime) -> CaseClosed:
    case_id, number = case()
    return CaseClosed(case_id=case_id, case_number=number, case_kind="civil", district="朝阳区",
                      agency_id="chaoyang-centre", handler=handler, outcome="调解结案",
                      ended_on=when.date(), closed_at=when)


@pytest.fixture
async def service(migrated_settings):
    settings = await migrated_settings(SanctionsSettings, MIGRATIONS)
    app = create_app(settings)
    async with serve_in_process(app) as client:
        yield settings, app, client


async def test_the_duty_record_counts_the_events_of_the_year_per_lawyer_and_firm(service):
    settings, app, client = service
    declined_case = assigned(LI, at(2))
    released_case = assigned(LI, at(3))
    events = [
        declined_case, released_case, assigned(LI, at(4)), assigned(WANG, at(4)), assigned(ZHAO, at(5)),
        assigned(LI, at(6, YEAR - 1)),  # another year: not counted
        assigned(VOLUNTEER, at(5)),  # not a lawyer: no duty record
        HandlerDeclined(case_id=declined_case.case_id, case_number=declined_case.case_number, handler=LI,
                        reason="conflict_of_interest", declined_at=at(2)),
        HandlerReleased(case_id=released_case.case_id, case_number=released_case.case_number, handler=LI,
                        cause="reassignment", released_at=at(3)),
        closed(LI, at(7)), closed(WANG, at(7)),
        graded(LI, "excellent", at(8)), graded(LI, "good", at(8)), graded(WANG, "pass", at(8)),
    ]
    await publish(settings, *events, source="/fayuan/test")
    # A fail, investigated and notified; the bar association disciplines; the agency suspends.
    failure_case, failure_number = case()
    failure = EvaluationFailed(evaluation_id=f"evaluation-{uuid.uuid4().hex[:8]}", case_id=failure_case,
                               case_number=failure_number, case_kind="criminal", agency_id="chaoyang-centre",
                               handler=LI, findings="未按时会见", failed_at=at(9))
    fail = EvaluationCompleted(evaluation_id=failure.evaluation_id, case_id=failure_case,
                               case_number=failure_number, case_kind="criminal", agency_id="chaoyang-centre",
                               handler=LI, grade="fail", reviewer_id="reviewer-1", completed_at=at(9))
    await publish(settings, fail, failure, source="/fayuan/evaluation")
    investigation = await investigation_of(client, failure)
    bar = as_role(settings, Role.bar_association)
    notice_id = investigation["bar_notice"]["notice_id"]
    disciplined = await client.post(f"/api/v1/bar-notices/{notice_id}/outcomes", headers=bar, json={
        "outcome": "discipline_decided", "discipline": "warning", "decided_on": str(at(10).date())})
    assert disciplined.status_code == 201, disciplined.text
    bureau = as_role(settings, Role.bureau_investigator)
    suspended = await client.post("/api/v1/suspensions", headers=bureau, json={
        "handler_id": LI.handler_id, "reason": "承办案件同行评估不合格", "months": 3, "scope": "city",
        "investigation_id": investigation["investigation_id"]})
    assert suspended.status_code == 201

    async def counted():
        record = (await client.get(f"/api/v1/duty-records/{YEAR}", headers=bar)).json()
        lawyers = {line["subject_id"]: line for line in record["lawyers"]}
        li, wang = lawyers.get(LI.handler_id), lawyers.get(WANG.handler_id)
        done = (li and li["counts"]["failed"] == 1 and li["counts"]["completed"] == 1
                and li["counts"]["sanctions"] == 2 and lawyers.get(ZHAO.handler_id)
                and wang and wang["counts"]["passed"] == 1 and wang["counts"]["completed"] == 1)
        return record if done else None

    record = await eventually(counted)
    lawyers = {line["subject_id"]: line for line in record["lawyers"]}
    assert set(lawyers) == {LI.handler_id, WANG.handler_id, ZHAO.handler_id}
    assert lawyers[LI.handler_id]["counts"] == {"assigned": 3, "declined": 1, "released": 1, "completed": 1,
                                                "excellent": 1, "good": 1, "passed": 0, "failed": 1,
                                                "sanctions": 2}
    assert lawyers[WANG.handler_id]["counts"] == {"assigned": 1, "declined": 0, "released": 0, "completed": 1,
                                                  "excellent": 0, "good": 0, "passed": 1, "failed": 0,
                                                  "sanctions": 0}
    assert (lawyers[LI.handler_id]["licence_number"], lawyers[LI.handler_id]["institution_id"]) == (
        LI.licence_number, FIRM)
    firms = {line["subject_id"]: line for line in record["firms"]}
    assert set(firms) == {FIRM, OTHER_FIRM}
    assert firms[FIRM]["counts"] == {"assigned": 4, "declined": 1, "released": 1, "completed": 2,
                                     "excellent": 1, "good": 1, "passed": 1, "failed": 1, "sanctions": 2}
    assert firms[OTHER_FIRM]["counts"]["assigned"] == 1 and record["published_at"] is None
    one = (await client.get(f"/api/v1/duty-records/{YEAR}", headers=bar,
                            params={"subject_id": WANG.handler_id})).json()
    assert [line["subject_id"] for line in one["lawyers"]] == [WANG.handler_id] and one["firms"] == []
    previous = (await client.get(f"/api/v1/duty-records/{YEAR - 1}", headers=bar)).json()
    assert [(line["subject_id"], line["counts"]["assigned"]) for line in previous["lawyers"]] == [
        (LI.handler_id, 1)]

    as_csv = await client.get(f"/api/v1/duty-records/{YEAR}", headers=bar, params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    by_id = {row[0]: row for row in rows if row}
    assert by_id[LI.handler_id][4:] == ["3", "1", "1", "1", "1", "1", "0", "1", "2"]
    assert by_id[WANG.handler_id][1] == "'=王律师" and by_id[ZHAO.handler_id][1] == "赵敏"
    assert by_id[FIRM][1] == "北京金诚律师事务所"
    as_xlsx = await client.get(f"/api/v1/duty-records/{YEAR}", headers=bar, params={"format": "xlsx"})
    book = load_workbook(io.BytesIO(as_xlsx.content))
    lawyer_rows = {r[0]: r for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert lawyer_rows[LI.handler_id][4:] == (3, 1, 1, 1, 1, 1, 0, 1, 2)
    assert lawyer_rows[ZHAO.handler_id][1] == "赵敏"
    assert {r[0] for r in book.worksheets[1].iter_rows(min_row=2, values_only=True)} == {FIRM, OTHER_FIRM}

    # Publication: only for a finished year, once, by the bureau; one event per lawyer and firm.
    assert (await client.post(f"/api/v1/duty-records/{YEAR}/publication")).status_code == 422
    assert (await client.post(f"/api/v1/duty-records/{YEAR - 1}/publication", headers=bar)).status_code == 403
    app.dependency_overrides[get_clock] = lambda: lambda: datetime(YEAR + 1, 1, 5, 2, 0, tzinfo=UTC)
    published = await client.post(f"/api/v1/duty-records/{YEAR}/publication")
    assert published.status_code == 201, published.text
    assert published.json()["published_at"] == f"{YEAR + 1}-01-05T10:00:00+08:00"  # shown in Beijing
    assert (await client.post(f"/api/v1/duty-records/{YEAR}/publication")).status_code == 409
    told = await read_topic(settings.kafka_bootstrap_servers, settings.topic(BAR_NOTICES), expect=6)
    records = [e.model() for e in told if e.type == DutyRecordPublished.type]
    assert sorted((r.subject, r.subject_id) for r in records) == [
        ("firm", FIRM), ("firm", OTHER_FIRM), ("lawyer", LI.handler_id), ("lawyer", WANG.handler_id),
        ("lawyer", ZHAO.handler_id)]
    li = next(r for r in records if r.subject_id == LI.handler_id)
    assert li.counts.model_dump() == lawyers[LI.handler_id]["counts"] and li.year == YEAR
    assert all(e.key == e.model().subject_id for e in told if e.type == DutyRecordPublished.type)


async def test_a_rebuild_keeps_what_sanctions_heard_from_other_services(service):
    """The duty facts of assignments, closures and grades, and the cases known, are written by
    sanctions' consumers from other services' events, not folded from its own store: the rebuild
    (`python -m services.sanctions rebuild`) folds the store again and must leave them, beside the
    sanctions it folds again."""
    settings, _, client = service
    case_of_li = assigned(LI, at(4))
    await publish(settings, case_of_li, closed(LI, at(7)), graded(LI, "good", at(8)), source="/fayuan/test")
    bureau = as_role(settings, Role.bureau_investigator)
    suspended = await client.post("/api/v1/suspensions", headers=bureau, json={
        "handler_id": LI.handler_id, "reason": "多次无故拒绝指派", "months": 1, "scope": "city",
        "case_id": case_of_li.case_id})
    assert suspended.status_code == 201, suspended.text
    bar = as_role(settings, Role.bar_association)

    async def heard():
        record = (await client.get(f"/api/v1/duty-records/{YEAR}", headers=bar)).json()
        li = next((line for line in record["lawyers"] if line["subject_id"] == LI.handler_id), None)
        counts = li and li["counts"]
        return record if counts and (counts["assigned"], counts["completed"], counts["good"],
                                     counts["sanctions"]) == (1, 1, 1, 1) else None

    before = await eventually(heard)
    env = {**os.environ, "FAYUAN_DATABASE_URL": settings.database_url,
           "FAYUAN_DATABASE_NAME": make_url(settings.sqlalchemy_url).database}
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "services.sanctions", "rebuild"],
                                   env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    after = (await client.get(f"/api/v1/duty-records/{YEAR}", headers=bar)).json()
    assert after == before
    assert (await client.get(f"/api/v1/suspensions/{suspended.json()['suspension_id']}", headers=bureau)
            ).status_code == 200


async def test_the_duty_record_is_for_the_bar_association_and_the_bureau(service):
    settings, _, client = service
    for role in (Role.agency_staff, Role.case_handler, Role.public, Role.quality_lead):
        assert (await client.get(f"/api/v1/duty-records/{YEAR}", headers=as_role(settings, role))
                ).status_code == 403, role
    for role in (Role.bar_association, Role.bureau_investigator):
        assert (await client.get(f"/api/v1/duty-records/{YEAR}", headers=as_role(settings, role))
                ).status_code == 200, role
    bad = await client.get("/api/v1/duty-records/26", headers=as_role(settings, Role.bar_association))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "path.year"
    bad_format = await client.get(f"/api/v1/duty-records/{YEAR}", params={"format": "pdf"})
    assert bad_format.status_code == 422 and bad_format.json()["errors"][0]["field"] == "query.format"
