"""Intake's read models, folded from its own events in the same transaction as the append."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.store import RecordedEvent


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
    institution_id: str | None = None
    institution_name: str | None = None
    registered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    assigned_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    ended_on: date | None = None
    outcome: str | None = None
    version: int


PROJECTION_TABLES = [CaseRow.__table__]
cases = CaseRow.__table__


def _case_id(event: RecordedEvent) -> str:
    return event.stream_id.removeprefix("case-")


async def project(conn: AsyncConnection, event: RecordedEvent) -> None:
    data = event.data
    if event.type == "CaseRegistered":
        await conn.execute(
            insert(cases).values(
                case_id=data["case_id"], case_number=data["case_number"], case_kind=data["case_kind"],
                cause=data["cause"], district=data["district"], agency_id=data["agency_id"],
                group_case=data["flags"]["group_case"], status="registered",
                registered_at=datetime.fromisoformat(data["registered_at"]), version=event.version,
            )
        )
    elif event.type == "HandlerAssigned":
        h = data["handler"]
        await conn.execute(
            update(cases).where(cases.c.case_id == _case_id(event)).values(
                status="assigned", handler_id=h["handler_id"], handler_name=h["name"], handler_kind=h["kind"],
                institution_id=h["institution_id"], institution_name=h["institution_name"],
                assigned_at=datetime.fromisoformat(data["assigned_at"]), version=event.version,
            )
        )
    elif event.type == "CaseClosed":
        await conn.execute(
            update(cases).where(cases.c.case_id == _case_id(event)).values(
                status="closed", outcome=data["outcome"], ended_on=date.fromisoformat(data["ended_on"]),
                closed_at=datetime.fromisoformat(data["closed_at"]), version=event.version,
            )
        )

METADATA = IntakeTable.metadata
