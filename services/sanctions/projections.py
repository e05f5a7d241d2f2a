"""Sanctions' read models (SQLModel tables, exactly as the migrations create them: the schema
test compares the two) and the folds of its domain events into them, in the same transaction as
the append."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.sanctions.domain import (
    AGGREGATES,
    BarNoticeIssued,
    BarNoticeReminded,
    BarOutcomeRecorded,
    CommendationListConfirmed,
    ComplaintAnswered,
    ComplaintInvestigated,
    ComplaintLodged,
    ComplaintStatus,
    DutyFact,
    DutyYearPublished,
    EvidenceAdded,
    FindingsRecorded,
    HandlerReinstated,
    InvestigationAssigned,
    InvestigationClosed,
    InvestigationDecided,
    InvestigationOpened,
    InvestigationStatus,
    NoteAdded,
    NoticeStatus,
    OrganInformed,
    Origin,
    SuspensionDecided,
    SuspensionStatus,
    status_after,
    suspension_id_for,
    year_of,
)
from shared.clock import BEIJING
from shared.contracts import Grade, HandlerRef
from shared.projection import Projection, Recorded, Rows
from shared.store import driver
from shared.uow import UnitOfWork


class SanctionsTable(SQLModel, registry=registry()):
    """The base of this service's tables: their own metadata, so that no other service's
    table of the same name can collide with them when both are imported in one process."""


# --- tables ---------------------------------------------------------------------------------


class InvestigationRow(SanctionsTable, table=True):
    """One line per investigation of a failed case (no personal data of the aided person)."""

    __tablename__ = "investigations"

    investigation_id: str = Field(primary_key=True)
    evaluation_id: str | None = Field(default=None, unique=True)
    case_id: str = Field(index=True)
    case_number: str
    case_kind: str
    agency_id: str = Field(index=True)
    handler_id: str = Field(index=True)
    handler_name: str
    handler_kind: str
    licence_number: str | None = None
    institution_id: str = Field(index=True)
    institution_name: str
    findings: str
    status: str = Field(index=True)
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    version: int
    # The lifecycle (migration 0004): where it is, who investigates, until when, and how it ended.
    origin: str = Field(default=Origin.evaluation,
                        sa_column=Column(String, nullable=False, server_default=text("'evaluation'")))
    complaint_id: str | None = None
    bureau_id: str | None = Field(default=None, index=True)
    due_on: date | None = Field(default=None, index=True)
    assignee_id: str | None = Field(default=None, index=True)
    bureau_findings: str | None = None
    violation: bool | None = None
    measures: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False,
                                                                       server_default=text("'[]'")))
    reasoning: str | None = None
    suspension_id: str | None = None
    decided_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    organ_id: str | None = Field(default=None, index=True)
    informed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class NoteRow(SanctionsTable, table=True):
    """The investigators' notes on an investigation."""

    __tablename__ = "investigation_notes"

    note_id: str = Field(primary_key=True)
    investigation_id: str = Field(foreign_key="investigations.investigation_id", index=True)
    text: str
    author: str
    added_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class EvidenceRow(SanctionsTable, table=True):
    """References to the evidence an investigation relies on (kept elsewhere)."""

    __tablename__ = "investigation_evidence"

    evidence_id: str = Field(primary_key=True)
    investigation_id: str = Field(foreign_key="investigations.investigation_id", index=True)
    reference: str
    description: str
    added_by: str
    added_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ComplaintRow(SanctionsTable, table=True):
    """Complaints of aided persons (arts. 55-57), by case id: no identity of the aided person."""

    __tablename__ = "complaints"

    complaint_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    case_number: str
    agency_id: str = Field(index=True)
    bureau_id: str = Field(index=True)
    handler_id: str | None = None
    text: str
    received_on: date = Field(sa_column=Column(Date, nullable=False))
    answer_due_on: date = Field(sa_column=Column(Date, nullable=False, index=True))
    status: str = Field(index=True)
    recorded_by: str
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    investigation_id: str | None = None


