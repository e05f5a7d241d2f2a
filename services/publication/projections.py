"""Publication's read models, folded from other services' events (consumers.py), and the
queries the disclosure is built from.

One row per case in each table, keyed by the case id: a redelivered or re-published event
rewrites the same row instead of counting twice, and a later evaluation of the same case
replaces the earlier one. Neither table has a column for the aided person: the events carry
nothing of them, and nothing here could publish it by mistake.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, Column, DateTime, Text, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.publication.domain import EvaluationResult, InstitutionCases, Period, PersonCases
from shared.contracts import CaseClosed, CaseKind, EvaluationCompleted
from shared.store import RecordedEvent


class PublicationTable(SQLModel, registry=registry()):
    """The base of this service's tables: their own metadata, so that no other service's
    table of the same name can collide with them when both are imported in one process."""


class EvaluationResultRow(PublicationTable, table=True):
    """Annex 7: the latest peer-evaluation result of each case, with the half-year it falls in."""

    __tablename__ = "evaluation_results"

    case_id: str = Field(primary_key=True)
    evaluation_id: str
    case_number: str = Field(index=True)
    case_kind: str
    agency_id: str = Field(index=True)
    grade: str
    institution_id: str
    institution_name: str
    handler_id: str
    handler_name: str
    handler_kind: str
    completed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    period: str = Field(index=True)


class ClosedCaseRow(PublicationTable, table=True):
    """Annexes 5 and 6 are counts of these: each closed case, its kind, institution and handler."""

    __tablename__ = "closed_cases"

    case_id: str = Field(primary_key=True)
    case_number: str
    case_kind: str
    agency_id: str = Field(index=True)
    institution_id: str
    institution_name: str
    handler_id: str
    handler_name: str
    handler_kind: str
    group_case: bool = False
    closed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    period: str = Field(index=True)


evaluation_results = EvaluationResultRow.__table__
closed_cases = ClosedCaseRow.__table__
PROJECTION_TABLES = [evaluation_results, closed_cases]


async def project(conn: AsyncConnection, event: RecordedEvent) -> None:
    """Publication appends no events of its own yet; its read models come from consumers.py."""
    return None


# --- folding other services' events ---------------------------------------------------------


async def record_evaluation(conn: AsyncConnection, event: EvaluationCompleted) -> None:
    h = event.handler
    values = dict(
        case_id=event.case_id, evaluation_id=event.evaluation_id, case_number=event.case_number,
        case_kind=event.case_kind.value, agency_id=event.agency_id, grade=event.grade.value,
        institution_id=h.institution_id, institution_name=h.institution_name, handler_id=h.handler_id,
        handler_name=h.name, handler_kind=h.kind.value, completed_at=event.completed_at,
        period=str(Period.of(event.completed_at)),
    )
    statement = insert(evaluation_results).values(**values)
    # A re-evaluation replaces the case's result; an older one arriving late (a replayed dead
    # letter) must not overwrite a newer one.
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[evaluation_results.c.case_id],
        set_={k: statement.excluded[k] for k in values if k != "case_id"},
        where=evaluation_results.c.completed_at <= statement.excluded.completed_at,
    ))


async def record_closure(conn: AsyncConnection, event: CaseClosed) -> None:
    h = event.handler
    values = dict(
        case_id=event.case_id, case_number=event.case_number, case_kind=event.case_kind.value,
        agency_id=event.agency_id, institution_id=h.institution_id, institution_name=h.institution_name,
        handler_id=h.handler_id, handler_name=h.name, handler_kind=h.kind.value, group_case=event.group_case,
        closed_at=event.closed_at, period=str(Period.of(event.closed_at)),
    )
    statement = insert(closed_cases).values(**values)
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[closed_cases.c.case_id],
        set_={k: statement.excluded[k] for k in values if k != "case_id"},
        where=closed_cases.c.closed_at <= statement.excluded.closed_at,
    ))


# --- reading a period ------------------------------------------------------------------------


def _latest(column: Column) -> object:
    """The value of the most recent closure: a renamed firm is published under its new name."""
    return func.array_agg(aggregate_order_by(column, closed_cases.c.closed_at.desc()), type_=ARRAY(Text))[1]


def _counts_by_kind() -> list:
    return [func.count().filter(closed_cases.c.case_kind == kind.value).label(kind.value) for kind in CaseKind] + [
        func.count().label("total")]


async def read_evaluations(conn: AsyncConnection, period: Period, agency_id: str | None) -> list[EvaluationResult]:
    t = evaluation_results
    where = [t.c.period == str(period)] + ([t.c.agency_id == agency_id] if agency_id else [])
    rows = (await conn.execute(
        select(t.c.period, t.c.agency_id, t.c.case_number, t.c.case_kind, t.c.grade, t.c.institution_name,
               t.c.handler_name).where(*where).order_by(t.c.case_number)
    )).mappings().all()
    return [EvaluationResult.model_validate(dict(r)) for r in rows]


async def read_cases_per_institution(conn: AsyncConnection, period: Period,
                                     agency_id: str | None) -> list[InstitutionCases]:
    t = closed_cases
    where = [t.c.period == str(period)] + ([t.c.agency_id == agency_id] if agency_id else [])
    name = _latest(t.c.institution_name).label("institution_name")
    rows = (await conn.execute(
        select(t.c.period, t.c.agency_id, t.c.institution_id, name, *_counts_by_kind())
        .where(*where).group_by(t.c.period, t.c.agency_id, t.c.institution_id)
        .order_by(t.c.agency_id, name, t.c.institution_id)
    )).mappings().all()
    return [InstitutionCases.model_validate(dict(r)) for r in rows]


async def read_cases_per_person(conn: AsyncConnection, period: Period, agency_id: str | None) -> list[PersonCases]:
    t = closed_cases
    where = [t.c.period == str(period)] + ([t.c.agency_id == agency_id] if agency_id else [])
    institution = _latest(t.c.institution_name).label("institution_name")
    handler = _latest(t.c.handler_name).label("handler_name")
    rows = (await conn.execute(
        select(t.c.period, t.c.agency_id, t.c.institution_id, institution, t.c.handler_id, handler,
               _latest(t.c.handler_kind).label("handler_kind"), *_counts_by_kind())
        .where(*where).group_by(t.c.period, t.c.agency_id, t.c.institution_id, t.c.handler_id)
        .order_by(t.c.agency_id, institution, handler, t.c.handler_id)
    )).mappings().all()
    return [PersonCases.model_validate(dict(r)) for r in rows]

METADATA = PublicationTable.metadata
