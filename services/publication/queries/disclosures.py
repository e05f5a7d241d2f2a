"""Disclosures (R-PUB-1): a period's live draft, read from the rows of projections/disclosures.py;
a published version rebuilt from the fact events recorded up to its cut-off; the published
documents, exactly as frozen. Both kinds are made by the one domain function `compose`, from facts
read in one snapshot, so that the summary and the tables agree with each other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any, NamedTuple

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.publication.domain import (
    LEGAL_HELP,
    Caseload,
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
    tabulate,
)
from services.publication.projections.disclosures import closed_cases, published_disclosures
from shared import store
from shared.collector import collecting_paused
from shared.paging import Page, paginate


async def _snapshot(conn: AsyncConnection) -> None:
    await conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
    await _room_to_sort(conn)


async def _room_to_sort(conn: AsyncConnection) -> None:
    # A national half-year's join of grades to closures and its sort of the caseloads spilled to
    # disk in batches at the default 4 MB; for this one transaction, room to do them in memory.
    await conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")


def _tabulated(scope: Scope, period: Period, facts: Tabulated, *, texts: Texts,
               target: float | None) -> Disclosure:
    """The disclosure of the period's rows as the read models give them (facts_of_period)."""
    return tabulate(scope, period, caseloads=facts.caseloads, legal_help_sessions=facts.legal_help_sessions,
                    grades=list(facts.grades), payments=list(facts.payments), texts=texts, target=target)


# --- the live draft ----------------------------------------------------------------------------


async def draft(engine: AsyncEngine, scope: Scope, period: Period, *, target: float | None) -> Disclosure:
    """The scope's live draft of the period, from the rows as they are now, with the bureau's texts;
    once a version is published, with what a correction would change from it."""
    # One pause of the cycle collector for reading and tabulating: the one collection afterwards
    # walks the rows and the document's objects once (it cost a second a national half-year each time).
    with collecting_paused():
        async with engine.connect() as conn, conn.begin():
            await _snapshot(conn)
            facts = await facts_of_period(conn, scope, period)
            texts = await texts_of(conn, scope)
            workflow = await workflow_of(conn, scope, period)
            latest = workflow.latest
            before = await published_version(conn, latest.number) if latest is not None else None
        disclosure = _tabulated(scope, period, facts, texts=texts, target=target)
    if latest is None or before is None:  # nothing published yet: no correction to preview
        return disclosure
    return disclosure.model_copy(update=dict(
        version=latest.version + 1,
        corrects=Correction(replaces=latest.number, changes=changes_between(before, disclosure))))


# The facts of the events path (facts_as_of) as compose reads them (domain.ClosureFact, GradeFact,
# PaymentFact), and the draft's grades and payments as tabulate reads them (domain.GradeResult,
# Payment): each row a plain tuple of the columns, not the fact event it came from. This service
# validated each fact when it recorded it (consumers.py, handlers.py), and the projection wrote the
# rows from the validated events; validating a national half-year's two million rows again into
# event models took most of a minute.


class ClosureRow(NamedTuple):
    case_id: str
    case_kind: str
    agency_id: str
    district: str
    institution_id: str
    institution_name: str
    handler_id: str
    handler_name: str
    handler_kind: str
    ended_on: date
    closed_at: datetime
    criminal_role: str | None


class GradeRow(NamedTuple):
    case_id: str
    case_number: str
    case_kind: str
    agency_id: str
    institution_name: str
    handler_name: str
    grade: str
    completed_at: datetime


class PaymentRow(NamedTuple):
    case_id: str
    case_number: str
    case_kind: str
    agency_id: str
    institution_name: str
    handler_name: str
    amount: Decimal
    paid_on: date


Facts = tuple[list[ClosureRow], list[GradeRow], list[PaymentRow]]

# The draft places and counts as compose does (domain.py; docs/publication.md "Which period"), in the
# database: a national half-year's 700,000 closures become its 60,000 persons' caseloads there, never
# rows here. Parameters: $1, $2 the period's first and last day; $3 the agency of an agency's
# disclosure, $4 the district of a district's (each null otherwise); $5 duty-lawyer legal help's role.
# A district's disclosure holds the cases whose closure is of that district.