class KnownCaseRow(SanctionsTable, table=True):
    """What sanctions learns of a case from intake (CaseRegistered: its agency, district and
    notifying organ) and assignment (CaseAssigned: its handler), for complaints, for informing the
    organ, and for scoping a district's bureau (migration 0006)."""

    __tablename__ = "known_cases"

    case_id: str = Field(primary_key=True)
    case_number: str
    case_kind: str | None = None  # None until its registration is heard of
    agency_id: str | None = None
    district: str | None = Field(default=None, index=True)
    source_system: str | None = None
    handler_id: str | None = None
    handler_name: str | None = None
    handler_kind: str | None = None
    licence_number: str | None = None
    institution_id: str | None = None
    institution_name: str | None = None


class BarNoticeRow(SanctionsTable, table=True):
    """The bureau's written notice to the bar association about a lawyer whose case failed."""

    __tablename__ = "bar_notices"

    notice_id: str = Field(primary_key=True)
    investigation_id: str = Field(unique=True, foreign_key="investigations.investigation_id")
    case_id: str = Field(index=True)
    case_number: str
    case_kind: str
    lawyer_id: str = Field(index=True)
    lawyer_name: str
    licence_number: str | None = None
    institution_id: str
    institution_name: str
    reason: str
    issued_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # What the bar association answered and how often it was chased (migration 0004, R-SAN-4).
    status: str = Field(sa_column=Column(String, nullable=False, index=True,
                                         server_default=NoticeStatus.awaiting_answer.value))
    discipline: str | None = None
    decided_on: date | None = None
    reference: str | None = None
    answered_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    reminders_sent: int = Field(sa_column=Column(Integer, nullable=False, server_default="0"))
    last_reminded_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class SuspensionRow(SanctionsTable, table=True):
    """The bureau's decisions to stop assigning cases to a handler (R-SAN-2)."""

    __tablename__ = "suspensions"

    suspension_id: str = Field(primary_key=True)
    handler_id: str = Field(index=True)
    agency_id: str | None = None
    investigation_id: str | None = None
    reason: str
    until: date | None = None
    status: str = Field(index=True)
    decided_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    reinstated_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    reinstatement_reason: str | None = None
    # Scope and period (migration 0004); decisions before carry none.
    scope: str | None = None
    case_id: str | None = None
    starts_on: date | None = None
    decided_by: str | None = None
    automatic: bool = Field(default=False, sa_column=Column(Boolean, nullable=False,
                                                            server_default=text("false")))


class BarOutcomeRow(SanctionsTable, table=True):
    """Each answer of the bar association to a notice, one per kind (R-SAN-4)."""

    __tablename__ = "bar_notice_outcomes"

    notice_id: str = Field(sa_column=Column(String, ForeignKey("bar_notices.notice_id"), primary_key=True))
    outcome: str = Field(primary_key=True)
    discipline: str | None = None
    decided_on: date | None = None
    reference: str | None = None
    channel: str
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DutyFactRow(SanctionsTable, table=True):
    """One thing that happened to a handler's case, as the duty record and the commendation list
    count it (R-SAN-5, R-SAN-6). Who the handler is may be unknown on a suspension's fact (it
    names the handler's id only): the reads take it from the handler's other facts."""

    __tablename__ = "duty_facts"

    fact_id: str = Field(primary_key=True)
    kind: str
    year: int = Field(index=True)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False, index=True))
    handler_id: str = Field(index=True)
    handler_name: str | None = None
    handler_kind: str | None = None
    licence_number: str | None = None
    institution_id: str | None = None
    institution_name: str | None = None
    case_id: str | None = None
    grade: str | None = None


class DutyYearRow(SanctionsTable, table=True):
    """A year whose duty records the bureau published to the bar association (R-SAN-5)."""

    __tablename__ = "duty_years"

    year: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    lawyers: int
    firms: int
    published_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CommendationListRow(SanctionsTable, table=True):
    """A commendation list the bureau confirmed, frozen as it then read (R-SAN-6)."""

    __tablename__ = "commendation_lists"

    period: str = Field(primary_key=True)
    rule: str
    handlers: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    institutions: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    confirmed_by: str
    confirmed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


investigations = InvestigationRow.__table__
bar_notices = BarNoticeRow.__table__
suspensions = SuspensionRow.__table__
notes = NoteRow.__table__
evidence = EvidenceRow.__table__
complaints = ComplaintRow.__table__
known_cases = KnownCaseRow.__table__
bar_notice_outcomes = BarOutcomeRow.__table__
duty_facts = DutyFactRow.__table__
duty_years = DutyYearRow.__table__
commendation_lists = CommendationListRow.__table__

