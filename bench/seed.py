"""`python -m bench.seed --size medium`: write a history straight into assignment's store, for
`make bench-growth` (bench/growth.py) to measure how each cost grows with it.

What it writes, for `cases` cases spread over the year before now across `agencies` agencies
(each a pool of `pool` lawyers of one law firm with a commitment in force):
1. the registry through the real command handlers (few events: institutions, letters, handlers);
2. every case's decision and its rotation turn, decided by the pure domain in memory (the same
   `CaseAssignment.decide` and `Rotation` as the engine, so the history is one the engine could
   have written), streamed into `events` with COPY (asyncpg's copy_records_to_table) in batches;
3. nothing into the read models: `bench.growth` rebuilds them from the store (timed, with a
   progress bar), which is the rebuild figure, and leaves them as a decision reads them.

Sizes (`--size`; `--cases`/`--agencies` override): small 10,000 cases, medium 100,000, national
1,400,000 (a national year of legal-aid cases; some 3,000 agencies). Assignment writes two events
per case (the decision and the turn), so national is 2.8 million of assignment's events, of the
some 40 million all five services hold for such a year.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import asyncpg  # type: ignore[import-untyped]
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from sqlalchemy.engine import make_url

from services.assignment import handlers as engine_handlers
from services.assignment.domain import (
    CaseAssignment,
    CaseFacts,
    HandlerAssigned,
    InstitutionKind,
    Rotation,
)
from services.assignment.projections import projection
from services.assignment.queries import candidates
from services.assignment.settings import AssignmentSettings
from shared.aggregate import DomainEvent
from shared.clock import now
from shared.contracts import CaseFlags, CaseKind, HandlerKind
from shared.db import create_engine
from shared.uow import unit_of_work


@dataclass(frozen=True)
class Size:
    name: str
    cases: int
    agencies: int
    pool: int = 20


SIZES = {
    "small": Size("small", 10_000, 20),
    "medium": Size("medium", 100_000, 100),
    "national": Size("national", 1_400_000, 3_000),
}
# The cap is the agency's to set (R-ASG-4): at its highest setting a pool of twenty takes 2,000
# cases a month, so neither the seeded year nor the measured decisions are blocked by it.
BENCH_CAP = 100
BATCH = 5_000
_COLUMNS = ["stream_id", "version", "event_id", "type", "data", "metadata", "recorded_at"]

console = Console()


def agency_id(n: int) -> str:
    return f"agency-{n:04d}"


def bench_settings(database_url: str, database_name: str = "assignment") -> AssignmentSettings:
    return AssignmentSettings(database_url=database_url, database_name=database_name,
                              monthly_case_cap=BENCH_CAP, consumers_enabled=False, relay_enabled=False)


def raw_dsn(settings: AssignmentSettings) -> str:
    url = make_url(settings.sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def register_pools(settings: AssignmentSettings, size: Size, progress: Progress) -> None:
    """The registry, through the real handlers: one firm per agency, `pool` lawyers in it."""
    engine = create_engine(settings)

    def uow():  # noqa: ANN202 - the unit-of-work factory the handlers take
        return unit_of_work(engine, settings, projection)

    task = progress.add_task("registry (handlers)", total=size.agencies * size.pool)
    today = now().date()
    try:
        for a in range(size.agencies):
            firm = (await engine_handlers.recruit_institution(
                uow, name=f"法援律师事务所{a}", kind=InstitutionKind.law_firm, agency_id=agency_id(a),
                district="朝阳区")).id
            await engine_handlers.sign_commitment(uow, firm, signed_on=date(today.year - 2, 1, 1),
                                                  valid_until=today + timedelta(days=730))
            for h in range(size.pool):
                await engine_handlers.register_handler(
                    uow, name=f"律师{a}-{h}", kind=HandlerKind.lawyer, licence_number=f"11{a:05d}{h:08d}",
                    institution_id=firm, years_of_practice=3 + h % 20)
                progress.advance(task)
    finally:
        await engine.dispose()


async def _pools(settings: AssignmentSettings, size: Size) -> dict[str, list]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            return {agency_id(a): await candidates(conn, agency_id=agency_id(a))
                    for a in range(size.agencies)}
    finally:
        await engine.dispose()


class Batches:
    """Events as COPY records for `events`, handed to `on_batch` BATCH at a time."""

    def __init__(self, on_batch: Callable[[list[tuple]], None]):
        self.on_batch, self.batch, self.written = on_batch, [], 0

    def add(self, stream_id: str, version: int, event: DomainEvent, at: datetime) -> None:
        self.batch.append((stream_id, version, uuid.uuid4(), event.event_type(),
                           json.dumps(event.model_dump(mode="json"), ensure_ascii=False), "{}", at))
        if len(self.batch) >= BATCH:
            self._hand_over()

    def _hand_over(self) -> None:
        self.on_batch(self.batch)
        self.written += len(self.batch)
        self.batch = []

    def close(self) -> int:
        """Hand over what is left; how many records in all."""
        if self.batch:
            self._hand_over()
        return self.written


def history(size: Size, pools: dict[str, list], *, until: datetime,
            on_batch: Callable[[list[tuple]], None]) -> int:
    """Decide every case of the year before `until` in memory, by the engine's own domain, and
    hand the events (COPY records) to `on_batch`. Returns how many events."""
    rotations = {a: Rotation(a) for a in pools}
    step = timedelta(days=365) / max(size.cases, 1)
    start = until - timedelta(days=365)
    kinds = list(CaseKind)
    batches = Batches(on_batch)
    for n in range(size.cases):
        agency = agency_id(n % size.agencies)
        at = start + step * n
        case_id = str(uuid.uuid4())
        case = CaseFacts(case_id=case_id, case_number=f"FY-{at.year}-{n:07d}",
                         case_kind=kinds[n % len(kinds)], agency_id=agency, flags=CaseFlags(),
                         adverse_party_hashes=[f"{(n * 7919) % 1_000_003:064x}"],
                         aided_person_hash=f"{n:064x}")
        assignment = CaseAssignment(case_id)
        rotation = rotations[agency]
        assignment.decide(case=case, pool=pools[agency], named=None, rotation=rotation, at=at,
                          monthly_cap=BENCH_CAP)
        decision = assignment.decisions[-1]
        records = [(CaseAssignment.stream_id(case_id), 1, decision)]
        if isinstance(decision, HandlerAssigned):
            rotation.take_turn(case_id=case_id, handler_id=decision.handler.handler_id,
                               method=decision.method, group_case=False, at=at)
            rotation.version += 1
            records.append((Rotation.stream_id(agency), rotation.version, rotation.pending.pop()))
        for stream_id, version, event in records:
            batches.add(stream_id, version, event, at)
    return batches.close()


async def copy_into_events(dsn: str, history: Callable[[Callable[[list[tuple]], None]], int],
                           progress: Progress, task: TaskID) -> int:
    """Run `history` (which hands batches of COPY records to the callback it is given, and returns
    how many it made) in a thread, while this loop COPYs each batch into `events` on the database
    at `dsn`, at most four batches behind; the bar advances per batch written. Returns how many."""
    db = await asyncpg.connect(dsn)
    queue: asyncio.Queue[list[tuple] | None] = asyncio.Queue(maxsize=4)
    loop = asyncio.get_running_loop()

    async def writer() -> None:
        while (batch := await queue.get()) is not None:
            await db.copy_records_to_table("events", records=batch, columns=_COLUMNS)
            progress.advance(task, len(batch))

    copying = asyncio.create_task(writer())

    def hand_over(batch: list[tuple]) -> None:
        asyncio.run_coroutine_threadsafe(queue.put(batch), loop).result()

    try:
        written = await asyncio.to_thread(history, hand_over)
        await queue.put(None)
        await copying
    finally:
        await db.close()
    return written


async def seed(settings: AssignmentSettings, size: Size) -> int:
    """Register the pools, then stream the year's decisions into the store. Returns the events."""
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console) as progress:
        await register_pools(settings, size, progress)
        pools = await _pools(settings, size)
        task = progress.add_task(f"{size.name}: {size.cases:,} cases' decisions (COPY)", total=size.cases * 2)
        until = now()
        return await copy_into_events(raw_dsn(settings),
                                      lambda on_batch: history(size, pools, until=until, on_batch=on_batch),
                                      progress, task)


cli = typer.Typer(add_completion=False)


@cli.command()
def main(
    size: str = typer.Option("small", help="small, medium or national."),
    cases: int = typer.Option(0, help="Cases in the year (default: the size's)."),
    agencies: int = typer.Option(0, help="Agencies (default: the size's)."),
    database_url: str = typer.Option(..., envvar="DATABASE_URL", help="The PostgreSQL server."),
    database: str = typer.Option("assignment", help="Assignment's database on it (migrated here)."),
) -> None:
    """Seed assignment's store with a year's history of decisions."""
    from services.assignment.app import MIGRATIONS
    from shared.migrations import upgrade

    chosen = SIZES[size]
    chosen = Size(chosen.name, cases or chosen.cases, agencies or chosen.agencies, chosen.pool)
    settings = bench_settings(database_url, database)
    upgrade(settings, MIGRATIONS)
    started = datetime.now(UTC)
    written = asyncio.run(seed(settings, chosen))
    console.print(f"seeded {written:,} events in {(datetime.now(UTC) - started).total_seconds():.0f} s; "
                  "rebuild the read models with `python -m bench.growth` (or the service's rebuild)")


if __name__ == "__main__":
    cli()
