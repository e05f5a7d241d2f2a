"""A half-year's disclosure (R-PUB-1): the rows of projections/disclosures.py for the period,
read in one snapshot, turned into the disclosure by the domain (Disclosure.of)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ARRAY, Column, Text, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.publication.domain import Disclosure, EvaluationResult, InstitutionCases, Period, PersonCases
from services.publication.projections.disclosures import closed_cases, evaluation_results
from shared.contracts import CaseKind


async def disclosure(engine: AsyncEngine, period: Period, *, agency_id: str | None = None) -> Disclosure:
    """The period's disclosure, of one agency's cases if `agency_id` is given."""
    # One snapshot for the three reads, so the summary and the tables agree with each other.
    async with engine.connect() as conn, conn.begin():
        await conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        evaluations = await read_evaluations(conn, period, agency_id)
        institutions = await read_cases_per_institution(conn, period, agency_id)
        persons = await read_cases_per_person(conn, period, agency_id)
    return Disclosure.of(period, evaluations=evaluations, institutions=institutions, persons=persons)


def _latest(column: Column[Any]) -> Any:
    """The value of the most recent closure: a renamed firm is published under its new name."""
    return func.array_agg(aggregate_order_by(column, closed_cases.c.closed_at.desc()), type_=ARRAY(Text))[1]


def _counts_by_kind() -> list[Any]:
    kind_column = closed_cases.c.case_kind
    by_kind = [func.count().filter(kind_column == kind.value).label(kind.value) for kind in CaseKind]
    return [*by_kind, func.count().label("total")]


async def read_evaluations(conn: AsyncConnection, period: Period,
                           agency_id: str | None) -> list[EvaluationResult]:
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


async def read_cases_per_person(conn: AsyncConnection, period: Period,
                                agency_id: str | None) -> list[PersonCases]:
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
