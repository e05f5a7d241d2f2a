"""Disclosures (R-PUB-1): a period's live draft, read from the rows of projections/disclosures.py;
a published version rebuilt from the fact events recorded up to its cut-off; the published
documents, exactly as frozen. Both kinds are made by the one domain function `compose`, from facts
read in one snapshot, so that the summary and the tables agree with each other."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Date, Result, cast, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.publication.domain import (
    FACT_TYPES,
    ClosureNoted,
    Correction,
    Disclosure,
    DisclosureTexts,
    DisclosureWorkflow,
    GradeNoted,
    Period,
    PublishedEntry,
    Scope,
    SubsidyPaymentNoted,
    Texts,
    as_published,
    changes_between,
    compose,
    scope_key,
)
from services.publication.projections.disclosures import (
    closed_cases,
    evaluation_results,
    published_disclosures,
    subsidy_payments,
)
from shared import store
from shared.paging import Page, paginate

Facts = tuple[list[ClosureNoted], list[GradeNoted], list[SubsidyPaymentNoted]]
F = TypeVar("F", bound=BaseModel)


async def _snapshot(conn: AsyncConnection) -> None:
    await conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")


# --- the live draft ----------------------------------------------------------------------------


async def draft(engine: AsyncEngine, scope: Scope, period: Period, *, target: float | None) -> Disclosure:
    """The scope's live draft of the period, from the rows as they are now, with the bureau's texts;
    once a version is published, with what a correction would change from it."""
    async with engine.connect() as conn, conn.begin():
        await _snapshot(conn)
        facts = await facts_of_period(conn, period)
        texts = await texts_of(conn, scope)
        workflow = await workflow_of(conn, scope, period)
        latest = workflow.latest
        published = await document(conn, latest.number) if latest is not None else None
    closures, grades, payments = facts
    disclosure = compose(scope, period, closures=closures, grades=grades, payments=payments, texts=texts,
                         target=target)
    if latest is None or published is None:
        return disclosure
    before = Disclosure.model_validate_json(published)
    return disclosure.model_copy(update=dict(
        version=latest.version + 1,
        corrects=Correction(replaces=latest.number, changes=changes_between(before, disclosure))))


_CLOSURE = [closed_cases.c[name] for name in ClosureNoted.model_fields if name != "district"]
_GRADE = [evaluation_results.c[name] for name in GradeNoted.model_fields]
_PAYMENT = [subsidy_payments.c[name] for name in SubsidyPaymentNoted.model_fields]


async def facts_of_period(conn: AsyncConnection, period: Period) -> Facts:
    """The rows that can count in the period: cases that ended in it, grades of those cases (or,
    of a case whose closure never came, recorded in it), subsidies paid in it, and the closures of
    the graded and paid cases (their end day and district)."""
    start, end = period.starts_on, period.ends_on
    c, g, p = closed_cases, evaluation_results, subsidy_payments
    graded_on = cast(func.timezone("Asia/Shanghai", g.c.completed_at), Date)
    graded = (select(*_GRADE).select_from(g.outerjoin(c, c.c.case_id == g.c.case_id))
              .where(func.coalesce(c.c.ended_on, graded_on).between(start, end)))
    paid = select(*_PAYMENT).where(p.c.paid_on.between(start, end))
    grades = _facts(await conn.execute(graded), GradeNoted)
    payments = _facts(await conn.execute(paid), SubsidyPaymentNoted)
    # The graded and paid cases' closures by subquery, never by naming each case: a big city's
    # half-year pays more cases than the 32,767 values one statement can carry.
    closures = _facts(await conn.execute(
        select(*_CLOSURE, func.coalesce(c.c.district, literal_column("''")).label("district"))
        .where(or_(c.c.ended_on.between(start, end),
                   c.c.case_id.in_(graded.with_only_columns(g.c.case_id)),
                   c.c.case_id.in_(paid.with_only_columns(p.c.case_id))))
    ), ClosureNoted)
    return closures, grades, payments


def _facts(result: Result[Any], model: type[F]) -> list[F]:
    """Each row as the fact it records (plain tuples zipped with the column names: a row mapping
    per row cost more than validating it, for a half-year's tens of thousands of rows)."""
    keys = list(result.keys())
    return [model.model_validate(dict(zip(keys, row, strict=True))) for row in result]


# --- the workflow and its published versions -----------------------------------------------------


async def workflow_of(conn: AsyncConnection, scope: Scope, period: Period) -> DisclosureWorkflow:
    id = DisclosureWorkflow.id_of(scope, period)
    rows = await store.load(conn, DisclosureWorkflow.stream_id(id))
    return DisclosureWorkflow.fold(id, [(r.type, r.data, r.recorded_at) for r in rows])


async def texts_of(conn: AsyncConnection, scope: Scope) -> Texts:
    """The texts the scope's disclosures open with: the bureau's last edit, or the defaults."""
    id = scope_key(scope)
    rows = await store.load(conn, DisclosureTexts.stream_id(id))
    return DisclosureTexts.fold(id, [(r.type, r.data, r.recorded_at) for r in rows]).texts


_FACT_EVENTS = {cls.event_type(): cls for cls in FACT_TYPES}


async def facts_as_of(conn: AsyncConnection, cut_off: datetime) -> Facts:
    """Every fact event recorded in publication's store up to the cut-off, in recording order."""
    rows = (await conn.execute(
        text("SELECT type, data FROM events WHERE type = ANY(:types) AND recorded_at <= :cut_off "
             "ORDER BY position"),
        {"types": list(_FACT_EVENTS), "cut_off": cut_off},
    )).all()
    facts: dict[type[Any], list[Any]] = {cls: [] for cls in FACT_TYPES}
    for type_, data in rows:
        cls = _FACT_EVENTS[type_]
        facts[cls].append(cls.model_validate(store.from_jsonb(data)))
    return facts[ClosureNoted], facts[GradeNoted], facts[SubsidyPaymentNoted]


async def composed_as_of(conn: AsyncConnection, workflow: DisclosureWorkflow, *, cut_off: datetime,
                         texts: Texts, target: float | None) -> Disclosure:
    """The workflow's scope and period composed from the facts recorded up to `cut_off`."""
    assert workflow.scope is not None and workflow.period is not None
    closures, grades, payments = await facts_as_of(conn, cut_off)
    return compose(workflow.scope, Period.parse(workflow.period), closures=closures, grades=grades,
                   payments=payments, texts=texts, target=target)


async def rebuild(conn: AsyncConnection, workflow: DisclosureWorkflow, version: int) -> Disclosure:
    """A published version rebuilt from the events: the facts up to its cut-off, the texts and
    target it was submitted with, what publishing it decided (docs/publication.md "Rebuilding")."""
    published = workflow.versions[version - 1]
    submission = published.submission
    draft = await composed_as_of(conn, workflow, cut_off=submission.cut_off, texts=submission.texts,
                                 target=submission.target)
    return as_published(draft, published)


# --- the published documents ---------------------------------------------------------------------


async def document(conn: AsyncConnection, number: str) -> str | None:
    """The published disclosure's JSON, exactly as published."""
    found: str | None = (await conn.execute(
        select(published_disclosures.c.document).where(published_disclosures.c.number == number)
    )).scalar_one_or_none()
    return found


async def published(engine: AsyncEngine, number: str) -> str | None:
    async with engine.connect() as conn:
        return await document(conn, number)


async def latest_published(engine: AsyncEngine, scope: Scope, period: Period) -> str | None:
    """The latest published version of the scope's disclosure of the period, as published."""
    t = published_disclosures
    async with engine.connect() as conn:
        found: str | None = (await conn.execute(
            select(t.c.document).where(t.c.scope_key == scope_key(scope), t.c.period == str(period))
            .order_by(t.c.version.desc()).limit(1)
        )).scalar_one_or_none()
    return found


def _entry(row: Any) -> PublishedEntry:
    corrects = Correction(replaces=row["replaces"], changes=row["changes"]) if row["replaces"] else None
    return PublishedEntry(
        number=row["number"], title=row["title"],
        scope=Scope(level=row["scope_level"], id=row["scope_id"], name=row["scope_name"]),
        period=row["period"], version=row["version"], published_at=row["published_at"], corrects=corrects)


async def published_entries(engine: AsyncEngine, *, level: str | None = None, scope_id: str | None = None,
                            period: str | None = None, offset: int = 0, limit: int = 50
                            ) -> Page[PublishedEntry]:
    """The published disclosures, newest first (every version: a correction is its own entry)."""
    t = published_disclosures
    where = [column == value for column, value in ((t.c.scope_level, level), (t.c.scope_id, scope_id),
                                                    (t.c.period, period)) if value is not None]
    query = (select(t.c.number, t.c.title, t.c.scope_level, t.c.scope_id, t.c.scope_name, t.c.period,
                    t.c.version, t.c.published_at, t.c.replaces, t.c.changes)
             .where(*where).order_by(t.c.published_at.desc(), t.c.number.desc()))
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_entry)


async def agency_district(engine: AsyncEngine, agency_id: str) -> str | None:
    """The district of an agency's cases (a district bureau acts on the agencies of its district)."""
    c = closed_cases
    async with engine.connect() as conn:
        found: str | None = (await conn.execute(
            select(c.c.district).where(c.c.agency_id == agency_id, c.c.district.is_not(None))
            .group_by(c.c.district).order_by(func.count().desc(), c.c.district).limit(1)
        )).scalar_one_or_none()
    return found


async def texts(engine: AsyncEngine, scope: Scope) -> Texts:
    async with engine.connect() as conn:
        return await texts_of(conn, scope)