# Both lists read newest first: descending indexes (migration 0001), which `Field(index=True)`
# cannot say.
Index("ix_investigations_opened_at", investigations.c.opened_at.desc())
Index("ix_bar_notices_issued_at", bar_notices.c.issued_at.desc())
Index("ix_complaints_recorded_at", complaints.c.recorded_at.desc())
Index("ix_suspensions_until", suspensions.c.until)

METADATA = SanctionsTable.metadata


# --- folds ----------------------------------------------------------------------------------

projection = Projection(*AGGREGATES)
"""The projector app.py hands to its ServiceSpec: one fold per domain event, and its in-memory twin
(the bottom of this module) for the batched rebuild."""
# Kept by the consumers from other services' events (consumers.py), not folded from this store:
# the cases known and the duty facts of assignments, declines, releases, closures and grades. A
# rebuild that emptied them could not fill them again (the events are the other services'), so it
# leaves them; the duty facts this store's events make (a sanction) are written again over them,
# kept once by their fact id.
HEARD_TABLES = [known_cases, duty_facts]
REBUILT_TABLES = [t for t in METADATA.sorted_tables if t not in HEARD_TABLES]
"""What `python -m services.sanctions rebuild` empties and fills again: every table folded from
sanctions' own store (in memory, then COPY; the duty facts of its sanctions afterwards, into the
table it leaves)."""


# A failed evaluation opens an investigation and, for a lawyer, issues a notice, in the consumer's
# transaction (R-SAN-1, R-SAN-4): issue 17's failure path. Its two folds go straight to asyncpg,
# as intake's registration does, and the notice reads the investigation it copies from in the
# statement that writes it: two round trips instead of three SQLAlchemy statements, each of
# which cost more to build than to run (docs/benchmarks.md "The failure path's own work").
_OPEN = """
INSERT INTO investigations (investigation_id, evaluation_id, case_id, case_number, case_kind, agency_id,
                            handler_id, handler_name, handler_kind, licence_number, institution_id,
                            institution_name, findings, status, opened_at, version, origin, complaint_id,
                            bureau_id, due_on)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
"""

_ISSUE_NOTICE = """
WITH opened AS (
    UPDATE investigations SET version = $2 WHERE investigation_id = $1
    RETURNING investigation_id, case_id, case_number, case_kind, handler_id, handler_name, licence_number,
              institution_id, institution_name)
INSERT INTO bar_notices (notice_id, investigation_id, case_id, case_number, case_kind, lawyer_id,
                         lawyer_name, licence_number, institution_id, institution_name, reason, issued_at)
SELECT $3, investigation_id, case_id, case_number, case_kind, handler_id, handler_name, licence_number,
       institution_id, institution_name, $4, $5
FROM opened
"""


@projection.on(InvestigationOpened)
async def investigation_opened(conn: AsyncConnection, event: InvestigationOpened, at: Recorded) -> None:
    handler = event.handler
    db = await driver(conn)
    await db.execute(
        _OPEN, event.investigation_id, event.evaluation_id, event.case_id, event.case_number,
        _value(event.case_kind), event.agency_id, handler.handler_id, handler.name, _value(handler.kind),
        handler.licence_number, handler.institution_id, handler.institution_name, event.findings,
        InvestigationStatus.open.value, event.opened_at, at.version, _value(event.origin), event.complaint_id,
        event.bureau_id, event.due_on,
    )


@projection.on(BarNoticeIssued)
async def bar_notice_issued(conn: AsyncConnection, event: BarNoticeIssued, at: Recorded) -> None:
    db = await driver(conn)
    status = await db.execute(_ISSUE_NOTICE, at.aggregate_id, at.version, event.notice_id, event.reason,
                              event.issued_at)
    if status.endswith(" 0"):  # "INSERT 0 0": the investigation it notifies was never opened
        raise LookupError(f"no investigation {at.aggregate_id} for notice {event.notice_id}")


@projection.on(SuspensionDecided)
async def suspension_decided(conn: AsyncConnection, event: SuspensionDecided, at: Recorded) -> None:
    await conn.execute(insert(suspensions).values(
        suspension_id=event.suspension_id, handler_id=event.handler_id, agency_id=event.agency_id,
        investigation_id=event.investigation_id, reason=event.reason, until=event.until,
        status=SuspensionStatus.in_force, decided_at=event.decided_at, scope=event.scope,
        case_id=event.case_id, starts_on=event.starts_on, decided_by=event.decided_by,
    ))


