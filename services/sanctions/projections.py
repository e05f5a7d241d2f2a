"""Sanctions' read models (SQLModel tables, exactly as the migrations create them: the schema
test compares the two) and the folds of its domain events into them, in the same transaction as
the append."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Index, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.sanctions.domain import (
    AGGREGATES,
    BarNoticeIssued,
    HandlerReinstated,
    InvestigationOpened,
    InvestigationStatus,
    SuspensionDecided,
    SuspensionStatus,
)
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


investigations = InvestigationRow.__table__
bar_notices = BarNoticeRow.__table__
suspensions = SuspensionRow.__table__

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
