"""Every read of sanctions: its read models (projections.py) as typed views, one page at a time
(shared.paging). Reads take the caller (`Principal`) and are scoped to it (docs/security.md
"Scoping"): agency staff read their own agency's investigations, complaints and suspensions, a
district's bureau those of the cases of its district (the `district` of intake's CaseRegistered,
in `known_cases`), the city bureau and the auditor every agency's; anything outside the scope is
not found, or left out of a list. A judicial organ reads only the conclusions on the cases it
notified. The duty record and the commendation list are the city's: whoever may read them reads
all of them (api/ says who may)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, and_, exists, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.sanctions.domain import (
    COUNTED,
    RULE,
    ComplaintStatus,
    DutyFact,
    InvestigationStatus,
    Measure,
    NoticeStatus,
    Origin,
    OutcomeChannel,
    Period,
    SuspensionScope,
    SuspensionStatus,
    Tally,
    ranked,
)
from services.sanctions.projections import (
    bar_notice_outcomes,
    bar_notices,
    commendation_lists,
    complaints,
    duty_facts,
    duty_years,
    evidence,
    investigations,
    known_cases,
    notes,
    suspensions,
)
from shared import store
from shared.aggregate import NotFound
from shared.auth import EVERY_AGENCY, AgencyScope, Principal, Role, agency_scope
from shared.contracts import CaseKind, DisciplineKind, Grade, HandlerKind, HandlerRef, OutcomeKind
from shared.contracts.sanctions import CommendedEntry, DutyCounts
from shared.paging import Page, paginate

# --- views ----------------------------------------------------------------------------------


class BarNoticeView(BaseModel):
    notice_id: str
    investigation_id: str
    case_id: str
    case_number: str
    case_kind: CaseKind
    lawyer: HandlerRef
    reason: str
    issued_at: datetime
    status: NoticeStatus = Field(
        description="The bar association's latest answer (awaiting_answer: none yet)")
    discipline: DisciplineKind | None = Field(default=None, description="The discipline it decided, if any")
    decided_on: date | None = Field(default=None, description="The day of its decision, if decided")
    reference: str | None = Field(default=None, description="Its file number for the decision")
    answered_at: datetime | None = Field(default=None, description="When its first answer was recorded")
    reminders_sent: int = Field(default=0, description="How often the bureau chased the notice")
    last_reminded_at: datetime | None = None


class InvestigationView(BaseModel):
    investigation_id: str
    evaluation_id: str | None
    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    findings: str
    status: InvestigationStatus
    opened_at: datetime
    bar_notice: BarNoticeView | None = None
    # The lifecycle (R-SAN-3)
    origin: Origin = Origin.evaluation
    complaint_id: str | None = None
    bureau_id: str | None = None
    due_on: date | None = None
    overdue: bool = False
    assignee_id: str | None = None
    bureau_findings: str | None = None
    violation: bool | None = None
    measures: list[Measure] = []
    reasoning: str | None = None
    suspension_id: str | None = None
    decided_at: datetime | None = None
    closed_at: datetime | None = None
    organ_id: str | None = None
    informed_at: datetime | None = None


class NoteView(BaseModel):
    note_id: str
    investigation_id: str
    text: str
    author: str
    added_at: datetime


class EvidenceView(BaseModel):
    evidence_id: str
    investigation_id: str
    reference: str
    description: str
    added_by: str
    added_at: datetime


class OrganReportView(BaseModel):
    """通报: what the police, procuratorate or court that notified a case learns when the
    bureau's investigation of it concludes (no free text of the bureau's, no aided-person data)."""

    investigation_id: str
    case_id: str
    case_number: str
    handler: HandlerRef
    violation: bool
    measures: list[Measure]
    decided_at: datetime
    concluded_at: datetime


class ComplaintView(BaseModel):
    complaint_id: str
    case_id: str
    case_number: str
    agency_id: str
    bureau_id: str
    handler_id: str | None
    text: str
    received_on: date
    answer_due_on: date
    overdue: bool
    status: ComplaintStatus
    recorded_by: str
    recorded_at: datetime
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None
    investigation_id: str | None


class KnownCase(BaseModel):
    """A case as sanctions heard of it from intake and assignment."""

    case_id: str
    case_number: str
    case_kind: CaseKind | None
    agency_id: str | None
    district: str | None = None
    source_system: str | None
    handler: HandlerRef | None


class SuspensionView(BaseModel):
    suspension_id: str
    handler_id: str
    agency_id: str | None
    investigation_id: str | None
    reason: str
    until: date | None
    status: SuspensionStatus
    decided_at: datetime
    reinstated_at: datetime | None
    reinstatement_reason: str | None
    scope: SuspensionScope
    case_id: str | None = None
    starts_on: date | None = None
    decided_by: str | None = None
    automatic: bool = False


# --- whose records (docs/security.md "Scoping") ---------------------------------------------


def scope(asking: Principal) -> AgencyScope:
    """The agencies whose records the caller reads and acts on here: shared.auth.agency_scope
    (agency staff their agency's, a district's bureau its district's, the city bureau and the
    auditor every agency's)."""
    return agency_scope(asking)


def _notice_scope(asking: Principal) -> AgencyScope:
    """The bar association reads every notice sent to it, whatever other role it holds."""
    acting = asking.acting or (frozenset({asking.role}) if asking.role else asking.roles)
    return EVERY_AGENCY if Role.bar_association in acting else agency_scope(asking)


def _case_in(district: str, case_id: Any) -> ColumnElement[bool]:
    """The case (by id) was registered in this district."""
    return exists().where(known_cases.c.case_id == case_id, known_cases.c.district == district)


def _agency_in(district: str, agency_id: Any) -> ColumnElement[bool]:
    """The agency registered a case in this district (what makes it one of the district's)."""
    return exists().where(known_cases.c.agency_id == agency_id, known_cases.c.district == district)


def _of_scope(within: AgencyScope, agency_id: Any, case_id: Any) -> list[ColumnElement[bool]]:
    """Rows whose agency (`agency_id`) or, for a district's bureau, whose case (`case_id`, by its
    registration's district) the scope admits; a case whose registration sanctions has not heard
    of is in no district (a district's bureau does not see it)."""
    if within.agency_id is not None:
        return [agency_id == within.agency_id]
    if within.district is not None:
        return [_case_in(within.district, case_id)]
    return []


def _suspensions_of_scope(within: AgencyScope) -> list[ColumnElement[bool]]:
    """A suspension is of its agency; for a district, of its case's district, or, naming no case,
    of its agency's (an agency that registered a case there). A city-wide one naming no agency is
    the city bureau's and the auditor's to read."""
    if within.district is not None:
        return [or_(_case_in(within.district, suspensions.c.case_id),
                    and_(suspensions.c.case_id.is_(None),
                         _agency_in(within.district, suspensions.c.agency_id)))]
    return _of_scope(within, suspensions.c.agency_id, suspensions.c.case_id)


async def check_within(conn: AsyncConnection, within: AgencyScope, *, agency_id: str | None,
                       case_id: str | None, missing: str) -> None:
    """NotFound(`missing`) unless a record of `agency_id` about `case_id` is within the scope (a
    command's check, before it acts: another agency's record is not found, as an unknown one)."""
    if within.unlimited:
        return
    if within.agency_id is not None:
        admitted = agency_id == within.agency_id
    elif case_id is not None:
        admitted = (await conn.execute(select(_case_in(within.district or "", case_id)))).scalar_one()
    else:
        admitted = agency_id is not None and (await conn.execute(
            select(_agency_in(within.district or "", agency_id)))).scalar_one()
    if not admitted:
        raise NotFound(missing)


# --- investigations and the bar association's notices -------------------------------------

# An investigation and its notice, if any, in one row: the notice's columns under a prefix
# (both tables have case_id, licence_number, ...). At most one notice per investigation.
_NOTICE = "notice_"
_INVESTIGATIONS = (
    select(investigations, *(c.label(_NOTICE + c.name) for c in bar_notices.c))
    .outerjoin(bar_notices, bar_notices.c.investigation_id == investigations.c.investigation_id)
)


def _notice(row: Mapping[str, Any]) -> BarNoticeView:
    lawyer = HandlerRef(handler_id=row["lawyer_id"], name=row["lawyer_name"], kind=HandlerKind.lawyer,
                        licence_number=row["licence_number"], institution_id=row["institution_id"],
                        institution_name=row["institution_name"])
    return BarNoticeView.model_validate({**row, "lawyer": lawyer})


def _handler(row: Mapping[str, Any]) -> HandlerRef:
    return HandlerRef(handler_id=row["handler_id"], name=row["handler_name"], kind=row["handler_kind"],
                      licence_number=row["licence_number"], institution_id=row["institution_id"],
                      institution_name=row["institution_name"])


def _investigation_at(today: date | None) -> Any:
    def item(row: RowMapping) -> InvestigationView:
        notice = None
        if row[_NOTICE + "notice_id"] is not None:
            notice = _notice({c.name: row[_NOTICE + c.name] for c in bar_notices.c})
        overdue = (today is not None and row["due_on"] is not None and row["due_on"] < today
                   and row["status"] != InvestigationStatus.closed)
        return InvestigationView.model_validate({**row, "handler": _handler(row), "bar_notice": notice,
                                                 "overdue": overdue})
    return item


def _overdue_investigations(today: date) -> Any:
    return and_(investigations.c.due_on < today, investigations.c.status != InvestigationStatus.closed)


async def list_investigations(engine: AsyncEngine, principal: Principal, *,
                              status: InvestigationStatus | None, offset: int, limit: int,
                              today: date | None = None, overdue: bool = False, bureau_id: str | None = None,
                              assignee_id: str | None = None) -> Page[InvestigationView]:
    """Investigations of failed cases and complaints, newest first, with their notices; the
    bureau's worklist of overdue ones (past their due day on `today`, not closed), the most
    overdue first."""
    query: Select[Any] = _INVESTIGATIONS
    if overdue and today is not None:
        query = query.where(_overdue_investigations(today)).order_by(
            investigations.c.due_on, investigations.c.investigation_id)
    else:
        query = query.order_by(investigations.c.opened_at.desc(), investigations.c.investigation_id)
    if status is not None:
        query = query.where(investigations.c.status == status)
    if bureau_id is not None:
        query = query.where(investigations.c.bureau_id == bureau_id)
    if assignee_id is not None:
        query = query.where(investigations.c.assignee_id == assignee_id)
    query = query.where(*_of_scope(scope(principal), investigations.c.agency_id, investigations.c.case_id))
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_investigation_at(today))