@projection.on(HandlerReinstated)
async def handler_reinstated(conn: AsyncConnection, event: HandlerReinstated, at: Recorded) -> None:
    await conn.execute(update(suspensions).where(suspensions.c.suspension_id == at.aggregate_id).values(
        status=SuspensionStatus.reinstated, reinstated_at=event.reinstated_at,
        reinstatement_reason=event.reason, automatic=event.automatic,
    ))


# --- the investigation's lifecycle ----------------------------------------------------------


async def _investigation(conn: AsyncConnection, at: Recorded, **values: object) -> None:
    await conn.execute(update(investigations).where(investigations.c.investigation_id == at.aggregate_id)
                       .values(version=at.version, **values))


@projection.on(InvestigationAssigned)
async def investigation_assigned(conn: AsyncConnection, event: InvestigationAssigned, at: Recorded) -> None:
    await _investigation(conn, at, assignee_id=event.assignee_id)


@projection.on(NoteAdded)
async def note_added(conn: AsyncConnection, event: NoteAdded, at: Recorded) -> None:
    await _investigation(conn, at)
    await conn.execute(insert(notes).values(note_id=event.note_id, investigation_id=at.aggregate_id,
                                            text=event.text, author=event.author, added_at=event.added_at))


@projection.on(EvidenceAdded)
async def evidence_added(conn: AsyncConnection, event: EvidenceAdded, at: Recorded) -> None:
    await _investigation(conn, at)
    await conn.execute(insert(evidence).values(
        evidence_id=event.evidence_id, investigation_id=at.aggregate_id, reference=event.reference,
        description=event.description, added_by=event.added_by, added_at=event.added_at))


@projection.on(FindingsRecorded)
async def findings_recorded(conn: AsyncConnection, event: FindingsRecorded, at: Recorded) -> None:
    await _investigation(conn, at, bureau_findings=event.findings)


@projection.on(InvestigationDecided)
async def investigation_decided(conn: AsyncConnection, event: InvestigationDecided, at: Recorded) -> None:
    suspends = event.suspension_months is not None or event.practice_suspension_months is not None
    await _investigation(conn, at, status=InvestigationStatus.decided, violation=event.violation,
                         measures=[m.value for m in event.measures], reasoning=event.reasoning,
                         decided_at=event.decided_at,
                         suspension_id=suspension_id_for(at.aggregate_id) if suspends else None)


@projection.on(InvestigationClosed)
async def investigation_closed(conn: AsyncConnection, event: InvestigationClosed, at: Recorded) -> None:
    await _investigation(conn, at, status=InvestigationStatus.closed, closed_at=event.closed_at)


@projection.on(OrganInformed)
async def organ_informed(conn: AsyncConnection, event: OrganInformed, at: Recorded) -> None:
    await _investigation(conn, at, organ_id=event.organ_id, informed_at=event.informed_at)


# --- complaints -----------------------------------------------------------------------------


@projection.on(ComplaintLodged)
async def complaint_lodged(conn: AsyncConnection, event: ComplaintLodged, at: Recorded) -> None:
    await conn.execute(insert(complaints).values(
        complaint_id=event.complaint_id, case_id=event.case_id, case_number=event.case_number,
        agency_id=event.agency_id, bureau_id=event.bureau_id, handler_id=event.handler_id, text=event.text,
        received_on=event.received_on, answer_due_on=event.answer_due_on, status=ComplaintStatus.lodged,
        recorded_by=event.recorded_by, recorded_at=event.recorded_at))


@projection.on(ComplaintAnswered)
async def complaint_answered(conn: AsyncConnection, event: ComplaintAnswered, at: Recorded) -> None:
    await conn.execute(update(complaints).where(complaints.c.complaint_id == at.aggregate_id).values(
        status=ComplaintStatus.answered, answer=event.answer, answered_by=event.answered_by,
        answered_at=event.answered_at))


@projection.on(ComplaintInvestigated)
async def complaint_investigated(conn: AsyncConnection, event: ComplaintInvestigated, at: Recorded) -> None:
    await conn.execute(update(complaints).where(complaints.c.complaint_id == at.aggregate_id).values(
        investigation_id=event.investigation_id))


# --- what other services tell of a case (not events of this service: consumers.py writes them) ---


