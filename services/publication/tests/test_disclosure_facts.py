"""A disclosure composed for submission reads only the facts of the cases its period can hold
(queries.disclosures.facts_as_of), not every period's: composing those is composing all of them;
and when no fact came after the cut-off, what a submission publishes is read from the read models
(queries.disclosures.disclosure_as_of), the same again.
A varied history over three half-years (late closures, a case closed twice, grades with and
without their closure, payments in a later period, an older fact delivered after a newer one),
recorded through publication's own handlers, composed for each half-year, quarter and scope both
ways, as of a cut-off in the middle of the recording and after it."""

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.publication import handlers
from services.publication.app import MIGRATIONS, PublicationSettings
from services.publication.domain import (
    ClosureNoted,
    GradeNoted,
    Period,
    SubsidyPaymentNoted,
    compose,
    scope_of,
)
from services.publication.projections import projection
from services.publication.queries import disclosures as queries
from shared import store
from shared.contracts import (
    CaseClosed,
    CaseKind,
    EvaluationCompleted,
    Grade,
    HandlerKind,
    HandlerRef,
    SubsidyPaid,
)
from shared.contracts.intake import CriminalRole
from shared.db import create_engine
from shared.uow import unit_of_work

AGENCIES = {"chaoyang-centre": "朝阳区", "haidian-centre": "海淀区"}
HANDLERS = [HandlerRef(handler_id=f"h-{n}", name=f"律师{n}", kind=HandlerKind.lawyer,
                       institution_id=f"firm-{n % 3}", institution_name=f"律师事务所{n % 3}")
            for n in range(6)]
FIRST_DAY = date(2026, 1, 1)


def _day(rng: random.Random) -> date:
    return FIRST_DAY + timedelta(days=rng.randrange(540))  # 2026-H1 to 2027-H1


def _moment(day: date, rng: random.Random) -> datetime:
    # Beijing's day of it may be the next or the previous UTC day: placing uses Beijing's.
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=rng.randrange(-10, 30))


def history(seed: int = 17, cases: int = 60) -> list[CaseClosed | EvaluationCompleted | SubsidyPaid]:
    rng = random.Random(seed)
    facts: list[CaseClosed | EvaluationCompleted | SubsidyPaid] = []
    for n in range(cases):
        agency = rng.choice(list(AGENCIES))
        handler, kind = rng.choice(HANDLERS), rng.choice(list(CaseKind))
        number = f"FY-2026-{n:04d}"
        role = CriminalRole.duty_lawyer_help if kind == CaseKind.criminal and rng.random() < 0.2 else None
        closures = 0 if rng.random() < 0.15 else 1 + (rng.random() < 0.2)  # no closure seen; closed again
        ended = None
        for _ in range(closures):
            ended = _day(rng)
            closed_at = _moment(ended + timedelta(days=rng.randrange(5)), rng)
            facts.append(CaseClosed(case_id=f"case-{n}", case_number=number, case_kind=kind,
                                    district=AGENCIES[agency], agency_id=agency, handler=handler,
                                    outcome="判决", ended_on=ended, closed_at=closed_at, criminal_role=role))
        for _ in range(rng.choice([0, 1, 1, 2])):  # graded, graded again
            on = (ended or _day(rng)) + timedelta(days=rng.randrange(60))
            facts.append(EvaluationCompleted(evaluation_id=str(uuid.uuid4()), case_id=f"case-{n}",
                                             case_number=number, case_kind=kind, agency_id=agency,
                                             handler=handler, grade=rng.choice(list(Grade)),
                                             reviewer_id="r-1", completed_at=_moment(on, rng)))
        for _ in range(rng.choice([0, 1, 1, 2])):  # paid, paid again (a correction)
            on = (ended or _day(rng)) + timedelta(days=rng.randrange(90))
            facts.append(SubsidyPaid(case_id=f"case-{n}", case_number=number, case_kind=kind,
                                     period=str(Period.containing(on)), agency_id=agency,
                                     institution_id=handler.institution_id,
                                     institution_name=handler.institution_name,
                                     handler_id=handler.handler_id, handler_name=handler.name,
                                     amount=Decimal(rng.choice(["500.00", "800.00", "1200.00"])), paid_on=on,
                                     schedule_version="beijing-2011-seed"))
    # A grade whose case's closure publication never saw, completed on 30 June at 20:00 UTC: 1 July
    # in Beijing, so the second half-year's (and the third quarter's), not the first's.
    facts.append(EvaluationCompleted(evaluation_id=str(uuid.uuid4()), case_id="case-edge",
                                     case_number="FY-2026-9999", case_kind=CaseKind.civil,
                                     agency_id="chaoyang-centre", handler=HANDLERS[0], grade=Grade.fail,
                                     reviewer_id="r-1", completed_at=datetime(2026, 6, 30, 20, tzinfo=UTC)))
    rng.shuffle(facts)  # delivered in any order: an older fact may come after a newer one
    return facts


_ALL_FACTS = """
SELECT type, data FROM events WHERE type = ANY($1::text[]) AND recorded_at <= $2 ORDER BY position
"""