async def investigation(engine: AsyncEngine, principal: Principal, investigation_id: str, *,
                        today: date | None = None) -> InvestigationView:
    """One investigation, with the bar association's notice when the handler is a lawyer; not
    found outside the caller's scope."""
    async with engine.connect() as conn:
        return await investigation_in(conn, investigation_id, today=today, within=scope(principal))


async def investigation_in(conn: AsyncConnection, investigation_id: str, *, today: date | None = None,
                           within: AgencyScope = EVERY_AGENCY) -> InvestigationView:
    """One investigation as read inside a transaction (a command's answer: handlers.py)."""
    query = _INVESTIGATIONS.where(investigations.c.investigation_id == investigation_id,
                                  *_of_scope(within, investigations.c.agency_id, investigations.c.case_id))
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound("no investigation with this investigation_id")
    return _investigation_at(today)(row)


async def investigation_of_case(conn: AsyncConnection, case_id: str, origin: Origin) -> str | None:
    """The investigation already opened on this case from this origin, if any: one per failed case.
    Asked for every failed evaluation (the failure path): straight to asyncpg, in the caller's
    transaction."""
    db = await store.driver(conn)
    found: str | None = await db.fetchval(
        "SELECT investigation_id FROM investigations WHERE case_id = $1 AND origin = $2 LIMIT 1",
        case_id, origin.value)
    return found


