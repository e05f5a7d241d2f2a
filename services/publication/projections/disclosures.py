"""The rows a disclosure's draft is built from (queries/disclosures.py reads them), and the published
disclosures, frozen.

The rows are folded from publication's own fact events (domain.py: ClosureNoted, GradeNoted,
SubsidyPaymentNoted), which consumers.py records from intake's CaseClosed and evaluation's
EvaluationCompleted and SubsidyPaid: the same events a published disclosure is rebuilt from as of its
cut-off. One row per case in each table, keyed by the case id: a redelivered or re-published event
rewrites the same row instead of counting twice, and a later closure or evaluation of the same case
replaces the earlier one (an older one arriving late does not). No table has a column for the aided
person: the events carry nothing of them, and nothing here could publish it by mistake.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Column, Date, DateTime, Index, Numeric, Text, UniqueConstraint, false
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field

from services.publication.domain import (
    ClosureNoted,
    Disclosure,
    GradeNoted,
    Period,
    SubsidyPaymentNoted,
    scope_key,
)
from services.publication.projections.base import PublicationTable, Recorded, projection
from shared.projection import Rows


class EvaluationResultRow(PublicationTable, table=True):
    """Annex 7: the latest final peer-evaluation result of each case. `period` is the half-year of
    the grading (kept for older readers); a draft places the grade by its case's end day."""

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
    """Annexes 5 and 6 are counts of these: each closed case, its kind, institution and handler, and
    the day it ended (which places it in a period). `period` is the half-year of that day."""

    __tablename__ = "closed_cases"
    __table_args__ = (Index("ix_closed_cases_period", "period", "agency_id", "institution_id", "handler_id"),
                      Index("ix_closed_cases_ended_on", "ended_on"))

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
    ended_on: date = Field(sa_column=Column(Date, nullable=False))
    district: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    criminal_role: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class SubsidyPaymentRow(PublicationTable, table=True):
    """Annex 4: each case's subsidy paid, on the day it was paid."""

    __tablename__ = "subsidy_payments"
    __table_args__ = (Index("ix_subsidy_payments_paid_on", "paid_on", "agency_id"),)

    case_id: str = Field(primary_key=True)
    case_number: str
    case_kind: str
    agency_id: str
    institution_id: str
    institution_name: str
    handler_id: str
    handler_name: str
    amount: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    paid_on: date = Field(sa_column=Column(Date, nullable=False))


class PublishedDisclosureRow(PublicationTable, table=True):
    """A published disclosure, frozen: the document's JSON exactly as it was published, never
    rewritten; a correction is another row (the next version)."""

    __tablename__ = "published_disclosures"
    __table_args__ = (
        UniqueConstraint("scope_key", "period", "version", name="uq_published_disclosures_version"),)

    number: str = Field(primary_key=True)
    scope_key: str
    scope_level: str
    scope_id: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    scope_name: str
    period: str
    version: int
    title: str
    published_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    replaces: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    changes: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    document: str = Field(sa_column=Column(Text, nullable=False))


evaluation_results = EvaluationResultRow.__table__
closed_cases = ClosedCaseRow.__table__
subsidy_payments = SubsidyPaymentRow.__table__
published_disclosures = PublishedDisclosureRow.__table__


async def _upsert(conn: AsyncConnection, table: Any, values: dict[str, Any], newer: Any) -> None:
    statement = insert(table).values(**values)
    await conn.execute(statement.on_conflict_do_update(
        index_elements=[table.c.case_id],
        set_={k: statement.excluded[k] for k in values if k != "case_id"},
        where=newer(table.c, statement.excluded),
    ))


@projection.on(ClosureNoted)
async def closure_noted(conn: AsyncConnection, event: ClosureNoted, at: Recorded) -> None:
    values = event.model_dump(mode="python")
    values |= dict(case_kind=event.case_kind.value, period=str(Period.containing(event.ended_on)))
    await _upsert(conn, closed_cases, values, lambda t, new: t.closed_at <= new.closed_at)


@projection.on(GradeNoted)
async def grade_noted(conn: AsyncConnection, event: GradeNoted, at: Recorded) -> None:
    values = event.model_dump(mode="python")
    values |= dict(case_kind=event.case_kind.value, grade=event.grade.value,
                   period=str(Period.of(event.completed_at)))
    await _upsert(conn, evaluation_results, values, lambda t, new: t.completed_at <= new.completed_at)


@projection.on(SubsidyPaymentNoted)
async def subsidy_payment_noted(conn: AsyncConnection, event: SubsidyPaymentNoted, at: Recorded) -> None:
    values = event.model_dump(mode="python") | dict(case_kind=event.case_kind.value)
    await _upsert(conn, subsidy_payments, values, lambda t, new: t.paid_on <= new.paid_on)


async def record_published(conn: AsyncConnection, disclosure: Disclosure) -> None:
    """Keep the published document exactly as published (a number is written once)."""
    assert disclosure.number is not None and disclosure.published_at is not None
    corrects = disclosure.corrects
    await conn.execute(insert(published_disclosures).values(
        number=disclosure.number, scope_key=scope_key(disclosure.scope), scope_level=disclosure.scope.level,
        scope_id=disclosure.scope.id, scope_name=disclosure.scope.name, period=disclosure.period,
        version=disclosure.version, title=disclosure.title or disclosure.number,
        published_at=disclosure.published_at, replaces=corrects.replaces if corrects else None,
        changes=corrects.changes if corrects else [], document=disclosure.model_dump_json(),
    ))


# --- the same folds in memory, for the batched rebuild (shared.projection.rebuild) -------------


def _upsert_rows(rows: Rows, table: Any, values: dict[str, Any], newer: Any) -> None:
    row = rows.get(table, values["case_id"])
    if row is None:
        rows.insert(table, **values)
    elif newer(row, values):
        row.update(values)


@projection.in_memory(ClosureNoted)
def closure_noted_rows(rows: Rows, event: ClosureNoted, at: Recorded) -> None:
    values = event.model_dump(mode="python")
    values |= dict(case_kind=event.case_kind.value, period=str(Period.containing(event.ended_on)))
    _upsert_rows(rows, closed_cases, values, lambda old, new: old["closed_at"] <= new["closed_at"])


@projection.in_memory(GradeNoted)
def grade_noted_rows(rows: Rows, event: GradeNoted, at: Recorded) -> None:
    values = event.model_dump(mode="python")
    values |= dict(case_kind=event.case_kind.value, grade=event.grade.value,
                   period=str(Period.of(event.completed_at)))
    _upsert_rows(rows, evaluation_results, values,
                 lambda old, new: old["completed_at"] <= new["completed_at"])


@projection.in_memory(SubsidyPaymentNoted)
def subsidy_payment_noted_rows(rows: Rows, event: SubsidyPaymentNoted, at: Recorded) -> None:
    values = event.model_dump(mode="python") | dict(case_kind=event.case_kind.value)
    _upsert_rows(rows, subsidy_payments, values, lambda old, new: old["paid_on"] <= new["paid_on"])