async def remember_case(conn: AsyncConnection, *, case_id: str, case_number: str, case_kind: str,
                        agency_id: str, district: str, source_system: str | None) -> None:
    """A registered case: its agency, its district and the organ that notified it (CaseRegistered)."""
    values = {"case_number": case_number, "case_kind": case_kind, "agency_id": agency_id,
              "district": district, "source_system": source_system}
    await conn.execute(insert(known_cases).values(case_id=case_id, **values)
                       .on_conflict_do_update(index_elements=[known_cases.c.case_id], set_=values))


async def remember_handler(conn: AsyncConnection, *, case_id: str, case_number: str, handler_id: str,
                           handler_name: str, handler_kind: str, licence_number: str | None,
                           institution_id: str, institution_name: str) -> None:
    """The case's handler now (CaseAssigned); the case's registration may arrive after it."""
    handler = {"handler_id": handler_id, "handler_name": handler_name, "handler_kind": handler_kind,
               "licence_number": licence_number, "institution_id": institution_id,
               "institution_name": institution_name}
    await conn.execute(insert(known_cases).values(case_id=case_id, case_number=case_number, **handler)
                       .on_conflict_do_update(index_elements=[known_cases.c.case_id], set_=handler))
# --- the bar association's answers and reminders (R-SAN-4) ----------------------------------


@projection.on(BarOutcomeRecorded)
async def bar_outcome_recorded(conn: AsyncConnection, event: BarOutcomeRecorded, at: Recorded) -> None:
    await conn.execute(insert(bar_notice_outcomes).values(
        notice_id=event.notice_id, outcome=event.outcome, discipline=event.discipline,
        decided_on=event.decided_on, reference=event.reference, channel=event.channel,
        recorded_at=event.recorded_at,
    ))
    values: dict[str, Any] = {"status": status_after(event.outcome),
                              "answered_at": func.coalesce(bar_notices.c.answered_at, event.recorded_at)}
    if event.outcome.concludes:
        values |= {"discipline": event.discipline, "decided_on": event.decided_on,
                   "reference": event.reference}
    notice = (await conn.execute(update(bar_notices).where(bar_notices.c.notice_id == event.notice_id)
                                 .values(**values).returning(*bar_notices.c))).mappings().one()
    if event.discipline is not None and event.decided_on is not None:
        await _fact(conn, f"discipline/{event.notice_id}", DutyFact.sanctioned,
                    datetime.combine(event.decided_on, datetime.min.time(), tzinfo=BEIJING),
                    handler_id=notice["lawyer_id"], handler_name=notice["lawyer_name"], handler_kind="lawyer",
                    licence_number=notice["licence_number"], institution_id=notice["institution_id"],
                    institution_name=notice["institution_name"], case_id=notice["case_id"])


@projection.on(BarNoticeReminded)
async def bar_notice_reminded(conn: AsyncConnection, event: BarNoticeReminded, at: Recorded) -> None:
    await conn.execute(update(bar_notices).where(bar_notices.c.notice_id == event.notice_id).values(
        reminders_sent=event.reminder, last_reminded_at=event.reminded_at))


# --- duty facts (R-SAN-5) and the yearly publication ----------------------------------------


def _fact_row(fact_id: str, kind: DutyFact, moment: datetime, *, handler_id: str,
              **columns: Any) -> dict[str, Any]:
    """A duty fact's row, every column named (those not given are null), counted in the Beijing
    year of its moment."""
    return dict.fromkeys(_FACT_COLUMNS) | dict(fact_id=fact_id, kind=kind.value, year=year_of(moment),
                                               at=moment, handler_id=handler_id, **columns)


async def _fact(conn: AsyncConnection, fact_id: str, kind: DutyFact, moment: datetime, *, handler_id: str,
                **columns: Any) -> None:
    row = _fact_row(fact_id, kind, moment, handler_id=handler_id, **columns)
    await conn.execute(insert(duty_facts).values(**row).on_conflict_do_nothing(index_elements=["fact_id"]))


# The table's own column names, in its order: nothing from outside reaches the statement's text.
_FACT_COLUMNS = [column.name for column in duty_facts.columns]
_QUEUED_FACT = (
    f"INSERT INTO duty_facts ({', '.join(_FACT_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join(f'${n}' for n in range(1, len(_FACT_COLUMNS) + 1))}) "
    "ON CONFLICT (fact_id) DO NOTHING")


