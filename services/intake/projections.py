"""Intake's tables: the case list (a read model, folded from the cases' events in the same
transaction as the append, by the typed projection below) and the registrations' idempotency
keys (written by the registration itself, not a projection)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    case,
    func,
    insert,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.intake.domain.case import Case
from services.intake.domain.checklists import AgencyChecklist, ChecklistVersionFiled
from services.intake.domain.events import (
    AidTerminated,
    CaseArchived,
    CaseClosed,
    CaseRegistered,
    ClosingChecked,
    ClosingCheckSignedOff,
    ClosingFileSubmitted,
    DeadlineMissed,
    FollowUpRecorded,
    HandlerAssigned,
    NextStageRegistered,
    ReassignmentAccepted,
    ReassignmentRequested,
    WorkRecorded,
)
from services.intake.domain.record import Mandate, Meeting
from shared.projection import Projection, Recorded, Rows
from shared.projection import rebuild as rebuild_projection
from shared.store import driver


class IntakeTable(SQLModel, registry=registry()):
    """The base of this service's tables: their own metadata, so that no other service's
    table of the same name can collide with them when both are imported in one process."""


class CaseRow(IntakeTable, table=True):
    """One line per case: what the case list and the case page show (no personal data)."""

    __tablename__ = "cases"

    case_id: str = Field(primary_key=True)
    case_number: str = Field(unique=True)
    case_kind: str = Field(index=True)
    cause: str
    district: str = Field(index=True)
    agency_id: str = Field(index=True)
    group_case: bool = False
    status: str = Field(index=True)
    handler_id: str | None = Field(default=None, index=True)
    handler_name: str | None = None
    handler_kind: str | None = None
    institution_id: str | None = Field(default=None, index=True)
    institution_name: str | None = None
    registered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    assigned_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    ended_on: date | None = None
    outcome: str | None = None
    criminal_stage: str | None = None
    criminal_role: str | None = None
    matter: str | None = None
    source_system: str | None = None
    external_reference: str | None = None
    # The handling record's milestones that deadlines are met by (R-HDL-6, R-ASG-9).
    first_meeting_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    mandate_signed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    closing_file_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    record_entries: int = 0
    reassignment_requested_at: datetime | None = Field(default=None,
                                                       sa_column=Column(DateTime(timezone=True)))
    terminated_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    termination_reason: str | None = None
    closing_check_passed: bool | None = None
    archived_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    satisfaction: str | None = Field(default=None, description="The last follow-up's answer")
    # R-HDL-7: the cases of the previous and the next stage of a criminal case.
    previous_case_id: str | None = Field(default=None, index=True)
    next_case_id: str | None = None
    # A change of handler: the new handler's deadlines run from it, met only by work after it.
    reassigned_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    first_assigned_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    reassignment_accepted_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    closing_check_standard: str | None = None
    closing_check_failed_items: list | None = Field(default=None, sa_column=Column(JSONB))
    signed_off_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    signed_off_by: str | None = None
    # R-CHK-1: the checklist version the last check used, and each item it found missing, with why.
    closing_check_checklist_version: int | None = Field(default=None, sa_column=Column(Integer))
    closing_check_missing: list | None = Field(default=None, sa_column=Column(JSONB))
    version: int


class ChecklistVersionRow(IntakeTable, table=True):
    """One version of an agency's closing checklist of a kind (version 1, the seed, is in code)."""

    __tablename__ = "closing_checklist_versions"

    agency_id: str = Field(primary_key=True)
    case_kind: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    standard: str
    items: list = Field(sa_column=Column(JSONB, nullable=False))
    filed_by: str
    filed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class RegistrationKey(IntakeTable, table=True):
    """Write side, not a projection: a notification's (source system, external reference), a
    client's Idempotency-Key or a next stage's previous case, claimed by the registration in its
    own transaction (handlers._claim), so that one notification never makes two cases."""

    __tablename__ = "registration_keys"

    key: str = Field(primary_key=True)
    case_id: str


class WorkingCalendarYear(IntakeTable, table=True):
    """Reference data, not a projection: a year of China's official working days as loaded
    (migration 0007 from chinese-calendar, later years by `python -m services.intake calendar
    load`), with where it came from and who loaded it. Deadlines count working days only in these
    years, in Python (queries.calendar) and in SQL (intake_add_working_days) alike."""

    __tablename__ = "working_calendar_years"

    year: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    source: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str | None = Field(default=None, sa_column=Column(Text),
                               description="Of the file loaded; none for the library's data")
    loaded_by: str = Field(sa_column=Column(Text, nullable=False))
    loaded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class WorkingCalendarDay(IntakeTable, table=True):
    """A day its year's arrangement names: a day off of a holiday (`working` false) or a make-up
    working day on a weekend (true). Every other day of a loaded year works Monday to Friday."""

    __tablename__ = "working_calendar_days"

    day: date = Field(sa_column=Column(Date, primary_key=True))
    working: bool = Field(sa_column=Column(Boolean, nullable=False))
    holiday: str = Field(sa_column=Column(Text, nullable=False))
    year: int = Field(sa_column=Column(Integer, ForeignKey("working_calendar_years.year", ondelete="CASCADE"),
                                       nullable=False, index=True))


