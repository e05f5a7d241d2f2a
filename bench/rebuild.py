"""Timing a service's rebuild, shared by `make bench-growth` (bench/growth.py) and the
history modules' own command lines (bench/evaluation_history.py, bench/sanctions_history.py):
the rebuild with its progress bar and figures, and seeding one size then rebuilding it.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# asyncpg ships no type information (no py.typed, no stubs): its objects are Any here.
import asyncpg  # type: ignore[import-untyped]
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Table

from bench.seed import SIZES, raw_dsn
from shared.db import create_engine
from shared.projection import Projection, count_events
from shared.projection import rebuild as rebuild_projection
from shared.settings import ServiceSettings

console = Console()
if not console.is_terminal:
    console = Console(width=170)  # the disclosure table's thirteen columns, whole, in a log


@dataclass(frozen=True)
class Rebuild:
    events: int
    rate: float
    """Events/s, the wall clock."""
    cpu_rate: float
    """Events per second of this process's CPU (the fold; PostgreSQL's COPY is not in it)."""


async def rebuild(settings: ServiceSettings, projection: Projection, tables: Sequence[Table],
                  service: str) -> Rebuild:
    """Empty a service's read models and fold its whole store into them again (one transaction,
    shared.projection.rebuild: in memory then COPY where every fold has its twin, else per event),
    as `python -m services.<service> rebuild` does."""
    engine = create_engine(settings)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    try:
        events = await count_events(engine)
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"rebuilding {service}'s read models", total=events)
            cpu = time.process_time()
            done = await rebuild_projection(engine, projection, tables,
                                            on_page=lambda n: progress.advance(task, n))
            cpu = time.process_time() - cpu
        console.print(f"rebuilt {done.events:,} events in {done.seconds:.2f} s ({done.rate:,.0f}/s): "
                      f"waiting for pages {done.read_s:.2f} s, COPY {done.write_s:.2f} s, "
                      f"this process's CPU {cpu:.2f} s "
                      f"({done.events / max(cpu, 1e-9):,.0f} events per CPU-second)"
                      + ("" if done.batched else ", one event at a time (not every fold has its twin)"))
    finally:
        await engine.dispose()
    return Rebuild(done.events, done.rate, done.events / max(cpu, 1e-9))


@contextmanager
def postgres_server(database_url: str | None) -> Iterator[str]:
    """The server at `database_url`, else an embedded one in a temporary directory (as
    `make bench-growth` starts one), stopped and removed afterwards."""
    if database_url:
        yield database_url
        return
    from devstack.embedded import start_postgres

    workdir = Path(tempfile.mkdtemp(prefix="fayuan-history-"))
    postgres = start_postgres(workdir / "pgdata", keep_data=False)
    try:
        yield postgres.url
    finally:
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)


Seeding = Callable[[str, str, int, int, Console], tuple[ServiceSettings, int]]


def seed_and_rebuild(service: str, seeding: Seeding, rebuilt: Projection, tables: list[Table], *,
                     size: str, cases: int, agencies: int, database_url: str | None, check: bool) -> None:
    """Seed one size of a service's store, then time its rebuild as bench.growth does; `check`:
    also rebuild one event at a time and compare the tables with the batched rebuild's."""
    chosen = SIZES[size]
    cases, agencies = cases or chosen.cases, agencies or chosen.agencies
    with postgres_server(database_url) as server_url:
        console.print(f"[bold]{service}[/], {size}: {cases:,} cases over {agencies} agencies")
        started = time.perf_counter()
        settings, written = seeding(server_url, size, cases, agencies, console)
        seeded = time.perf_counter() - started
        console.print(f"seeded {written:,} events in {seeded:.1f} s")
        done = asyncio.run(rebuild(settings, rebuilt, tables, service))
        console.print(f"{service} {size}: {written:,} events seeded in {seeded:.1f} s; rebuild "
                      f"{done.rate:,.0f} events/s, {done.cpu_rate:,.0f} events per CPU-second")
        if check:
            asyncio.run(_check(settings, rebuilt, tables, console))


async def _check(settings: ServiceSettings, rebuilt: Projection, tables: list[Table],
                 console: Console) -> None:
    from shared.testing.rebuild import both_rebuilds

    engine = create_engine(settings)
    try:
        one_by_one, batched, figures = await both_rebuilds(engine, rebuilt, tables)
    finally:
        await engine.dispose()
    counts = {name: len(rows) for name, rows in batched.items() if rows}
    if one_by_one != batched or not figures.batched:
        raise SystemExit(f"the batched rebuild differs from the per-event one: {counts}")
    console.print(f"per-event and batched rebuilds leave the same tables, rows: {counts}")
    db = await asyncpg.connect(raw_dsn(settings))
    try:
        stored = await db.fetch("SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY type")
    finally:
        await db.close()
    console.print(f"from the events stored: {dict((r['type'], r['n']) for r in stored)}")