# Each person's closed cases of the period, legal help aside, counted by CaseKind's values, with the
# names of their latest closure (domain.Caseload).
_CASELOADS = """
SELECT DISTINCT ON (agency_id, institution_id, handler_id)
       agency_id, institution_id, handler_id, institution_name, handler_name, handler_kind,
       min(closed_at) OVER person, closed_at,
       count(*) FILTER (WHERE case_kind = 'criminal') OVER person,
       count(*) FILTER (WHERE case_kind = 'civil') OVER person,
       count(*) FILTER (WHERE case_kind = 'administrative') OVER person,
       count(*) FILTER (WHERE case_kind = 'non_litigation') OVER person
FROM closed_cases
WHERE ended_on BETWEEN $1 AND $2 AND criminal_role IS DISTINCT FROM $5
  AND ($3::text IS NULL OR agency_id = $3) AND ($4::text IS NULL OR district = $4)
WINDOW person AS (PARTITION BY agency_id, institution_id, handler_id)
ORDER BY agency_id, institution_id, handler_id, closed_at DESC
"""
_LEGAL_HELP = """
SELECT count(*) FROM closed_cases
WHERE ended_on BETWEEN $1 AND $2 AND criminal_role = $5
  AND ($3::text IS NULL OR agency_id = $3) AND ($4::text IS NULL OR district = $4)
"""
# A grade by its case's end day, or by the Beijing day it was recorded when no closure of its case came.
_GRADED = """
SELECT g.case_number, g.case_kind, g.agency_id, g.institution_name, g.handler_name, g.grade
FROM evaluation_results g LEFT JOIN closed_cases c ON c.case_id = g.case_id
WHERE coalesce(c.ended_on, (g.completed_at AT TIME ZONE 'Asia/Shanghai')::date) BETWEEN $1 AND $2
  AND ($3::text IS NULL OR g.agency_id = $3) AND ($4::text IS NULL OR c.district = $4)
ORDER BY g.case_number COLLATE "C", g.agency_id COLLATE "C"
"""
# A payment by the day it was paid. Its case's district by a lookup per payment, only for a district's
# disclosure (never `IN (subquery)`, which PostgreSQL hashes only while the subquery's rows fit in
# work_mem, and otherwise runs once per row).
_PAID = """
SELECT case_number, case_kind, agency_id, institution_name, handler_name, amount, paid_on
FROM subsidy_payments p
WHERE paid_on BETWEEN $1 AND $2 AND ($3::text IS NULL OR agency_id = $3)
  AND ($4::text IS NULL
       OR EXISTS (SELECT FROM closed_cases c WHERE c.case_id = p.case_id AND c.district = $4))
ORDER BY paid_on, case_number COLLATE "C", agency_id COLLATE "C"
"""


class GradedRow(NamedTuple):
    """A grade as Annex 7 prints it (domain.GradeResult)."""

    case_number: str
    case_kind: str
    agency_id: str
    institution_name: str
    handler_name: str
    grade: str


class PaidRow(NamedTuple):
    """A payment as Annex 4 prints it (domain.Payment)."""

    case_number: str
    case_kind: str
    agency_id: str
    institution_name: str
    handler_name: str
    amount: Decimal
    paid_on: date


@dataclass(frozen=True)
class Tabulated:
    """The period's facts of the scope, placed and counted (domain.tabulate's arguments)."""

    caseloads: list[Caseload]
    legal_help_sessions: int
    grades: list[GradedRow]
    payments: list[PaidRow]


