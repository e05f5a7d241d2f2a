"""Sanctions' read models (SQLModel tables, exactly as the migrations create them: the schema
test compares the two) and the folds of its domain events into them, in the same transaction as
the append."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, func, select, update
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
    DutyFact,
    DutyYearPublished,
    HandlerReinstated,
    InvestigationOpened,
    InvestigationStatus,
    NoticeStatus,
    SuspensionDecided,
    SuspensionStatus,
    status_after,
    year_of,
)
from shared.clock import BEIJING
from shared.contracts import Grade, HandlerRef
from shared.projection import Projection, Recorded


class SanctionsTable(SQLModel, registry=registry()):
    """The base of this service's tables: their own metadata, so that no other service's
    table of the same name can collide with them when both are imported in one process."""


# --- tables ---------------------------------------------------------------------------------


class InvestigationRow(SanctionsTable, table=True):
    """One line per investigation of a failed case (no personal data of the aided person)."""

    __tablename__ = "investigations"

    investigation_id: str = Field(primary_key=True)
    evaluation_id: str = Field(unique=True)
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
bar_notice_outcomes = BarOutcomeRow.__table__
duty_facts = DutyFactRow.__table__
duty_years = DutyYearRow.__table__
commendation_lists = CommendationListRow.__table__

# Both lists read newest first: descending indexes (migration 0001), which `Field(index=True)`
# cannot say.
Index("ix_investigations_opened_at", investigations.c.opened_at.desc())
Index("ix_bar_notices_issued_at", bar_notices.c.issued_at.desc())

METADATA = SanctionsTable.metadata


# --- folds ----------------------------------------------------------------------------------

projection = Projection(*AGGREGATES)
"""The projector app.py hands to its ServiceSpec: one fold per domain event."""


@projection.on(InvestigationOpened)
async def investigation_opened(conn: AsyncConnection, event: InvestigationOpened, at: Recorded) -> None:
    handler = event.handler
    await conn.execute(insert(investigations).values(
        investigation_id=event.investigation_id, evaluation_id=event.evaluation_id, case_id=event.case_id,
        case_number=event.case_number, case_kind=event.case_kind, agency_id=event.agency_id,
        handler_id=handler.handler_id, handler_name=handler.name, handler_kind=handler.kind,
        licence_number=handler.licence_number, institution_id=handler.institution_id,
        institution_name=handler.institution_name, findings=event.findings, status=InvestigationStatus.open,
        opened_at=event.opened_at, version=at.version,
    ))


@projection.on(BarNoticeIssued)
async def bar_notice_issued(conn: AsyncConnection, event: BarNoticeIssued, at: Recorded) -> None:
    opened = (await conn.execute(
        update(investigations).where(investigations.c.investigation_id == at.aggregate_id)
        .values(version=at.version)
        .returning(*investigations.c)
    )).mappings().one()
    await conn.execute(insert(bar_notices).values(
        notice_id=event.notice_id, investigation_id=at.aggregate_id, case_id=opened["case_id"],
        case_number=opened["case_number"], case_kind=opened["case_kind"], lawyer_id=opened["handler_id"],
        lawyer_name=opened["handler_name"], licence_number=opened["licence_number"],
        institution_id=opened["institution_id"], institution_name=opened["institution_name"],
        reason=event.reason, issued_at=event.issued_at,
    ))


@projection.on(SuspensionDecided)
async def suspension_decided(conn: AsyncConnection, event: SuspensionDecided, at: Recorded) -> None:
    await conn.execute(insert(suspensions).values(
        suspension_id=event.suspension_id, handler_id=event.handler_id, agency_id=event.agency_id,
        investigation_id=event.investigation_id, reason=event.reason, until=event.until,
        status=SuspensionStatus.in_force, decided_at=event.decided_at,
    ))


@projection.on(HandlerReinstated)
async def handler_reinstated(conn: AsyncConnection, event: HandlerReinstated, at: Recorded) -> None:
    await conn.execute(update(suspensions).where(suspensions.c.suspension_id == at.aggregate_id).values(
        status=SuspensionStatus.reinstated, reinstated_at=event.reinstated_at,
        reinstatement_reason=event.reason,
    ))


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


async def _fact(conn: AsyncConnection, fact_id: str, kind: DutyFact, moment: datetime, *, handler_id: str,
                **columns: Any) -> None:
    await conn.execute(insert(duty_facts).values(
        fact_id=fact_id, kind=kind, year=year_of(moment), at=moment, handler_id=handler_id, **columns,
    ).on_conflict_do_nothing(index_elements=["fact_id"]))


async def record_duty_fact(conn: AsyncConnection, fact_id: str, kind: DutyFact, moment: datetime,
                           handler: HandlerRef, *, case_id: str, grade: Grade | None = None) -> None:
    """One fact of another service's event (consumers.py); the same fact told again is kept once."""
    await _fact(conn, fact_id, kind, moment, handler_id=handler.handler_id, handler_name=handler.name,
                handler_kind=handler.kind, licence_number=handler.licence_number,
                institution_id=handler.institution_id, institution_name=handler.institution_name,
                case_id=case_id, grade=grade)


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