async def _exists(conn: AsyncConnection, investigation_id: str, within: AgencyScope) -> None:
    found = await conn.execute(select(investigations.c.investigation_id).where(
        investigations.c.investigation_id == investigation_id,
        *_of_scope(within, investigations.c.agency_id, investigations.c.case_id)))
    if found.first() is None:
        raise NotFound("no investigation with this investigation_id")


async def list_notes(engine: AsyncEngine, principal: Principal, investigation_id: str, *, offset: int,
                     limit: int) -> Page[NoteView]:
    """An investigation's notes, oldest first."""
    query = (select(notes).where(notes.c.investigation_id == investigation_id)
             .order_by(notes.c.added_at, notes.c.note_id))
    async with engine.connect() as conn:
        await _exists(conn, investigation_id, scope(principal))
        return await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda row: NoteView.model_validate(dict(row)))


async def note_in(conn: AsyncConnection, note_id: str) -> NoteView:
    row = (await conn.execute(select(notes).where(notes.c.note_id == note_id))).mappings().one()
    return NoteView.model_validate(dict(row))


async def list_evidence(engine: AsyncEngine, principal: Principal, investigation_id: str, *, offset: int,
                        limit: int) -> Page[EvidenceView]:
    """The references to the evidence an investigation relies on, oldest first."""
    query = (select(evidence).where(evidence.c.investigation_id == investigation_id)
             .order_by(evidence.c.added_at, evidence.c.evidence_id))
    async with engine.connect() as conn:
        await _exists(conn, investigation_id, scope(principal))
        return await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda row: EvidenceView.model_validate(dict(row)))