async def every_fact(conn, cut_off: datetime):
    """Every fact event up to the cut-off, of every period: what facts_as_of read before."""
    kinds = {ClosureNoted.event_type(): ClosureNoted, GradeNoted.event_type(): GradeNoted,
             SubsidyPaymentNoted.event_type(): SubsidyPaymentNoted}
    rows = await (await store.driver(conn)).fetch(_ALL_FACTS, list(kinds), cut_off)
    facts = [kinds[r["type"]].model_validate(store.from_jsonb(r["data"])) for r in rows]
    return ([f for f in facts if isinstance(f, ClosureNoted)],
            [f for f in facts if isinstance(f, GradeNoted)],
            [f for f in facts if isinstance(f, SubsidyPaymentNoted)])


async def test_composing_the_facts_read_for_a_period_is_composing_every_fact(migrated_settings):
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, relay_enabled=False)
    engine = create_engine(settings)
    note = {CaseClosed: handlers.note_closure, EvaluationCompleted: handlers.note_grade,
            SubsidyPaid: handlers.note_payment}
    facts = history()
    cut_offs = []
    try:
        for n, fact in enumerate(facts):
            async with unit_of_work(engine, settings, projection) as uow:
                await note[type(fact)](uow, fact)
            if n == len(facts) // 2:
                cut_offs.append(datetime.now(UTC))
        cut_offs.append(datetime.now(UTC))
        periods = [Period.parse(p) for p in ("2026-H1", "2026-H2", "2027-H1", "2026-Q2", "2026-Q3")]
        scopes = [scope_of("city", None), scope_of("agency", "chaoyang-centre"),
                  scope_of("district", "海淀区")]
        compared = 0
        async with engine.connect() as conn:
            for cut_off in cut_offs:
                closures, grades, payments = await every_fact(conn, cut_off)
                for period in periods:
                    read = await queries.facts_as_of(conn, cut_off, period)
                    assert sum(map(len, read)) < len(closures) + len(grades) + len(payments)
                    for scope in scopes:
                        texts = await queries.texts_of(conn, scope)
                        expected = compose(scope, period, closures=closures, grades=grades, payments=payments,
                                           texts=texts, target=None)
                        got = compose(scope, period, closures=read[0], grades=read[1], payments=read[2],
                                      texts=texts, target=None)
                        assert got.model_dump() == expected.model_dump(), (str(period), scope, cut_off)
                        # What a submission and an approval publish: from the read models when
                        # nothing came after the cut-off (the last), else from these facts.
                        published = await queries.disclosure_as_of(conn, scope, period, cut_off=cut_off,
                                                                   texts=texts, target=None)
                        assert published.model_dump() == expected.model_dump(), (str(period), scope, cut_off)
                        compared += bool(expected.summary.cases_closed)
        assert compared >= 20  # most compositions held cases: the comparison was not of empty documents
    finally:
        await engine.dispose()


def _plan_nodes(plan: dict) -> list[str]:
    return [plan["Node Type"], *(n for child in plan.get("Plans", []) for n in _plan_nodes(child))]


async def test_the_facts_of_a_store_not_yet_analysed_are_joined_without_a_nested_loop(migrated_settings):
    """Without statistics (a new store, or one restored or bulk-loaded, before autovacuum analysed
    it) the planner joined the fact events with the placed cases in a nested loop, every fact
    against every case: 53 s for 30,000 facts. facts_as_of plans its query without nested loops,
    and leaves the caller's transaction planning as before."""
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, relay_enabled=False)
    engine = create_engine(settings)
    note = {CaseClosed: handlers.note_closure, EvaluationCompleted: handlers.note_grade,
            SubsidyPaid: handlers.note_payment}
    try:
        for fact in history(seed=5, cases=40):
            async with unit_of_work(engine, settings, projection) as uow:
                await note[type(fact)](uow, fact)
        async with engine.connect() as conn, conn.begin():
            db = await store.driver(conn)
            if not await db.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
                pytest.skip("forgetting a table's statistics needs a superuser")
            await db.execute("DELETE FROM pg_statistic WHERE starelid = 'events'::regclass")
            await db.execute("UPDATE pg_class SET reltuples = -1, relpages = 0 "
                             "WHERE oid = 'events'::regclass")
            period, cut_off = Period.parse("2026-H2"), datetime.now(UTC)
            closure, grade, _ = queries._FACT_TYPES
            args = (queries._FACT_TYPES, cut_off, closure, grade, period.starts_on, period.ends_on)
            explain = "EXPLAIN (FORMAT JSON) " + queries._FACTS_AS_OF

            as_planned = _plan_nodes(store.from_jsonb(await db.fetchval(explain, *args))[0]["Plan"])
            assert "Nested Loop" in as_planned  # the hazard, on this store as it is
            [(planned,)] = await queries._hash_joined(db, explain, *args)
            joined = _plan_nodes(store.from_jsonb(planned)[0]["Plan"])
            assert "Nested Loop" not in joined and "Hash Join" in joined, joined
            assert await db.fetchval("SELECT current_setting('enable_nestloop')") == "on"

            read = await queries.facts_as_of(conn, cut_off, period)
            closures, grades, payments = await every_fact(conn, cut_off)
            scope = scope_of("city", None)
            texts = await queries.texts_of(conn, scope)
            got = compose(scope, period, closures=read[0], grades=read[1], payments=read[2], texts=texts,
                          target=None)
            expected = compose(scope, period, closures=closures, grades=grades, payments=payments,
                               texts=texts, target=None)
            assert got.model_dump() == expected.model_dump()
            assert got.summary.cases_closed  # the period held cases: not a comparison of empty documents
    finally:
        await engine.dispose()