cases = CaseRow.__table__
checklist_versions = ChecklistVersionRow.__table__
working_calendar_years = WorkingCalendarYear.__table__
working_calendar_days = WorkingCalendarDay.__table__
# The list's order (newest first), and a notifying organ looking its case up by its own reference.
Index("ix_cases_registered_at", cases.c.registered_at.desc())
Index("ix_cases_source_reference", cases.c.source_system, cases.c.external_reference)
METADATA = IntakeTable.metadata
# What the projection writes (rebuilt from the store); registration_keys and the working calendar
# are not derived.
PROJECTION_TABLES = [cases, checklist_versions]
REBUILT_TABLES = PROJECTION_TABLES

projection = Projection(Case, AgencyChecklist)


def _row(at: Recorded) -> ColumnElement[bool]:
    return cases.c.case_id == at.aggregate_id


async def _set(conn: AsyncConnection, at: Recorded, **values: Any) -> None:
    """Set these values on the case's row, with the version of the event that set them."""
    await conn.execute(update(cases).where(_row(at)).values(**values, version=at.version))


_REGISTER = """
INSERT INTO cases (case_id, case_number, case_kind, cause, district, agency_id, group_case, status,
                   registered_at, version, criminal_stage, criminal_role, matter, source_system,
                   external_reference, previous_case_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'registered', $8, $9, $10, $11, $12, $13, $14, $15)
"""


def _text(value: str | None) -> str | None:
    return None if value is None else str(value)


@projection.on(CaseRegistered)
async def case_registered(conn: AsyncConnection, e: CaseRegistered, at: Recorded) -> None:
    # Registration is the hot path (every notification from a court lands here): straight to
    # asyncpg, in the same transaction, as the kernel's own writes are.
    db = await driver(conn)
    await db.execute(
        _REGISTER, e.case_id, e.case_number, str(e.case_kind), e.cause, e.district, e.agency_id,
        e.flags.group_case, e.registered_at, at.version, _text(e.criminal_stage), _text(e.criminal_role),
        _text(e.matter), e.source_system, e.external_reference, e.previous_case_id,
    )


@projection.on(HandlerAssigned)
async def handler_assigned(conn: AsyncConnection, e: HandlerAssigned, at: Recorded) -> None:
    h = e.handler
    # A change of handler: the new handler's milestones are met only by work done for them.
    change = ({"reassigned_at": e.assigned_at, "first_meeting_at": None, "mandate_signed_at": None}
              if e.previous_handler is not None else {})
    await _set(conn, at, status="assigned", handler_id=h.handler_id, handler_name=h.name,
               handler_kind=str(h.kind), institution_id=h.institution_id, institution_name=h.institution_name,
               assigned_at=e.assigned_at,
               first_assigned_at=func.coalesce(cases.c.first_assigned_at, e.assigned_at),
               reassignment_accepted_at=None, **change)


def _milestone(column: Any, at: datetime) -> Any:
    """The earliest such work, counting only work done for the current handler."""
    return case((cases.c.reassigned_at.is_(None) | (cases.c.reassigned_at <= at),
                 func.least(func.coalesce(column, at), at)), else_=column)


@projection.on(WorkRecorded)
async def work_recorded(conn: AsyncConnection, e: WorkRecorded, at: Recorded) -> None:
    values: dict[str, Any] = {"record_entries": cases.c.record_entries + 1}
    entry = e.entry
    if isinstance(entry, Meeting):
        values["first_meeting_at"] = _milestone(cases.c.first_meeting_at, e.occurred_at)
    elif isinstance(entry, Mandate) and entry.agreement_signed and entry.power_of_attorney_signed:
        values["mandate_signed_at"] = _milestone(cases.c.mandate_signed_at, e.occurred_at)
    await _set(conn, at, **values)


@projection.on(ClosingFileSubmitted)
async def closing_file_submitted(conn: AsyncConnection, e: ClosingFileSubmitted, at: Recorded) -> None:
    await _set(conn, at, closing_file_at=e.submitted_at)


@projection.on(ReassignmentRequested)
async def reassignment_requested(conn: AsyncConnection, e: ReassignmentRequested, at: Recorded) -> None:
    await _set(conn, at, reassignment_requested_at=e.requested_at)