async def evidence_in(conn: AsyncConnection, evidence_id: str) -> EvidenceView:
    row = (await conn.execute(select(evidence).where(evidence.c.evidence_id == evidence_id))).mappings().one()
    return EvidenceView.model_validate(dict(row))


# --- information back to the notifying organ (通报) ----------------------------------------

_REPORTS = select(investigations).where(investigations.c.informed_at.is_not(None))


def _report(row: RowMapping) -> OrganReportView:
    return OrganReportView.model_validate({**row, "handler": _handler(row),
                                           "concluded_at": row["informed_at"]})


async def list_organ_reports(engine: AsyncEngine, principal: Principal, *, offset: int,
                             limit: int) -> Page[OrganReportView]:
    """The concluded investigations of the cases the caller's organ notified, newest first."""
    query = (_REPORTS.where(investigations.c.organ_id == principal.institution_id)
             .order_by(investigations.c.informed_at.desc(), investigations.c.investigation_id))
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_report)


async def organ_report(engine: AsyncEngine, principal: Principal, investigation_id: str) -> OrganReportView:
    """One conclusion, for the organ that notified the case only (any other caller: not found)."""
    query = _REPORTS.where(investigations.c.investigation_id == investigation_id,
                           investigations.c.organ_id == principal.institution_id)
    async with engine.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    if row is None or principal.institution_id is None:
        raise NotFound("no report with this investigation_id")
    return _report(row)


# --- the cases sanctions knows of -----------------------------------------------------------


async def known_case_in(conn: AsyncConnection, case_id: str) -> KnownCase | None:
    row = (await conn.execute(select(known_cases).where(known_cases.c.case_id == case_id))).mappings().first()
    if row is None:
        return None
    handler = _handler(row) if row["handler_id"] is not None else None
    return KnownCase.model_validate({**row, "handler": handler})


# --- complaints (arts. 55-57) ---------------------------------------------------------------


def _complaint_at(today: date | None) -> Any:
    def item(row: RowMapping) -> ComplaintView:
        overdue = (today is not None and row["status"] == ComplaintStatus.lodged
                   and row["answer_due_on"] < today)
        return ComplaintView.model_validate({**row, "overdue": overdue})
    return item


async def list_complaints(engine: AsyncEngine, principal: Principal, *, status: ComplaintStatus | None,
                          overdue: bool, today: date, bureau_id: str | None, case_id: str | None,
                          offset: int, limit: int) -> Page[ComplaintView]:
    """Complaints, newest first; or those past their answer's due day, the most overdue first."""
    query = select(complaints)
    if overdue:
        query = query.where(complaints.c.status == ComplaintStatus.lodged,
                            complaints.c.answer_due_on < today).order_by(
            complaints.c.answer_due_on, complaints.c.complaint_id)
    else:
        query = query.order_by(complaints.c.recorded_at.desc(), complaints.c.complaint_id)
    if status is not None:
        query = query.where(complaints.c.status == status)
    if bureau_id is not None:
        query = query.where(complaints.c.bureau_id == bureau_id)
    if case_id is not None:
        query = query.where(complaints.c.case_id == case_id)
    query = query.where(*_of_scope(scope(principal), complaints.c.agency_id, complaints.c.case_id))
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_complaint_at(today))