def record_duty_fact(uow: UnitOfWork, fact_id: str, kind: DutyFact, moment: datetime,
                     handler: HandlerRef, *, case_id: str, grade: Grade | None = None) -> None:
    """One fact of another service's event (consumers.py); the same fact told again is kept once.
    Queued (`write_later`): no consumer's handler reads the duty facts, only the duty record's
    and the commendation list's queries do, so a consumer's batch writes its facts set-wise."""
    row = _fact_row(fact_id, kind, moment, handler_id=handler.handler_id, handler_name=handler.name,
                    handler_kind=handler.kind.value, licence_number=handler.licence_number,
                    institution_id=handler.institution_id, institution_name=handler.institution_name,
                    case_id=case_id, grade=grade.value if grade is not None else None)
    uow.write_later(_QUEUED_FACT, *(row[name] for name in _FACT_COLUMNS))


@projection.on(SuspensionDecided)
async def suspension_counted(conn: AsyncConnection, event: SuspensionDecided, at: Recorded) -> None:
    """A suspension from assignment is a sanction in the handler's duty record."""
    handler = {}
    if event.investigation_id is not None:
        row = (await conn.execute(select(investigations).where(
            investigations.c.investigation_id == event.investigation_id))).mappings().first()
        if row is not None and row["handler_id"] == event.handler_id:
            handler = {"handler_name": row["handler_name"], "handler_kind": row["handler_kind"],
                       "licence_number": row["licence_number"], "institution_id": row["institution_id"],
                       "institution_name": row["institution_name"], "case_id": row["case_id"]}
    await _fact(conn, f"suspension/{event.suspension_id}", DutyFact.sanctioned, event.decided_at,
                handler_id=event.handler_id, **handler)


@projection.on(DutyYearPublished)
async def duty_year_published(conn: AsyncConnection, event: DutyYearPublished, at: Recorded) -> None:
    await conn.execute(insert(duty_years).values(year=event.year, lawyers=event.lawyers, firms=event.firms,
                                                 published_at=event.published_at))


# --- recognition (R-SAN-6) ------------------------------------------------------------------


@projection.on(CommendationListConfirmed)
async def commendation_list_confirmed(conn: AsyncConnection, event: CommendationListConfirmed,
                                      at: Recorded) -> None:
    await conn.execute(insert(commendation_lists).values(
        period=event.period, rule=event.rule, handlers=[e.model_dump(mode="json") for e in event.handlers],
        institutions=[e.model_dump(mode="json") for e in event.institutions],
        confirmed_by=event.confirmed_by, confirmed_at=event.confirmed_at,
    ))


# --- the in-memory twins (the batched rebuild, shared/projection.py) ----------------------------
# Each leaves `Rows` as its fold above leaves the tables (services/sanctions/tests/test_rebuild.py
# compares both rebuilds). The columns an INSERT of a fold leaves to their server default
# (an investigation's measures, a notice's status and reminders, a suspension's `automatic`) are
# written with that default here: one COPY writes a column for every row or for none. The duty
# facts this store's events make are written into `duty_facts`, which the rebuild leaves (it holds
# what the consumers heard), afterwards, by the folds' own statement: once per fact id.


def _value(v: Any) -> Any:
    return v.value if isinstance(v, Enum) else v


def _fact_afterwards(rows: Rows, fact_id: str, kind: DutyFact, moment: datetime, *, handler_id: str,
                     **columns: Any) -> None:
    row = _fact_row(fact_id, kind, moment, handler_id=handler_id, **columns)
    rows.afterwards(_QUEUED_FACT, *(row[name] for name in _FACT_COLUMNS))


@projection.in_memory(InvestigationOpened)
def investigation_opened_row(rows: Rows, event: InvestigationOpened, at: Recorded) -> None:
    handler = event.handler
    rows.insert(investigations, investigation_id=event.investigation_id, evaluation_id=event.evaluation_id,
                case_id=event.case_id, case_number=event.case_number, case_kind=_value(event.case_kind),
                agency_id=event.agency_id, handler_id=handler.handler_id, handler_name=handler.name,
                handler_kind=_value(handler.kind), licence_number=handler.licence_number,
                institution_id=handler.institution_id, institution_name=handler.institution_name,
                findings=event.findings, status=InvestigationStatus.open.value, opened_at=event.opened_at,
                version=at.version, origin=_value(event.origin), complaint_id=event.complaint_id,
                bureau_id=event.bureau_id, due_on=event.due_on, measures=[])


