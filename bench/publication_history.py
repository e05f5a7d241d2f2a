"""Publication's part of `make bench-growth`: how long the city's half-year disclosure takes to
draw up as the year's cases grow (issue 17's target: a national half-year under 10 s).

For each size, publication's database of its own gets a year of cases' facts, as its consumers
record them from intake's, evaluation's and sanctions' events: each case's closure
(`ClosureNoted`), its final grade (`GradeNoted`, 20 days later) and its subsidy paid
(`SubsidyPaymentNoted`, 30 days later), the closures spread over the year that ends a month before
now across the size's agencies (a pool of 20 handlers of one institution each), streamed into
`events` with COPY; then the read models are rebuilt from the store through publication's
projection (timed), and the city's disclosure of the last half-year wholly inside the year is
drawn up three ways (`Drawn`), each timed three times (median): the draft, by the same query the
API answers with (`queries.disclosures.draft`: the period's rows read in one snapshot, then
tabulated); the submission an approval publishes (`disclosure_as_of` now); and the fact events
composed, as a published version of an earlier cut-off is rebuilt. The three documents must be
the same. Beside them, what a correction's approval adds to the submission while it holds the
writers of facts: the version before read from its frozen document and compared with the new one
(`changes_between`), the draft's document standing in for the version before.
"""
from __future__ import annotations

import asyncio
import gc
import hashlib
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.seed import Batches, copy_into_events
from services.publication.app import MIGRATIONS
from services.publication.domain import (
    CaseClosure,
    CaseGrade,
    CaseSubsidy,
    ClosureNoted,
    Disclosure,
    GradeNoted,
    Period,
    SubsidyPaymentNoted,
    changes_between,
    scope_of,
)
from services.publication.projections import REBUILT_TABLES, projection
from services.publication.queries import disclosures
from services.publication.settings import PublicationSettings
from shared.clock import BEIJING, now
from shared.collector import collecting_paused
from shared.contracts import CaseKind, Grade, HandlerKind
from shared.db import create_engine
from shared.migrations import upgrade
from shared.projection import rebuild

POOL = 20
_GRADES = [Grade.excellent, Grade.good, Grade.good, Grade.pass_, Grade.pass_, Grade.fail]
_DISTRICTS = ["朝阳区", "海淀区", "东城区", "西城区", "丰台区", "通州区", "昌平区", "大兴区"]


def publication_settings(server_url: str, size: str) -> PublicationSettings:
    return PublicationSettings(database_url=server_url, database_name=f"publication_growth_{size}",
                               consumers_enabled=False, relay_enabled=False)


def period_measured(today: date) -> Period:
    """The half-year of 200 days ago: within the seeded year, and finished."""
    return Period.containing(today - timedelta(days=200))