async def complaint(engine: AsyncEngine, principal: Principal, complaint_id: str, *,
                    today: date | None = None) -> ComplaintView:
    """One complaint; not found outside the caller's scope."""
    async with engine.connect() as conn:
        return await complaint_in(conn, complaint_id, today=today, within=scope(principal))


async def complaint_in(conn: AsyncConnection, complaint_id: str, *, today: date | None = None,
                       within: AgencyScope = EVERY_AGENCY) -> ComplaintView:
    row = (await conn.execute(select(complaints).where(
        complaints.c.complaint_id == complaint_id,
        *_of_scope(within, complaints.c.agency_id, complaints.c.case_id)))).mappings().first()
    if row is None:
        raise NotFound("no complaint with this complaint_id")
    return _complaint_at(today)(row)


def _notices_of_scope(within: AgencyScope) -> list[ColumnElement[bool]]:
    """A notice is of its investigation's agency, and of its case's district."""
    if within.agency_id is not None:
        return [exists().where(investigations.c.investigation_id == bar_notices.c.investigation_id,
                               investigations.c.agency_id == within.agency_id)]
    return _of_scope(within, None, bar_notices.c.case_id)


async def list_bar_notices(engine: AsyncEngine, principal: Principal, *, offset: int,
                           limit: int) -> Page[BarNoticeView]:
    """The notices sent to the bar association, newest first; of the caller's scope (the bar
    association: every notice)."""
    query = (select(bar_notices).where(*_notices_of_scope(_notice_scope(principal)))
             .order_by(bar_notices.c.issued_at.desc(), bar_notices.c.notice_id))
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_notice)


# --- suspensions ----------------------------------------------------------------------------


def _suspension(row: RowMapping) -> SuspensionView:
    scope = row["scope"] or (SuspensionScope.agency if row["agency_id"] else SuspensionScope.city)
    return SuspensionView.model_validate({**row, "scope": scope})


async def suspensions_due(conn: AsyncConnection, day: date) -> list[str]:
    """The suspensions in force whose last day is before `day`: due to end by themselves."""
    found = await conn.execute(select(suspensions.c.suspension_id).where(
        suspensions.c.status == SuspensionStatus.in_force, suspensions.c.until < day,
    ).order_by(suspensions.c.until, suspensions.c.suspension_id))
    return list(found.scalars())


async def list_suspensions(engine: AsyncEngine, principal: Principal, *, handler_id: str | None,
                           status: SuspensionStatus | None, offset: int, limit: int) -> Page[SuspensionView]:
    """The suspensions, newest first; of one handler, or in one status, if given."""
    query = select(suspensions).order_by(suspensions.c.decided_at.desc(), suspensions.c.suspension_id)
    if handler_id:
        query = query.where(suspensions.c.handler_id == handler_id)
    if status:
        query = query.where(suspensions.c.status == status)
    query = query.where(*_suspensions_of_scope(scope(principal)))
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_suspension)


async def suspension(engine: AsyncEngine, principal: Principal, suspension_id: str) -> SuspensionView:
    """One suspension and, once reinstated, when and why; not found outside the caller's scope."""
    async with engine.connect() as conn:
        return await suspension_in(conn, suspension_id, within=scope(principal))


async def suspension_in(conn: AsyncConnection, suspension_id: str, *,
                        within: AgencyScope = EVERY_AGENCY) -> SuspensionView:
    """One suspension as read inside a transaction: a command's answer, read where it was
    written (handlers.py)."""
    row = (await conn.execute(select(suspensions).where(suspensions.c.suspension_id == suspension_id,
                                                        *_suspensions_of_scope(within))
                              )).mappings().first()
    if row is None:
        raise NotFound("no suspension with this suspension_id")
    return _suspension(row)


# --- the bar association's answers and reminders (R-SAN-4) ----------------------------------


class BarOutcomeView(BaseModel):
    outcome: OutcomeKind
    discipline: DisciplineKind | None
    decided_on: date | None
    reference: str | None
    channel: OutcomeChannel = Field(description="event: on legalaid.bar-association.outcomes; rest: posted")
    recorded_at: datetime


class BarNoticeDetail(BarNoticeView):
    outcomes: list[BarOutcomeView] = Field(description="Every answer, oldest first")