async def facts_of_period(conn: AsyncConnection, scope: Scope, period: Period) -> Tabulated:
    """The scope's persons' caseloads of the cases that ended in the period, its legal-help sessions,
    the grades that count in it and the subsidies paid in it (one row per case: the read models are
    keyed by the case)."""
    db = await store.driver(conn)
    args = (period.starts_on, period.ends_on, scope.id if scope.level == "agency" else None,
            scope.id if scope.level == "district" else None, LEGAL_HELP)
    with collecting_paused():
        caseloads = list(map(Caseload._make, await db.fetch(_CASELOADS, *args)))
        legal_help: int = await db.fetchval(_LEGAL_HELP, *args)
        grades = list(map(GradedRow._make, await db.fetch(_GRADED, *args[:4])))
        payments = list(map(PaidRow._make, await db.fetch(_PAID, *args[:4])))
    return Tabulated(caseloads, legal_help, grades, payments)


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


_FACT_TYPES = [ClosureNoted.event_type(), GradeNoted.event_type(), SubsidyPaymentNoted.event_type()]

# Every fact event's fields that compose reads, as columns: the JSON parsed by the database, in C, and
# each row then a plain tuple of its kind's fields (the events were validated when recorded).
#
# Only the facts of the cases the period can hold: a case that has a closure that ended in it, a grade
# completed in it (Beijing's day) or a payment paid in it, recorded up to the cut-off; every fact of
# such a case, of any period, since compose keeps the latest of each kind and places a grade by its
# case's closure. Any other case has nothing compose would place in the period (each of its kinds'
# latest fact, and a grade's placing, falls outside it), so composing these facts is composing all of
# them (test_disclosure_facts), and a national year of older periods is not read into Python.
_FACTS_AS_OF = """
WITH placed AS (
    SELECT data->>'case_id' AS case_id FROM events
    WHERE type = ANY($1::text[]) AND recorded_at <= $2 AND CASE type
        WHEN $3 THEN (data->>'ended_on')::date
        WHEN $4 THEN ((data->>'completed_at')::timestamptz AT TIME ZONE 'Asia/Shanghai')::date
        ELSE (data->>'paid_on')::date END BETWEEN $5 AND $6
)
SELECT type, data->>'case_id', data->>'case_number', data->>'case_kind', data->>'agency_id',
       data->>'district', data->>'institution_id', data->>'institution_name', data->>'handler_id',
       data->>'handler_name', data->>'handler_kind', (data->>'ended_on')::date,
       (data->>'closed_at')::timestamptz, data->>'criminal_role', data->>'grade',
       (data->>'completed_at')::timestamptz, (data->>'amount')::numeric, (data->>'paid_on')::date
FROM events
WHERE type = ANY($1::text[]) AND recorded_at <= $2 AND data->>'case_id' IN (SELECT case_id FROM placed)
ORDER BY position
"""
_CLOSURE_FIELDS = itemgetter(1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
_GRADE_FIELDS = itemgetter(1, 2, 3, 4, 7, 9, 14, 15)
_PAYMENT_FIELDS = itemgetter(1, 2, 3, 4, 7, 9, 16, 17)


async def _hash_joined(db: asyncpg.Connection, query: str, *args: Any) -> list[asyncpg.Record]:
    """The query's rows, planned without nested loops. The facts of the placed cases are a join of
    the fact events with themselves, on a case id the placing computes; where the store has no
    statistics yet (a new database, one restored or bulk-loaded, before autovacuum analysed it), the
    planner guessed a handful of rows on each side and compared every fact with every placed case:
    53 s for 30,000 facts, against 0.1 s for the hash join it makes without the nested loop, the
    one it makes anyway once the store is analysed. In a transaction of its own, or a savepoint of
    the caller's, and put back as it was: the caller's other statements plan as before."""
    async with db.transaction():
        was = await db.fetchval("SELECT current_setting('enable_nestloop')")
        await db.execute("SELECT set_config('enable_nestloop', 'off', true)")
        rows = await db.fetch(query, *args)
        await db.execute("SELECT set_config('enable_nestloop', $1, true)", was)
    return rows


async def facts_as_of(conn: AsyncConnection, cut_off: datetime, period: Period) -> Facts:
    """The fact events recorded in publication's store up to the cut-off that composing the period
    needs, in recording order: every fact of each case that has one placed in the period (of any
    period: a grade is placed by its case's closure, whenever that was recorded)."""
    db = await store.driver(conn)
    closures: list[ClosureRow] = []
    grades: list[GradeRow] = []
    payments: list[PaymentRow] = []
    closure, grade, _ = _FACT_TYPES
    with collecting_paused():
        for row in await _hash_joined(db, _FACTS_AS_OF, _FACT_TYPES, cut_off, closure, grade,
                                      period.starts_on, period.ends_on):
            if row[0] == closure:
                closures.append(ClosureRow._make(_CLOSURE_FIELDS(row)))
            elif row[0] == grade:
                grades.append(GradeRow._make(_GRADE_FIELDS(row)))
            else:
                payments.append(PaymentRow._make(_PAYMENT_FIELDS(row)))
    return closures, grades, payments


async def composed_as_of(conn: AsyncConnection, workflow: DisclosureWorkflow, *, cut_off: datetime,
                         texts: Texts, target: float | None) -> Disclosure:
    """The workflow's scope and period composed from the facts recorded up to `cut_off`."""
    assert workflow.scope is not None and workflow.period is not None
    return await disclosure_as_of(conn, workflow.scope, Period.parse(workflow.period), cut_off=cut_off,
                                  texts=texts, target=target)


_RECORDED_AFTER = "SELECT EXISTS (SELECT FROM events WHERE recorded_at > $2 AND type = ANY($1::text[]))"


async def disclosure_as_of(conn: AsyncConnection, scope: Scope, period: Period, *, cut_off: datetime,
                           texts: Texts, target: float | None) -> Disclosure:
    """The scope's disclosure of the period as the facts recorded up to `cut_off` make it: what a
    submission shows, an approval publishes and a published version is rebuilt from.

    When no fact was recorded after the cut-off, the read models hold exactly the facts up to it
    (the projection writes them in the fact's own transaction, keeping the latest of each kind per
    case as compose does), and the disclosure is tabulated from them as the draft is: at a national
    year, seconds instead of composing millions of fact events (docs/benchmarks.md "Growth"). Asked
    again after the rows are read, so a fact after the cut-off that any of those reads saw sends it
    the long way: composed from the fact events up to the cut-off (`facts_as_of`), as a version of
    an earlier cut-off with facts after it is. An approval reads under its lock on the store, so
    every fact is committed and the reads agree; a submission's preview, without it, may meet a
    fact committing between its reads (the approval, which publishes, counts it wherever it goes)."""
    db = await store.driver(conn)
    with collecting_paused():
        if not await db.fetchval(_RECORDED_AFTER, _FACT_TYPES, cut_off):
            await _room_to_sort(conn)
            facts = await facts_of_period(conn, scope, period)
            if not await db.fetchval(_RECORDED_AFTER, _FACT_TYPES, cut_off):
                return _tabulated(scope, period, facts, texts=texts, target=target)
        return await composed_from_events(conn, scope, period, cut_off=cut_off, texts=texts, target=target)


async def composed_from_events(conn: AsyncConnection, scope: Scope, period: Period, *, cut_off: datetime,
                               texts: Texts, target: float | None) -> Disclosure:
    """The scope's disclosure of the period composed from the fact events recorded up to `cut_off`
    (`disclosure_as_of`'s long way)."""
    with collecting_paused():
        closures, grades, payments = await facts_as_of(conn, cut_off, period)
        return compose(scope, period, closures=closures, grades=grades, payments=payments, texts=texts,
                       target=target)


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


async def published_version(conn: AsyncConnection, number: str) -> Disclosure:
    """The published version as the public reads it: its frozen document, stored by the approval
    that published it (and left by a rebuild). What a correction changed is stated against it, as
    the draft's preview of the correction states it. Rebuilding it from the fact events gives the
    same document byte for byte (test_workflow), but at a national year takes half a minute, which an
    approval would spend holding the writers of facts (its lock)."""
    stored = await document(conn, number)
    if stored is None:
        raise LookupError(f"the published version {number} has no stored document")
    return Disclosure.model_validate_json(stored)


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