@projection.on(ReassignmentAccepted)
async def reassignment_accepted(conn: AsyncConnection, e: ReassignmentAccepted, at: Recorded) -> None:
    await _set(conn, at, reassignment_accepted_at=e.accepted_at)


@projection.on(AidTerminated)
async def aid_terminated(conn: AsyncConnection, e: AidTerminated, at: Recorded) -> None:
    await _set(conn, at, status="terminated", terminated_at=e.terminated_at, termination_reason=str(e.reason))


@projection.on(CaseClosed)
async def case_closed(conn: AsyncConnection, e: CaseClosed, at: Recorded) -> None:
    await _set(conn, at, status="closed", outcome=e.outcome, ended_on=e.ended_on, closed_at=e.closed_at)


@projection.on(ClosingChecked)
async def closing_checked(conn: AsyncConnection, e: ClosingChecked, at: Recorded) -> None:
    await _set(conn, at, closing_check_passed=e.passed, closing_check_standard=e.standard,
               closing_check_failed_items=e.failed_items, closing_check_checklist_version=e.checklist_version,
               closing_check_missing=[m.model_dump(mode="json") for m in e.missing])


@projection.on(ChecklistVersionFiled)
async def checklist_version_filed(conn: AsyncConnection, e: ChecklistVersionFiled, at: Recorded) -> None:
    await conn.execute(insert(checklist_versions).values(
        agency_id=e.agency_id, case_kind=str(e.case_kind), version=e.version, standard=e.standard,
        items=[i.model_dump(mode="json") for i in e.items], filed_by=e.filed_by, filed_at=e.filed_at))


@projection.on(ClosingCheckSignedOff)
async def closing_check_signed_off(conn: AsyncConnection, e: ClosingCheckSignedOff, at: Recorded) -> None:
    await _set(conn, at, signed_off_at=e.signed_off_at, signed_off_by=e.quality_lead_id)


@projection.on(NextStageRegistered)
async def next_stage_registered(conn: AsyncConnection, e: NextStageRegistered, at: Recorded) -> None:
    await _set(conn, at, next_case_id=e.next_case_id)


@projection.on(CaseArchived)
async def case_archived(conn: AsyncConnection, e: CaseArchived, at: Recorded) -> None:
    await _set(conn, at, status="archived", archived_at=e.archived_at)


@projection.on(FollowUpRecorded)
async def follow_up_recorded(conn: AsyncConnection, e: FollowUpRecorded, at: Recorded) -> None:
    await _set(conn, at, satisfaction=str(e.satisfaction))


@projection.on(DeadlineMissed)
async def deadline_missed(conn: AsyncConnection, e: DeadlineMissed, at: Recorded) -> None:
    await _set(conn, at)  # the worklist computes overdue itself; the row keeps its version


# --- the in-memory twins: the batched rebuild folds into rows held in memory and writes each
# table once with COPY (shared.projection.rebuild). Each leaves the row as its SQL fold above
# leaves it; tests/test_rebuild.py compares the two rebuilds table by table.


def _case_row(rows: Rows, at: Recorded, **values: Any) -> dict[str, Any] | None:
    """As `_set`: the case's row with these values and the event's version; nothing when the row
    is missing (an UPDATE that matches nothing)."""
    return rows.update(cases, at.aggregate_id, **values, version=at.version)


@projection.in_memory(CaseRegistered)
def case_registered_row(rows: Rows, e: CaseRegistered, at: Recorded) -> None:
    rows.insert(cases, case_id=e.case_id, case_number=e.case_number, case_kind=str(e.case_kind),
                cause=e.cause, district=e.district, agency_id=e.agency_id, group_case=e.flags.group_case,
                status="registered", registered_at=e.registered_at, version=at.version,
                criminal_stage=_text(e.criminal_stage), criminal_role=_text(e.criminal_role),
                matter=_text(e.matter), source_system=e.source_system,
                external_reference=e.external_reference, previous_case_id=e.previous_case_id)


@projection.in_memory(HandlerAssigned)
def handler_assigned_row(rows: Rows, e: HandlerAssigned, at: Recorded) -> None:
    row = rows.get(cases, at.aggregate_id)
    if row is None:
        return
    h = e.handler
    change = ({"reassigned_at": e.assigned_at, "first_meeting_at": None, "mandate_signed_at": None}
              if e.previous_handler is not None else {})
    first = row.get("first_assigned_at")
    _case_row(rows, at, status="assigned", handler_id=h.handler_id, handler_name=h.name,
              handler_kind=str(h.kind), institution_id=h.institution_id, institution_name=h.institution_name,
              assigned_at=e.assigned_at, first_assigned_at=e.assigned_at if first is None else first,
              reassignment_accepted_at=None, **change)