async def bar_notice_in(conn: AsyncConnection, notice_id: str, *,
                        within: AgencyScope = EVERY_AGENCY) -> BarNoticeDetail:
    """One notice with every answer, as read inside a transaction (a command's answer too)."""
    row = (await conn.execute(select(bar_notices).where(bar_notices.c.notice_id == notice_id,
                                                        *_notices_of_scope(within))
                              )).mappings().first()
    if row is None:
        raise NotFound("no notice with this notice_id")
    outcomes = (await conn.execute(select(bar_notice_outcomes)
                                   .where(bar_notice_outcomes.c.notice_id == notice_id)
                                   .order_by(bar_notice_outcomes.c.recorded_at))).mappings().all()
    notice = _notice(row)
    return BarNoticeDetail(**notice.model_dump(), outcomes=[BarOutcomeView.model_validate(dict(o))
                                                            for o in outcomes])


async def bar_notice(engine: AsyncEngine, principal: Principal, notice_id: str) -> BarNoticeDetail:
    """One notice; not found outside the caller's scope (the bar association reads every one)."""
    async with engine.connect() as conn:
        return await bar_notice_in(conn, notice_id, within=_notice_scope(principal))


def _unanswered(reminder_days: int, at: datetime, within: AgencyScope = EVERY_AGENCY) -> Select[Any]:
    return (select(bar_notices)
            .where(*_notices_of_scope(within), bar_notices.c.status == NoticeStatus.awaiting_answer,
                   bar_notices.c.issued_at <= at - timedelta(days=reminder_days))
            .order_by(bar_notices.c.issued_at, bar_notices.c.notice_id))


async def list_unanswered_notices(engine: AsyncEngine, principal: Principal, *, reminder_days: int,
                                  at: datetime, offset: int, limit: int) -> Page[BarNoticeView]:
    """Notices with no answer `reminder_days` after they were issued, oldest first, with how
    often each was chased; of the caller's scope."""
    query = _unanswered(reminder_days, at, _notice_scope(principal))
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_notice)


async def notices_to_chase(conn: AsyncConnection, *, reminder_days: int, at: datetime) -> list[BarNoticeView]:
    """Every notice unanswered past the period (the reminder job decides which is due again)."""
    return [_notice(r) for r in (await conn.execute(_unanswered(reminder_days, at))).mappings()]


# --- the duty record (R-SAN-5) --------------------------------------------------------------


class DutyLine(BaseModel):
    subject_id: str = Field(description="The lawyer's handler id, or the firm's institution id")
    name: str
    licence_number: str | None = None
    institution_id: str | None = Field(default=None, description="A lawyer's firm")
    institution_name: str | None = None
    counts: DutyCounts


class DutyRecordReport(BaseModel):
    year: int
    published_at: datetime | None = Field(description="When the bureau published the year; none: not yet")
    lawyers: list[DutyLine]
    firms: list[DutyLine]


def _counts(facts: list[Mapping[str, Any]]) -> DutyCounts:
    totals = dict.fromkeys(COUNTED, 0)
    for fact in facts:
        for column, (kind, grade) in COUNTED.items():
            if fact["kind"] == kind and (grade is None or fact["grade"] == grade):
                totals[column] += 1
    return DutyCounts(**totals)


async def _identities(conn: AsyncConnection, handler_ids: set[str]) -> dict[str, Mapping[str, Any]]:
    """Who each handler is, from their latest fact that says so."""
    query = (select(duty_facts)
             .where(duty_facts.c.handler_id.in_(handler_ids), duty_facts.c.handler_name.is_not(None))
             .order_by(duty_facts.c.at.desc(), duty_facts.c.fact_id))
    latest: dict[str, Mapping[str, Any]] = {}
    for row in (await conn.execute(query)).mappings():
        latest.setdefault(row["handler_id"], row)
    return latest


