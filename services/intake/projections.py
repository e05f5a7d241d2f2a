"""Intake's read models, folded from its own events in the same transaction as the append."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.store import RecordedEvent, driver


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


_REGISTER = """
INSERT INTO cases (case_id, case_number, case_kind, cause, district, agency_id, group_case, status,
                   registered_at, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'registered', $8, $9)
"""


async def project(conn: AsyncConnection, event: RecordedEvent) -> None:
    data = event.data
    if event.type == "CaseRegistered":
        # Registration is the hot path (every notification from a court lands here): straight to
        # asyncpg, in the same transaction, as the kernel's own writes are.
        db = await driver(conn)
        await db.execute(
            _REGISTER, data["case_id"], data["case_number"], data["case_kind"], data["cause"], data["district"],
            data["agency_id"], data["flags"]["group_case"], datetime.fromisoformat(data["registered_at"]),
            event.version,
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