@projection.in_memory(BarNoticeIssued)
def bar_notice_issued_row(rows: Rows, event: BarNoticeIssued, at: Recorded) -> None:
    opened = rows.update(investigations, at.aggregate_id, version=at.version)
    if opened is None:  # the fold's UPDATE finds no row either, and fails
        raise LookupError(f"no investigation {at.aggregate_id} for notice {event.notice_id}")
    rows.insert(bar_notices, notice_id=event.notice_id, investigation_id=at.aggregate_id,
                case_id=opened["case_id"], case_number=opened["case_number"], case_kind=opened["case_kind"],
                lawyer_id=opened["handler_id"], lawyer_name=opened["handler_name"],
                licence_number=opened["licence_number"], institution_id=opened["institution_id"],
                institution_name=opened["institution_name"], reason=event.reason, issued_at=event.issued_at,
                status=NoticeStatus.awaiting_answer.value, reminders_sent=0)


@projection.in_memory(SuspensionDecided)
def suspension_decided_row(rows: Rows, event: SuspensionDecided, at: Recorded) -> None:
    rows.insert(suspensions, suspension_id=event.suspension_id, handler_id=event.handler_id,
                agency_id=event.agency_id, investigation_id=event.investigation_id, reason=event.reason,
                until=event.until, status=SuspensionStatus.in_force.value, decided_at=event.decided_at,
                scope=_value(event.scope), case_id=event.case_id, starts_on=event.starts_on,
                decided_by=event.decided_by, automatic=False)


@projection.in_memory(HandlerReinstated)
def handler_reinstated_row(rows: Rows, event: HandlerReinstated, at: Recorded) -> None:
    rows.update(suspensions, at.aggregate_id, status=SuspensionStatus.reinstated.value,
                reinstated_at=event.reinstated_at, reinstatement_reason=event.reason,
                automatic=event.automatic)


def _investigation_row(rows: Rows, at: Recorded, **values: object) -> None:
    rows.update(investigations, at.aggregate_id, version=at.version, **values)


@projection.in_memory(InvestigationAssigned)
def investigation_assigned_row(rows: Rows, event: InvestigationAssigned, at: Recorded) -> None:
    _investigation_row(rows, at, assignee_id=event.assignee_id)


@projection.in_memory(NoteAdded)
def note_added_row(rows: Rows, event: NoteAdded, at: Recorded) -> None:
    _investigation_row(rows, at)
    rows.insert(notes, note_id=event.note_id, investigation_id=at.aggregate_id, text=event.text,
                author=event.author, added_at=event.added_at)


@projection.in_memory(EvidenceAdded)
def evidence_added_row(rows: Rows, event: EvidenceAdded, at: Recorded) -> None:
    _investigation_row(rows, at)
    rows.insert(evidence, evidence_id=event.evidence_id, investigation_id=at.aggregate_id,
                reference=event.reference, description=event.description, added_by=event.added_by,
                added_at=event.added_at)


@projection.in_memory(FindingsRecorded)
def findings_recorded_row(rows: Rows, event: FindingsRecorded, at: Recorded) -> None:
    _investigation_row(rows, at, bureau_findings=event.findings)


@projection.in_memory(InvestigationDecided)
def investigation_decided_row(rows: Rows, event: InvestigationDecided, at: Recorded) -> None:
    suspends = event.suspension_months is not None or event.practice_suspension_months is not None
    _investigation_row(rows, at, status=InvestigationStatus.decided.value, violation=event.violation,
                       measures=[m.value for m in event.measures], reasoning=event.reasoning,
                       decided_at=event.decided_at,
                       suspension_id=suspension_id_for(at.aggregate_id) if suspends else None)


@projection.in_memory(InvestigationClosed)
def investigation_closed_row(rows: Rows, event: InvestigationClosed, at: Recorded) -> None:
    _investigation_row(rows, at, status=InvestigationStatus.closed.value, closed_at=event.closed_at)


@projection.in_memory(OrganInformed)
def organ_informed_row(rows: Rows, event: OrganInformed, at: Recorded) -> None:
    _investigation_row(rows, at, organ_id=event.organ_id, informed_at=event.informed_at)


