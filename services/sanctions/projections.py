"""Sanctions' read models, folded from its own events in the same transaction as the append."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.store import RecordedEvent


class SanctionsTable(SQLModel, registry=registry()):
    """The base of this service's tables: their own metadata, so that no other service's
    table of the same name can collide with them when both are imported in one process."""


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
    investigation_id: str = Field(unique=True)
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
suspensions = SuspensionRow.__table__
bar_notices = BarNoticeRow.__table__


def _investigation_id(event: RecordedEvent) -> str:
    return event.stream_id.removeprefix("investigation-")


async def _project_suspension(conn: AsyncConnection, event: RecordedEvent) -> None:
    data = event.data
    if event.type == "SuspensionDecided":
        await conn.execute(insert(suspensions).values(
            suspension_id=data["suspension_id"], handler_id=data["handler_id"], agency_id=data["agency_id"],
            investigation_id=data["investigation_id"], reason=data["reason"],
            until=date.fromisoformat(data["until"]) if data["until"] else None, status="in_force",
            decided_at=datetime.fromisoformat(data["decided_at"]),
        ))
    else:
        await conn.execute(update(suspensions)
                           .where(suspensions.c.suspension_id == event.stream_id.removeprefix("suspension-"))
                           .values(status="reinstated", reinstated_at=datetime.fromisoformat(data["reinstated_at"]),
                                   reinstatement_reason=data["reason"]))


async def project(conn: AsyncConnection, event: RecordedEvent) -> None:
    data = event.data
    if event.type in {"SuspensionDecided", "HandlerReinstated"}:
        await _project_suspension(conn, event)
    elif event.type == "InvestigationOpened":
        h = data["handler"]
        await conn.execute(
            insert(investigations).values(
                investigation_id=data["investigation_id"], evaluation_id=data["evaluation_id"],
                case_id=data["case_id"], case_number=data["case_number"], case_kind=data["case_kind"],
                agency_id=data["agency_id"], handler_id=h["handler_id"], handler_name=h["name"],
                handler_kind=h["kind"], licence_number=h.get("licence_number"), institution_id=h["institution_id"],
                institution_name=h["institution_name"], findings=data["findings"], status="open",
                opened_at=datetime.fromisoformat(data["opened_at"]), version=event.version,
            )
        )
    elif event.type == "BarNoticeIssued":
        investigation_id = _investigation_id(event)
        opened = (await conn.execute(
            update(investigations).where(investigations.c.investigation_id == investigation_id)
            .values(version=event.version)
            .returning(*investigations.c)
        )).mappings().one()
        await conn.execute(
            insert(bar_notices).values(
                notice_id=data["notice_id"], investigation_id=investigation_id, case_id=opened["case_id"],
                case_number=opened["case_number"], case_kind=opened["case_kind"], lawyer_id=opened["handler_id"],
                lawyer_name=opened["handler_name"], licence_number=opened["licence_number"],
                institution_id=opened["institution_id"], institution_name=opened["institution_name"],
                reason=data["reason"], issued_at=datetime.fromisoformat(data["issued_at"]),
            )
        )

METADATA = SanctionsTable.metadata
