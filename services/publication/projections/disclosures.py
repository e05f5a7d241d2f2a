"""The rows a half-year's disclosure is built from (queries/disclosures.py reads them), folded
from evaluation's EvaluationCompleted and intake's CaseClosed (consumers.py).

One row per case in each table, keyed by the case id: a redelivered or re-published event
rewrites the same row instead of counting twice, and a later evaluation of the same case
replaces the earlier one. Neither table has a column for the aided person: the events carry
nothing of them, and nothing here could publish it by mistake.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, Index, false
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field

from services.publication.domain import Period
from services.publication.projections.base import PublicationTable
from shared.contracts import CaseClosed, EvaluationCompleted


class EvaluationResultRow(PublicationTable, table=True):
    """Annex 7: the latest peer-evaluation result of each case, with the half-year it falls in."""

    __tablename__ = "evaluation_results"
    __table_args__ = (Index("ix_evaluation_results_period", "period", "agency_id", "case_number"),)

    case_id: str = Field(primary_key=True)
    evaluation_id: str
    case_number: str
    case_kind: str
    agency_id: str
    grade: str
    institution_id: str
    institution_name: str
    handler_id: str
    handler_name: str
    handler_kind: str
    completed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    period: str


class ClosedCaseRow(PublicationTable, table=True):
    """Annexes 5 and 6 are counts of these: each closed case, its kind, institution and handler."""

    __tablename__ = "closed_cases"
    __table_args__ = (Index("ix_closed_cases_period", "period", "agency_id", "institution_id", "handler_id"),)

    case_id: str = Field(primary_key=True)
    case_number: str
    case_kind: str
    agency_id: str
    institution_id: str
    institution_name: str
    handler_id: str
    handler_name: str
    handler_kind: str
    group_case: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    closed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    period: str


evaluation_results = EvaluationResultRow.__table__
closed_cases = ClosedCaseRow.__table__


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
