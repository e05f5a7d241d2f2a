"""Intake's read models, folded from its own events in the same transaction as the append."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, case, func, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.store import RecordedEvent, driver, read_all


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
    reassignment_requested_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
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
    version: int


PROJECTION_TABLES = [CaseRow.__table__]
cases = CaseRow.__table__


def _case_id(event: RecordedEvent) -> str:
    return event.stream_id.removeprefix("case-")


_REGISTER = """
INSERT INTO cases (case_id, case_number, case_kind, cause, district, agency_id, group_case, status,
                   registered_at, version, criminal_stage, criminal_role, matter, source_system, external_reference,
                   previous_case_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'registered', $8, $9, $10, $11, $12, $13, $14, $15)
"""



def _t(value: str) -> datetime:
    return datetime.fromisoformat(value)


# What each event of a case's end sets on its row.
_END = {
    "ReassignmentRequested": lambda d: {"reassignment_requested_at": _t(d["requested_at"])},
    "AidTerminated": lambda d: {"status": "terminated", "terminated_at": _t(d["terminated_at"]),
                                "termination_reason": d["reason"]},
    "ReassignmentAccepted": lambda d: {"reassignment_accepted_at": _t(d["accepted_at"])},
    "ClosingChecked": lambda d: {"closing_check_passed": d["passed"], "closing_check_standard": d.get("standard"),
                                 "closing_check_failed_items": d.get("failed_items", [])},
    "ClosingCheckSignedOff": lambda d: {"signed_off_at": _t(d["signed_off_at"]), "signed_off_by": d["quality_lead_id"]},
    "NextStageRegistered": lambda d: {"next_case_id": d["next_case_id"]},
    "CaseArchived": lambda d: {"status": "archived", "archived_at": _t(d["archived_at"])},
    "FollowUpRecorded": lambda d: {"satisfaction": d["satisfaction"]},
    "DeadlineMissed": lambda d: {},  # the worklist computes overdue itself; the row keeps its version
}


def _milestone(column, at: datetime):
    """The earliest such work, counting only work done for the current handler."""
    return case((cases.c.reassigned_at.is_(None) | (cases.c.reassigned_at <= at),
                 func.least(func.coalesce(column, at), at)), else_=column)


async def project(conn: AsyncConnection, event: RecordedEvent) -> None:
    data = event.data
    if event.type == "CaseRegistered":
        # Registration is the hot path (every notification from a court lands here): straight to
        # asyncpg, in the same transaction, as the kernel's own writes are.
        db = await driver(conn)
        await db.execute(
            _REGISTER, data["case_id"], data["case_number"], data["case_kind"], data["cause"], data["district"],
            data["agency_id"], data["flags"]["group_case"], datetime.fromisoformat(data["registered_at"]),
            event.version, data.get("criminal_stage"), data.get("criminal_role"), data.get("matter"),
            data.get("source_system"), data.get("external_reference"), data.get("previous_case_id"),
        )
    elif event.type == "HandlerAssigned":
        h, at = data["handler"], datetime.fromisoformat(data["assigned_at"])
        change = ({"reassigned_at": at, "first_meeting_at": None, "mandate_signed_at": None}
                  if data.get("previous_handler") else {})
        await conn.execute(
            update(cases).where(cases.c.case_id == _case_id(event)).values(
                status="assigned", handler_id=h["handler_id"], handler_name=h["name"], handler_kind=h["kind"],
                institution_id=h["institution_id"], institution_name=h["institution_name"],
                assigned_at=at, first_assigned_at=func.coalesce(cases.c.first_assigned_at, at),
                reassignment_accepted_at=None, version=event.version, **change,
            )
        )
    elif event.type == "WorkRecorded":
        entry, at = data["entry"], datetime.fromisoformat(data["occurred_at"])
        values: dict = {"record_entries": cases.c.record_entries + 1, "version": event.version}
        if entry["kind"] == "meeting":
            values["first_meeting_at"] = _milestone(cases.c.first_meeting_at, at)
        elif entry["kind"] == "mandate" and entry["agreement_signed"] and entry["power_of_attorney_signed"]:
            values["mandate_signed_at"] = _milestone(cases.c.mandate_signed_at, at)
        await conn.execute(update(cases).where(cases.c.case_id == _case_id(event)).values(**values))
    elif event.type == "ClosingFileSubmitted":
        await conn.execute(update(cases).where(cases.c.case_id == _case_id(event)).values(
            closing_file_at=datetime.fromisoformat(data["submitted_at"]), version=event.version))
    elif event.type in _END:
        await conn.execute(update(cases).where(cases.c.case_id == _case_id(event)).values(
            **_END[event.type](data), version=event.version))
    elif event.type == "CaseClosed":
        await conn.execute(
            update(cases).where(cases.c.case_id == _case_id(event)).values(
                status="closed", outcome=data["outcome"], ended_on=date.fromisoformat(data["ended_on"]),
                closed_at=datetime.fromisoformat(data["closed_at"]), version=event.version,
            )
        )

METADATA = IntakeTable.metadata


async def rebuild(engine: AsyncEngine) -> int:
    """Empty intake's projections and fold every case event of the store into them again, in
    one transaction: readers see the old tables until it commits. TRUNCATE locks the tables, so
    a command that commits meanwhile waits and then projects onto the rebuilt ones. Returns how
    many events were folded."""
    folded = 0
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(t.name for t in PROJECTION_TABLES)}"))
        position = 0
        while batch := await read_all(conn, after_position=position):
            for event in batch:
                if event.stream_id.startswith("case-"):
                    await project(conn, event)
                    folded += 1
            position = batch[-1].position
    return folded
