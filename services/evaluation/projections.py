"""Evaluation's read models: the closed cases it has been told about (from intake's CaseClosed)
and the completed evaluations (folded from its own events in the same transaction as the
append)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.evaluation.domain import ClosedCase
from shared.contracts import CaseClosed, HandlerRef
from shared.store import RecordedEvent


class EvaluationTable(SQLModel, registry=registry()):
    """The base of this service's tables: their own metadata, so that no other service's
    table of the same name can collide with them when both are imported in one process."""


class ClosedCaseRow(EvaluationTable, table=True):
    """A closed case and, once graded, its evaluation. No personal data of the aided person."""

    __tablename__ = "closed_cases"

    case_id: str = Field(primary_key=True)
    case_number: str
    case_kind: str = Field(index=True)
    district: str
    agency_id: str = Field(index=True)
    handler_id: str = Field(index=True)
    handler_name: str
    handler_kind: str
    licence_number: str | None = None
    institution_id: str = Field(index=True)
    institution_name: str
    closed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    evaluation_id: str | None = None


class EvaluationRow(EvaluationTable, table=True):
    __tablename__ = "evaluations"

    evaluation_id: str = Field(primary_key=True)
    case_id: str = Field(unique=True)
    case_number: str
    case_kind: str
    agency_id: str = Field(index=True)
    handler_id: str = Field(index=True)
    handler_name: str
    handler_kind: str
    licence_number: str | None = None
    institution_id: str = Field(index=True)
    institution_name: str
    standard: str
    indicators: dict = Field(sa_column=Column(JSONB, nullable=False))
    grade: str = Field(index=True)
    rule_version: str
    reviewer_id: str
    reviewer_institution_id: str
    findings: str
    completed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    version: int


closed_cases = ClosedCaseRow.__table__
evaluations = EvaluationRow.__table__


# --- closed cases, from intake --------------------------------------------------------------


async def record_closed_case(conn: AsyncConnection, event: CaseClosed) -> None:
    """Remember a closed case; a second report of the same closure changes nothing."""
    h = event.handler
    await conn.execute(
        insert(closed_cases).values(
            case_id=event.case_id, case_number=event.case_number, case_kind=event.case_kind,
            district=event.district, agency_id=event.agency_id, handler_id=h.handler_id, handler_name=h.name,
            handler_kind=h.kind, licence_number=h.licence_number, institution_id=h.institution_id,
            institution_name=h.institution_name, closed_at=event.closed_at,
        ).on_conflict_do_nothing(index_elements=["case_id"])
    )


async def closed_case_for_update(conn: AsyncConnection, case_id: str) -> ClosedCase | None:
    """The closed case, locked until the transaction ends: two reviewers grading the same case
    at once are serialised here, so the second sees the first's evaluation."""
    row = (await conn.execute(
        select(closed_cases).where(closed_cases.c.case_id == case_id).with_for_update()
    )).mappings().first()
    if row is None:
        return None
    return ClosedCase(
        case_id=row["case_id"], case_number=row["case_number"], case_kind=row["case_kind"],
        agency_id=row["agency_id"], closed_at=row["closed_at"], evaluation_id=row["evaluation_id"],
        handler=HandlerRef(handler_id=row["handler_id"], name=row["handler_name"], kind=row["handler_kind"],
                           licence_number=row["licence_number"], institution_id=row["institution_id"],
                           institution_name=row["institution_name"]),
    )


# --- evaluation's own events ----------------------------------------------------------------


async def project(conn: AsyncConnection, event: RecordedEvent) -> None:
    if event.type != "EvaluationCompleted":
        return
    data, h = event.data, event.data["handler"]
    await conn.execute(
        insert(evaluations).values(
            evaluation_id=data["evaluation_id"], case_id=data["case_id"], case_number=data["case_number"],
            case_kind=data["case_kind"], agency_id=data["agency_id"], handler_id=h["handler_id"],
            handler_name=h["name"], handler_kind=h["kind"], licence_number=h.get("licence_number"),
            institution_id=h["institution_id"],
            institution_name=h["institution_name"], standard=data["standard"], indicators=data["indicators"],
            grade=data["grade"], rule_version=data["rule_version"], reviewer_id=data["reviewer_id"],
            reviewer_institution_id=data["reviewer_institution_id"], findings=data["findings"],
            completed_at=datetime.fromisoformat(data["completed_at"]), version=event.version,
        )
    )
    await conn.execute(
        update(closed_cases).where(closed_cases.c.case_id == data["case_id"])
        .values(evaluation_id=data["evaluation_id"])
    )

METADATA = EvaluationTable.metadata