async def duty_record_in(conn: AsyncConnection, year: int, *,
                         subject_id: str | None = None) -> DutyRecordReport:
    """Each lawyer's and each law firm's facts of `year` counted (a firm's: its lawyers'); of one
    lawyer or firm when `subject_id` is given. Ordered by name."""
    facts = [dict(r) for r in (await conn.execute(select(duty_facts).where(duty_facts.c.year == year)))
             .mappings()]
    who = await _identities(conn, {f["handler_id"] for f in facts})
    by_lawyer: dict[str, list[Mapping[str, Any]]] = {}
    by_firm: dict[str, list[Mapping[str, Any]]] = {}
    for fact in facts:
        identity = who.get(fact["handler_id"])
        if identity is None or identity["handler_kind"] != HandlerKind.lawyer:
            continue
        by_lawyer.setdefault(fact["handler_id"], []).append(fact)
        firm = fact["institution_id"] or identity["institution_id"]
        if firm:
            by_firm.setdefault(firm, []).append(fact)
    firm_names = {f["institution_id"]: f["institution_name"] for f in facts if f["institution_name"]}
    firm_names |= {w["institution_id"]: w["institution_name"] for w in who.values() if w["institution_name"]}
    lawyers = [DutyLine(subject_id=h, name=who[h]["handler_name"], licence_number=who[h]["licence_number"],
                        institution_id=who[h]["institution_id"], institution_name=who[h]["institution_name"],
                        counts=_counts(f)) for h, f in by_lawyer.items()]
    firms = [DutyLine(subject_id=i, name=firm_names.get(i) or i, counts=_counts(f))
             for i, f in by_firm.items()]
    if subject_id is not None:
        lawyers = [line for line in lawyers if line.subject_id == subject_id]
        firms = [line for line in firms if line.subject_id == subject_id]
    published = (await conn.execute(select(duty_years.c.published_at)
                                    .where(duty_years.c.year == year))).scalar()
    return DutyRecordReport(year=year, published_at=published,
                            lawyers=sorted(lawyers, key=lambda line: (line.name, line.subject_id)),
                            firms=sorted(firms, key=lambda line: (line.name, line.subject_id)))


async def duty_record(engine: AsyncEngine, year: int, *, subject_id: str | None = None) -> DutyRecordReport:
    async with engine.connect() as conn:
        return await duty_record_in(conn, year, subject_id=subject_id)


# --- the commendation list (R-SAN-6) --------------------------------------------------------


class CommendationListView(BaseModel):
    period: str
    status: str = Field(
        description="draft: computed from the evaluations so far; confirmed: frozen by the bureau")
    rule: str = Field(description="The order: excellent cases, then excellent-and-good rate, then fewest "
                                  "fails, then name")
    handlers: list[CommendedEntry]
    institutions: list[CommendedEntry]
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None


async def tallies_in(conn: AsyncConnection, period: Period) -> tuple[list[Tally], list[Tally]]:
    """Each handler's and each institution's peer evaluations completed in the period."""
    start, end = period.bounds()
    graded = [dict(r) for r in (await conn.execute(select(duty_facts).where(
        duty_facts.c.kind == DutyFact.graded, duty_facts.c.at >= start, duty_facts.c.at < end))).mappings()]

    def tally(subject_id: str, name: str, institution_name: str | None,
              facts: list[Mapping[str, Any]]) -> Tally:
        grades = [f["grade"] for f in facts]
        return Tally(subject_id=subject_id, name=name, institution_name=institution_name,
                     excellent=grades.count(Grade.excellent), good=grades.count(Grade.good),
                     evaluated=len(grades), failed=grades.count(Grade.fail))

    by_handler: dict[str, list[Mapping[str, Any]]] = {}
    by_institution: dict[str, list[Mapping[str, Any]]] = {}
    for fact in graded:
        by_handler.setdefault(fact["handler_id"], []).append(fact)
        by_institution.setdefault(fact["institution_id"], []).append(fact)
    handlers = [tally(h, f[-1]["handler_name"], f[-1]["institution_name"], f) for h, f in by_handler.items()]
    institutions = [tally(i, f[-1]["institution_name"], None, f) for i, f in by_institution.items()]
    return handlers, institutions


async def commendation_list(engine: AsyncEngine, period: Period) -> CommendationListView:
    """The confirmed list of the period, or else its draft as the evaluations now stand."""
    async with engine.connect() as conn:
        confirmed = (await conn.execute(select(commendation_lists).where(
            commendation_lists.c.period == str(period)))).mappings().first()
        if confirmed is not None:
            return CommendationListView.model_validate({**confirmed, "status": "confirmed"})
        handlers, institutions = await tallies_in(conn, period)
    return CommendationListView(period=str(period), status="draft", rule=RULE, handlers=ranked(handlers),
                                institutions=ranked(institutions))