def _milestone_of(row: dict[str, Any], name: str, at: datetime) -> Any:
    """`_milestone`, on a row in memory: the update's values all read the row as it was."""
    reassigned = row.get("reassigned_at")
    if reassigned is None or reassigned <= at:
        current = row.get(name)
        return at if current is None else min(current, at)
    return row.get(name)


@projection.in_memory(WorkRecorded)
def work_recorded_row(rows: Rows, e: WorkRecorded, at: Recorded) -> None:
    row = rows.get(cases, at.aggregate_id)
    if row is None:
        return
    values: dict[str, Any] = {"record_entries": row.get("record_entries", 0) + 1}
    entry = e.entry
    if isinstance(entry, Meeting):
        values["first_meeting_at"] = _milestone_of(row, "first_meeting_at", e.occurred_at)
    elif isinstance(entry, Mandate) and entry.agreement_signed and entry.power_of_attorney_signed:
        values["mandate_signed_at"] = _milestone_of(row, "mandate_signed_at", e.occurred_at)
    _case_row(rows, at, **values)


@projection.in_memory(ClosingFileSubmitted)
def closing_file_submitted_row(rows: Rows, e: ClosingFileSubmitted, at: Recorded) -> None:
    _case_row(rows, at, closing_file_at=e.submitted_at)


@projection.in_memory(ReassignmentRequested)
def reassignment_requested_row(rows: Rows, e: ReassignmentRequested, at: Recorded) -> None:
    _case_row(rows, at, reassignment_requested_at=e.requested_at)


@projection.in_memory(ReassignmentAccepted)
def reassignment_accepted_row(rows: Rows, e: ReassignmentAccepted, at: Recorded) -> None:
    _case_row(rows, at, reassignment_accepted_at=e.accepted_at)


@projection.in_memory(AidTerminated)
def aid_terminated_row(rows: Rows, e: AidTerminated, at: Recorded) -> None:
    _case_row(rows, at, status="terminated", terminated_at=e.terminated_at, termination_reason=str(e.reason))


@projection.in_memory(CaseClosed)
def case_closed_row(rows: Rows, e: CaseClosed, at: Recorded) -> None:
    _case_row(rows, at, status="closed", outcome=e.outcome, ended_on=e.ended_on, closed_at=e.closed_at)


@projection.in_memory(ClosingChecked)
def closing_checked_row(rows: Rows, e: ClosingChecked, at: Recorded) -> None:
    _case_row(rows, at, closing_check_passed=e.passed, closing_check_standard=e.standard,
              closing_check_failed_items=e.failed_items, closing_check_checklist_version=e.checklist_version,
              closing_check_missing=[m.model_dump(mode="json") for m in e.missing])


@projection.in_memory(ChecklistVersionFiled)
def checklist_version_filed_row(rows: Rows, e: ChecklistVersionFiled, at: Recorded) -> None:
    rows.insert(checklist_versions, agency_id=e.agency_id, case_kind=str(e.case_kind), version=e.version,
                standard=e.standard, items=[i.model_dump(mode="json") for i in e.items], filed_by=e.filed_by,
                filed_at=e.filed_at)


@projection.in_memory(ClosingCheckSignedOff)
def closing_check_signed_off_row(rows: Rows, e: ClosingCheckSignedOff, at: Recorded) -> None:
    _case_row(rows, at, signed_off_at=e.signed_off_at, signed_off_by=e.quality_lead_id)


@projection.in_memory(NextStageRegistered)
def next_stage_registered_row(rows: Rows, e: NextStageRegistered, at: Recorded) -> None:
    _case_row(rows, at, next_case_id=e.next_case_id)


@projection.in_memory(CaseArchived)
def case_archived_row(rows: Rows, e: CaseArchived, at: Recorded) -> None:
    _case_row(rows, at, status="archived", archived_at=e.archived_at)


@projection.in_memory(FollowUpRecorded)
def follow_up_recorded_row(rows: Rows, e: FollowUpRecorded, at: Recorded) -> None:
    _case_row(rows, at, satisfaction=str(e.satisfaction))


@projection.in_memory(DeadlineMissed)
def deadline_missed_row(rows: Rows, e: DeadlineMissed, at: Recorded) -> None:
    _case_row(rows, at)


async def rebuild(engine: AsyncEngine) -> int:
    """Empty intake's projections and fold every case event of the store into them again,
    through the same projection as every command, in one transaction: readers see the old
    tables until it commits. TRUNCATE locks the tables, so a command that commits meanwhile
    waits and then projects onto the rebuilt ones. Returns how many events were folded."""
    return (await rebuild_projection(engine, projection, REBUILT_TABLES)).folded