@projection.in_memory(ComplaintLodged)
def complaint_lodged_row(rows: Rows, event: ComplaintLodged, at: Recorded) -> None:
    rows.insert(complaints, complaint_id=event.complaint_id, case_id=event.case_id,
                case_number=event.case_number, agency_id=event.agency_id, bureau_id=event.bureau_id,
                handler_id=event.handler_id, text=event.text, received_on=event.received_on,
                answer_due_on=event.answer_due_on, status=ComplaintStatus.lodged.value,
                recorded_by=event.recorded_by, recorded_at=event.recorded_at)


@projection.in_memory(ComplaintAnswered)
def complaint_answered_row(rows: Rows, event: ComplaintAnswered, at: Recorded) -> None:
    rows.update(complaints, at.aggregate_id, status=ComplaintStatus.answered.value, answer=event.answer,
                answered_by=event.answered_by, answered_at=event.answered_at)


@projection.in_memory(ComplaintInvestigated)
def complaint_investigated_row(rows: Rows, event: ComplaintInvestigated, at: Recorded) -> None:
    rows.update(complaints, at.aggregate_id, investigation_id=event.investigation_id)


@projection.in_memory(BarOutcomeRecorded)
def bar_outcome_recorded_row(rows: Rows, event: BarOutcomeRecorded, at: Recorded) -> None:
    rows.insert(bar_notice_outcomes, notice_id=event.notice_id, outcome=_value(event.outcome),
                discipline=_value(event.discipline), decided_on=event.decided_on, reference=event.reference,
                channel=_value(event.channel), recorded_at=event.recorded_at)
    notice = rows.get(bar_notices, event.notice_id)
    if notice is None:  # the fold's UPDATE ... RETURNING finds no row either, and fails
        raise LookupError(f"no bar notice {event.notice_id}")
    notice["status"] = status_after(event.outcome).value
    if notice.get("answered_at") is None:
        notice["answered_at"] = event.recorded_at
    if event.outcome.concludes:
        notice.update(discipline=_value(event.discipline), decided_on=event.decided_on,
                      reference=event.reference)
    if event.discipline is not None and event.decided_on is not None:
        _fact_afterwards(rows, f"discipline/{event.notice_id}", DutyFact.sanctioned,
                         datetime.combine(event.decided_on, datetime.min.time(), tzinfo=BEIJING),
                         handler_id=notice["lawyer_id"], handler_name=notice["lawyer_name"],
                         handler_kind="lawyer", licence_number=notice["licence_number"],
                         institution_id=notice["institution_id"], institution_name=notice["institution_name"],
                         case_id=notice["case_id"])


@projection.in_memory(BarNoticeReminded)
def bar_notice_reminded_row(rows: Rows, event: BarNoticeReminded, at: Recorded) -> None:
    rows.update(bar_notices, event.notice_id, reminders_sent=event.reminder,
                last_reminded_at=event.reminded_at)


@projection.in_memory(SuspensionDecided)
def suspension_counted_row(rows: Rows, event: SuspensionDecided, at: Recorded) -> None:
    handler = {}
    if event.investigation_id is not None:
        row = rows.get(investigations, event.investigation_id)
        if row is not None and row["handler_id"] == event.handler_id:
            handler = {"handler_name": row["handler_name"], "handler_kind": row["handler_kind"],
                       "licence_number": row["licence_number"], "institution_id": row["institution_id"],
                       "institution_name": row["institution_name"], "case_id": row["case_id"]}
    _fact_afterwards(rows, f"suspension/{event.suspension_id}", DutyFact.sanctioned, event.decided_at,
                     handler_id=event.handler_id, **handler)


@projection.in_memory(DutyYearPublished)
def duty_year_published_row(rows: Rows, event: DutyYearPublished, at: Recorded) -> None:
    rows.insert(duty_years, year=event.year, lawyers=event.lawyers, firms=event.firms,
                published_at=event.published_at)


@projection.in_memory(CommendationListConfirmed)
def commendation_list_confirmed_row(rows: Rows, event: CommendationListConfirmed, at: Recorded) -> None:
    rows.insert(commendation_lists, period=event.period, rule=event.rule,
                handlers=[e.model_dump(mode="json") for e in event.handlers],
                institutions=[e.model_dump(mode="json") for e in event.institutions],
                confirmed_by=event.confirmed_by, confirmed_at=event.confirmed_at)