def history(cases: int, agencies: int, *, until: datetime, on_batch: Callable[[list[tuple]], None]) -> int:
    """Each case's three facts, as COPY records handed to `on_batch` in batches. Returns how many."""
    step = timedelta(days=365) / max(cases, 1)
    # Closed over the year that ends a month before `until`, so each case's last fact (its payment,
    # 30 days after the closure) is recorded by then: no fact is recorded after now, as in a real store.
    start = until - timedelta(days=365 + 30)
    kinds = [CaseKind.criminal, CaseKind.civil, CaseKind.administrative, CaseKind.non_litigation]
    batches = Batches(on_batch)
    for n in range(cases):
        a, h = n % agencies, (n // agencies) % POOL
        closed_at = start + step * n
        ended_on = (closed_at - timedelta(days=2)).astimezone(BEIJING).date()
        case_id = str(uuid.uuid4())
        who = dict(case_id=case_id, case_number=f"FY-{closed_at.year}-{n:07d}", case_kind=kinds[n % 4],
                   agency_id=f"agency-{a:04d}", institution_id=f"firm-{a:04d}",
                   institution_name=f"法援律师事务所{a}", handler_id=f"handler-{a:04d}-{h:02d}",
                   handler_name=f"律师{a}-{h}")
        facts = [
            (CaseClosure.stream_id(case_id), closed_at, ClosureNoted(
                **who, district=_DISTRICTS[a % len(_DISTRICTS)], handler_kind=HandlerKind.lawyer.value,
                ended_on=ended_on, closed_at=closed_at)),
            (CaseGrade.stream_id(case_id), closed_at + timedelta(days=20), GradeNoted(
                **who, evaluation_id=str(uuid.uuid4()), handler_kind=HandlerKind.lawyer.value,
                grade=_GRADES[n % len(_GRADES)], completed_at=closed_at + timedelta(days=20))),
            (CaseSubsidy.stream_id(case_id), closed_at + timedelta(days=30), SubsidyPaymentNoted(
                **who, amount=Decimal("1200.00"), paid_on=(closed_at + timedelta(days=30)).date())),
        ]
        for stream_id, at, event in facts:
            batches.add(stream_id, 1, event, at)
    return batches.close()


async def _seed(settings: PublicationSettings, cases: int, agencies: int, console: Console) -> int:
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    dsn = make_url(settings.sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"publication: {cases:,} cases' facts (COPY)", total=cases * 3)
        until = now()
        written = await copy_into_events(
            dsn, lambda on_batch: history(cases, agencies, until=until, on_batch=on_batch), progress, task)
        engine = create_engine(settings)
        try:
            task = progress.add_task("rebuilding publication's read models", total=written)
            await rebuild(engine, projection, REBUILT_TABLES, on_page=lambda n: progress.advance(task, n))
        finally:
            await engine.dispose()
    return written


async def _events(settings: PublicationSettings) -> int:
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            count: int = (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one()
    finally:
        await engine.dispose()
    return count


def seed(server_url: str, size: str, cases: int, agencies: int, console: Console, *,
         reuse: bool = False) -> tuple[PublicationSettings, int]:
    """Publication's database for `size`, migrated, seeded and rebuilt; the events written. With
    `reuse`, a database that already holds the size's facts (a kept server) is left as it is."""
    settings = publication_settings(server_url, size)
    upgrade(settings, MIGRATIONS)
    if reuse and (held := asyncio.run(_events(settings))) >= cases * 3:
        console.print(f"publication_growth_{size} already holds {held:,} events: not seeded again")
        return settings, 0
    return settings, asyncio.run(_seed(settings, cases, agencies, console))


class Made(NamedTuple):
    """A document drawn up, as the comparison of the ways needs it: its JSON's digest and size; the
    draft's JSON itself (one string, which the cycle collector never walks) for the correction's
    timing, the others' left out (271 MiB each at national)."""

    digest: str
    size_bytes: int
    cases: int
    document: str


class Drawn(NamedTuple):
    """The city's half-year drawn up three ways, median wall and CPU seconds of each: the draft
    (the read models' query, what the API's draft answers); the submission (what a submission
    shows and an approval publishes: `disclosure_as_of` now, which reads the read models when no
    fact came after the cut-off); and the fact events composed (`composed_from_events`: how a
    published version of an earlier cut-off is rebuilt, as a correction's approval does)."""

    draft_s: float
    draft_cpu_s: float
    submitted_s: float
    submitted_cpu_s: float
    events_s: float
    events_cpu_s: float
    correction_s: float
    correction_cpu_s: float
    cases: int
    size_bytes: int


async def _timed(times: int, make: Callable[[], Awaitable[Disclosure]], *,
                 keep_document: bool = False) -> tuple[float, float, Made]:
    """Median wall and CPU seconds of `times` runs of `make`, and what the last one made. Each run's
    document is dropped before the next run, as a server drops each draft once it has answered: the
    cycle collector's one walk after a run (shared/collector.py) would otherwise walk every earlier
    document still held here too, and time a cost no request pays (a second or more at national)."""
    walls, cpus = [], []
    made: Made | None = None
    for _ in range(times):
        cpu, started = time.process_time(), time.perf_counter()
        disclosure = await make()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        document = disclosure.model_dump_json()
        made = Made(hashlib.sha256(document.encode()).hexdigest(), len(document),
                    disclosure.summary.cases_closed, document if keep_document else "")
        del disclosure, document
    assert made is not None
    return statistics.median(walls), statistics.median(cpus), made


async def _draw_up(settings: PublicationSettings, times: int) -> Drawn:
    engine = create_engine(settings)
    city, period = scope_of("city", None), period_measured(now().astimezone(BEIJING).date())

    async def submitted() -> Disclosure:
        async with engine.connect() as conn:
            texts = await disclosures.texts_of(conn, city)
            return await disclosures.disclosure_as_of(conn, city, period, cut_off=now(), texts=texts,
                                                      target=None)

    async def from_events() -> Disclosure:
        async with engine.connect() as conn:
            texts = await disclosures.texts_of(conn, city)
            return await disclosures.composed_from_events(conn, city, period, cut_off=now(), texts=texts,
                                                          target=None)

    try:
        draft_s, draft_cpu_s, drafted = await _timed(times, lambda: disclosures.draft(engine, city, period,
                                                                                      target=None),
                                                     keep_document=True)
        submitted_s, submitted_cpu_s, submission = await _timed(times, submitted)
        events_s, events_cpu_s, composed = await _timed(times, from_events)
        correction_s, correction_cpu_s = _correction(times, before=drafted.document, after=await submitted())
    finally:
        await engine.dispose()
    for way, made in (("the submission", submission), ("the fact events composed", composed)):
        if made.digest != drafted.digest:
            raise AssertionError(f"{way} differs from the draft: the ways of drawing it up disagree")
    return Drawn(draft_s, draft_cpu_s, submitted_s, submitted_cpu_s, events_s, events_cpu_s, correction_s,
                 correction_cpu_s, drafted.cases, drafted.size_bytes)


def _correction(times: int, *, before: str, after: Disclosure) -> tuple[float, float]:
    """Median wall and CPU seconds of what a correction's approval does besides composing the new
    version (handlers.approve): the version before validated from its stored document
    (`queries.disclosures.published_version`) and compared with the new one. The same facts: no
    change may be found."""
    walls, cpus = [], []
    for _ in range(times):
        cpu, started = time.process_time(), time.perf_counter()
        with collecting_paused():
            changes = changes_between(Disclosure.model_validate_json(before), after)
        gc.collect()  # the collector's walk the pause put off, which the approval's process pays soon after
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        if changes:
            raise AssertionError(f"the same facts, yet a correction would state changes: {changes[:3]}")
    return statistics.median(walls), statistics.median(cpus)


def draw_up(settings: PublicationSettings, times: int = 3) -> Drawn:
    """The city's disclosure of the measured half-year, drawn up three ways (`Drawn`), which must
    agree, or this raises."""
    return asyncio.run(_draw_up(settings, times))
