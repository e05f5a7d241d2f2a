"""`make bench-growth` (`python -m bench.growth`): how each cost grows with the history.

For each size (bench/seed.py: none, small, medium; national with --national), on a fresh
embedded PostgreSQL with production's shared buffers (`production_server`: a national year does
not fit in `make run`'s 32 MB, nor would it in production), in databases of its own:
1. seed assignment's store with a year of decisions (COPY), then rebuild its read models from the
   store through its projection, timed, with a progress bar: the rebuild's events/s; beside it,
   what a decision used to read: the fold of one agency's whole rotation stream;
2. seed intake's store with as many registrations through its own command (bench/intake_history.py);
3. seed publication's store with each case's closure, grade and payment, and rebuild it
   (bench/publication_history.py);
4. once every size is ready, decide `--decisions` new cases of one agency in each size's database
   through the engine's own handler, and register as many through intake's, taking turns between
   the sizes so the machine's ups and downs weigh on each alike: wall-clock p50/p99 and this
   process's CPU per decision and per registration;
5. draw up the city's disclosure of the last whole half-year: seconds, cases counted, size;
6. the database's size per million events.

Then one table each for assignment, intake and publication: each figure beside its baseline (the
history-less size) and the ratio, against the targets (docs/benchmarks.md "Growth"). The figures
are of a shared machine unless it was idle: ratios within one run are what to read."""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import evaluation_history, intake_history, publication_history, sanctions_history
from bench.intake_history import Registrar
from bench.rebuild import Rebuild, console, rebuild
from bench.seed import SIZES, Size, agency_id, bench_settings, seed
from services.assignment import handlers as engine_handlers
from services.assignment.app import MIGRATIONS
from services.assignment.domain import Rotation
from services.assignment.projections import METADATA, projection
from services.assignment.settings import AssignmentSettings
from services.evaluation import projections as evaluation_projections
from services.evaluation.app import MIGRATIONS as EVALUATION_MIGRATIONS
from services.intake import projections as intake_projections
from services.intake.settings import IntakeSettings
from services.publication import projections as publication_projections
from services.publication.settings import PublicationSettings
from services.sanctions import projections as sanctions_projections
from services.sanctions.app import MIGRATIONS as SANCTIONS_MIGRATIONS
from shared import store
from shared.contracts import CaseFlags, CaseKind, CaseRegistered
from shared.db import create_engine
from shared.ids import new_case_id
from shared.migrations import upgrade
from shared.settings import ServiceSettings
from shared.uow import unit_of_work

LATENCY_TARGET = 1.20  # at the largest history, within 20% of the smallest
REBUILD_TARGET = 20_000  # events/s
# A rebuild of fewer events is mostly its fixed costs (TRUNCATE, the first page, ANALYZE): its rate
# is printed, not judged (sanctions' store is a few thousand events even at medium).
JUDGED_EVENTS = 50_000
DISCLOSURE_TARGET = 10.0  # s, the city's draft of a national half-year
PAGE = 5_000

@dataclass
class Figures:
    size: str
    cases: int
    events: int
    seed_s: float
    rebuild_rate: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    fold_ms: float
    db_mib_per_million: float
    intake_seed_s: float = 0.0
    reg_p50_ms: float = 0.0
    reg_p99_ms: float = 0.0
    reg_cpu_ms: float = 0.0
    pub_seed_s: float = 0.0
    disclosure_s: float = 0.0
    disclosure_cpu_s: float = 0.0
    submission_s: float = 0.0
    submission_cpu_s: float = 0.0
    events_s: float = 0.0
    events_cpu_s: float = 0.0
    correction_s: float = 0.0
    disclosed_cases: int = 0
    disclosure_kib: float = 0.0
    rebuilds: dict[str, Rebuild] = field(default_factory=dict)
    """Each service's rebuild of this size's store, by service."""


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _case(agency: str) -> CaseRegistered:
    """A new case of `agency` whose parties no earlier case named (the conflict check finds nothing
    to refuse, so every decision assigns a handler and pays its whole cost)."""
    return CaseRegistered(case_id=new_case_id(), case_number=f"FY-BENCH-{uuid.uuid4().hex[:8]}",
                          case_kind=CaseKind.civil, cause="劳动争议", district="朝阳区", agency_id=agency,
                          flags=CaseFlags(),
                          adverse_party_hashes=[uuid.uuid4().hex * 2], aided_person_hash=uuid.uuid4().hex * 2,
                          registered_at=datetime.now(UTC))


Timed = dict[str, tuple[list[float], float]]  # per size: each one's wall-clock s, mean CPU s


async def take_turns(label: str, actions: dict[str, Callable[[], Awaitable[None]]], count: int,
                     warm_up: int = 10) -> Timed:
    """Run each size's action `count` times, one after the other and taking turns between the
    sizes (one in each, then the next), so a machine that gets busier or quieter during the run
    weighs on every size alike. The first `warm_up` of each fill the connection pool and the
    caches and are not counted. Returns, per size, each run's wall-clock seconds and the mean CPU
    seconds of this process per run."""
    walls: dict[str, list[float]] = {name: [] for name in actions}
    cpu: dict[str, float] = dict.fromkeys(actions, 0.0)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"{label}, taking turns between {len(actions)} histories",
                                 total=(warm_up + count) * len(actions))
        for n in range(warm_up + count):
            for name, action in actions.items():
                cpu_started, started = time.process_time(), time.perf_counter()
                await action()
                if n >= warm_up:
                    walls[name].append(time.perf_counter() - started)
                    cpu[name] += time.process_time() - cpu_started
                progress.advance(task)
    return {name: (walls[name], cpu[name] / count) for name in actions}


async def decisions(sizes: list[tuple[str, AssignmentSettings]], agency: str, count: int) -> Timed:
    """Decide `count` new cases of `agency` in each size's database, as the consumer does: read
    the rotation and the pool, decide, append, project, commit."""
    engines = {name: (create_engine(settings), settings) for name, settings in sizes}

    def decide(engine: AsyncEngine, settings: AssignmentSettings) -> Callable[[], Awaitable[None]]:
        async def one() -> None:
            async with unit_of_work(engine, settings, projection) as uow:
                await engine_handlers.assign_registered_case(uow, _case(agency))
        return one

    try:
        return await take_turns("deciding", {name: decide(*pair) for name, pair in engines.items()}, count)
    finally:
        for engine, _ in engines.values():
            await engine.dispose()


async def registrations(sizes: list[tuple[str, IntakeSettings]], count: int) -> Timed:
    """Register `count` new cases in each size's intake database through intake's command."""
    registrars = {name: Registrar(settings) for name, settings in sizes}
    try:
        return await take_turns("registering", {name: r.register for name, r in registrars.items()}, count)
    finally:
        for registrar in registrars.values():
            await registrar.close()


async def fold_time(settings, agency: str, reads: int = 10) -> float:  # noqa: ANN001
    """What a decision read before: the whole rotation stream of the agency, folded (median s)."""
    engine = create_engine(settings)
    times = []
    try:
        async with engine.connect() as conn:
            for _ in range(reads):
                started = time.perf_counter()
                rows = await store.load(conn, Rotation.stream_id(agency))
                Rotation.fold(agency, [(r.type, r.data, r.recorded_at) for r in rows])
                times.append(time.perf_counter() - started)
    finally:
        await engine.dispose()
    return statistics.median(times)


async def database_size(settings) -> tuple[int, int]:  # noqa: ANN001
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            size = (await conn.execute(text("SELECT pg_database_size(current_database())"))).scalar_one()
            events = (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one()
    finally:
        await engine.dispose()
    return size, events


Prepared = tuple[AssignmentSettings, IntakeSettings, PublicationSettings | None, "Figures"]


async def _held(settings: ServiceSettings) -> int:
    """The events a size's database already holds (a kept server's)."""
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM events"))).scalar_one())
    finally:
        await engine.dispose()


def _seeded_before(settings: ServiceSettings, at_least: float, reuse: bool) -> bool:
    """With `reuse`, whether the size's database already holds a finished seed (`at_least` events:
    fewer is a seed that stopped half-way, written again). An empty store is never a finished seed,
    even of no cases: the history-less size's seed still registers its agencies' handlers, without
    whom its decisions would assign nobody and cost next to nothing."""
    if not reuse:
        return False
    held = asyncio.run(_held(settings))
    if held >= max(at_least, 1):
        console.print(f"{settings.database_name} already holds {held:,} events: not seeded again")
        return True
    return False


def prepare(server_url: str, size: Size, reuse: bool = False, everything: bool = True) -> Prepared:
    """Seed one size's databases (every service's store), rebuild each service's read models,
    time the old read; the latency figures are filled in by `measure`, once every size is ready.
    With `reuse` (a kept server, `--pgdata`), a store seeded there before is used again, and intake's
    registrations are topped up to the size: a national year is seeded once, not on every run.
    Without `everything`, only the stores the latency figures read (assignment's and intake's)."""
    console.print(f"[bold]{size.name}[/]: {size.cases:,} cases over {size.agencies} agencies")
    settings = bench_settings(server_url, f"assignment_growth_{size.name}")
    upgrade(settings, MIGRATIONS)
    started = time.perf_counter()
    if not _seeded_before(settings, size.cases * 2, reuse):
        asyncio.run(seed(settings, size))
    seeded = time.perf_counter() - started
    _, events = asyncio.run(database_size(settings))
    rebuilds = {"assignment": asyncio.run(rebuild(settings, projection, METADATA.sorted_tables,
                                                  "assignment"))}
    fold = asyncio.run(fold_time(settings, agency_id(0)))
    intake, intake_seeded = intake_history.seed(server_url, size.name, size.cases, console, top_up=reuse)
    rebuilds["intake"] = asyncio.run(rebuild(intake, intake_projections.projection,
                                             intake_projections.REBUILT_TABLES, "intake"))
    figures = Figures(size=size.name, cases=size.cases, events=events, seed_s=seeded,
                      rebuild_rate=rebuilds["assignment"].rate, p50_ms=0.0, p99_ms=0.0, cpu_ms=0.0,
                      fold_ms=fold * 1000, db_mib_per_million=0.0, intake_seed_s=intake_seeded,
                      rebuilds=rebuilds)
    if not everything:
        return settings, intake, None, figures
    started = time.perf_counter()
    publication, _ = publication_history.seed(server_url, size.name, size.cases, size.agencies, console,
                                              reuse=reuse)
    pub_seeded = time.perf_counter() - started
    # The seed rebuilt publication's read models once already (its facts went in with COPY): timed here.
    rebuilds["publication"] = asyncio.run(rebuild(publication, publication_projections.projection,
                                                  publication_projections.REBUILT_TABLES, "publication"))
    # Evaluation's and sanctions' own years (subsidies and reviews; the fails' investigations),
    # seeded for their rebuilds only: no latency here depends on them.
    evaluation = evaluation_history.evaluation_settings(server_url, size.name)
    upgrade(evaluation, EVALUATION_MIGRATIONS)
    if not _seeded_before(evaluation, size.cases * 3, reuse):
        evaluation, _ = evaluation_history.seed(server_url, size.name, size.cases, size.agencies, console)
    rebuilds["evaluation"] = asyncio.run(rebuild(evaluation, evaluation_projections.projection,
                                                 evaluation_projections.REBUILT_TABLES, "evaluation"))
    sanctions = sanctions_history.sanctions_settings(server_url, size.name)
    upgrade(sanctions, SANCTIONS_MIGRATIONS)
    if not _seeded_before(sanctions, max(size.cases * 0.1, 1), reuse):
        sanctions, _ = sanctions_history.seed(server_url, size.name, size.cases, size.agencies, console)
    rebuilds["sanctions"] = asyncio.run(rebuild(sanctions, sanctions_projections.projection,
                                                sanctions_projections.REBUILT_TABLES, "sanctions"))
    figures.pub_seed_s = pub_seeded
    return settings, intake, publication, figures


def measure(server_url: str, sizes: list[Size], count: int, reuse: bool = False,
            everything: bool = True) -> list[Figures]:
    prepared = [prepare(server_url, size, reuse, everything) for size in sizes]
    console.print(f"[bold]latency[/]: {count} decisions and {count} registrations in each history, "
                  "taking turns")
    decided = asyncio.run(decisions([(f.size, settings) for settings, _, _, f in prepared], agency_id(0),
                                    count))
    registered = asyncio.run(registrations([(f.size, intake) for _, intake, _, f in prepared], count))
    figures = []
    for settings, _, publication, f in prepared:
        if publication is not None:
            _draw_up(f, publication)
        walls, cpu = decided[f.size]
        f.p50_ms, f.p99_ms = _percentile(walls, 0.50) * 1000, _percentile(walls, 0.99) * 1000
        f.cpu_ms = cpu * 1000
        walls, cpu = registered[f.size]
        f.reg_p50_ms, f.reg_p99_ms = _percentile(walls, 0.50) * 1000, _percentile(walls, 0.99) * 1000
        f.reg_cpu_ms = cpu * 1000
        size_bytes, f.events = asyncio.run(database_size(settings))
        f.db_mib_per_million = size_bytes / 2**20 / max(f.events, 1) * 1_000_000
        figures.append(f)
    return figures


def _draw_up(f: Figures, publication: PublicationSettings) -> None:
    console.print(f"[bold]{f.size}[/]: drawing up the city's half-year disclosure: drafted, submitted, "
                  "composed from the fact events")
    drawn = publication_history.draw_up(publication)
    f.disclosure_s, f.disclosure_cpu_s = drawn.draft_s, drawn.draft_cpu_s
    f.submission_s, f.submission_cpu_s = drawn.submitted_s, drawn.submitted_cpu_s
    f.events_s, f.events_cpu_s = drawn.events_s, drawn.events_cpu_s
    f.correction_s = drawn.correction_s
    f.disclosed_cases, f.disclosure_kib = drawn.cases, drawn.size_bytes / 1024


def measure_disclosure(server_url: str, sizes: list[Size]) -> list[Figures]:
    """Only publication's part: each size's publication store seeded (unless a kept server already
    holds it) and the city's half-year drawn up; no other service is seeded (a national year of
    assignment and intake takes hours, publication's three small facts per case minutes)."""
    figures = []
    for size in sizes:
        console.print(f"[bold]{size.name}[/]: {size.cases:,} cases over {size.agencies} agencies "
                      "(publication only)")
        started = time.perf_counter()
        publication, _ = publication_history.seed(server_url, size.name, size.cases, size.agencies, console,
                                                  reuse=True)
        f = Figures(size=size.name, cases=size.cases, events=0, seed_s=0.0, rebuild_rate=0.0, p50_ms=0.0,
                    p99_ms=0.0, cpu_ms=0.0, fold_ms=0.0, db_mib_per_million=0.0,
                    pub_seed_s=time.perf_counter() - started)
        _draw_up(f, publication)
        figures.append(f)
    return figures


def _ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}" if baseline else "-"


def _verdict(ok: bool) -> str:
    return "[green]meets it[/]" if ok else "[red]misses it[/]"


def report(figures: list[Figures], disclosure: bool = True) -> None:
    base = figures[0]
    _report_services(figures, base)
    if disclosure:
        report_disclosure(figures)
    table = Table(title="Growth: each service's projection rebuild (its whole store, one transaction)")
    for column in ("history", "service", "events", "events/s", "events per CPU-second",
                   f"target ≥ {REBUILD_TARGET:,}"):
        table.add_column(column, justify="left" if column in ("history", "service") else "right")
    for f in figures:
        for service, r in f.rebuilds.items():
            if not r.events:
                table.add_row(f.size, service, "0", "-", "-", "(nothing stored)")
                continue
            verdict = (_verdict(r.rate >= REBUILD_TARGET) if r.events >= JUDGED_EVENTS
                       else f"(under {JUDGED_EVENTS:,} events: not judged)")
            table.add_row(f.size, service, f"{r.events:,}", f"{r.rate:,.0f}", f"{r.cpu_rate:,.0f}", verdict)
    console.print(table)
    largest = figures[-1]
    judged = [(f.size, service, r) for f in figures for service, r in f.rebuilds.items()
              if r.events >= JUDGED_EVENTS]
    for what, ratio in (("decision", largest.p50_ms / base.p50_ms),
                        ("registration", largest.reg_p50_ms / base.reg_p50_ms)):
        console.print(f"{what} p50 at the largest history / at the smallest = [bold]{ratio:.2f}[/]   "
                      f"target ≤ {LATENCY_TARGET:.2f}: {_verdict(ratio <= LATENCY_TARGET)}")
    if judged:
        at, service, slowest = min(judged, key=lambda m: m[2].rate)
        console.print(f"slowest rebuild of {JUDGED_EVENTS:,} events or more = [bold]{slowest.rate:,.0f}[/] "
                      f"events/s ({service}'s, {at})   target ≥ {REBUILD_TARGET:,}: "
                      + _verdict(slowest.rate >= REBUILD_TARGET))
    else:
        console.print(f"no rebuild of {JUDGED_EVENTS:,} events or more: the rebuild target is not judged")
    if disclosure:
        disclosure_verdict(figures)


def _report_services(figures: list[Figures], base: Figures) -> None:
    table = Table(title="Growth: assignment's costs by the size of the history (baseline: the first row)")
    for column in ("history", "cases", "events", "seed s", "rebuild ev/s", "decision p50 ms", "× base",
                   "p99 ms", "× base", "CPU ms/decision", "× base", "old read: fold ms", "MiB per M events"):
        table.add_column(column, justify="left" if column == "history" else "right")
    for f in figures:
        table.add_row(f.size, f"{f.cases:,}", f"{f.events:,}", f"{f.seed_s:.0f}", f"{f.rebuild_rate:,.0f}",
                      f"{f.p50_ms:.1f}", _ratio(f.p50_ms, base.p50_ms), f"{f.p99_ms:.1f}",
                      _ratio(f.p99_ms, base.p99_ms), f"{f.cpu_ms:.1f}", _ratio(f.cpu_ms, base.cpu_ms),
                      f"{f.fold_ms:.1f}", f"{f.db_mib_per_million:,.0f}")
    console.print(table)
    table = Table(title="Growth: intake's registration by the size of its history (the command, not HTTP)")
    for column in ("history", "cases registered before", "seed s", "registration p50 ms", "× base", "p99 ms",
                   "× base", "CPU ms/registration", "× base"):
        table.add_column(column, justify="left" if column == "history" else "right")
    for f in figures:
        table.add_row(f.size, f"{f.cases:,}", f"{f.intake_seed_s:.0f}", f"{f.reg_p50_ms:.1f}",
                      _ratio(f.reg_p50_ms, base.reg_p50_ms), f"{f.reg_p99_ms:.1f}",
                      _ratio(f.reg_p99_ms, base.reg_p99_ms), f"{f.reg_cpu_ms:.1f}",
                      _ratio(f.reg_cpu_ms, base.reg_cpu_ms))
    console.print(table)


def report_disclosure(figures: list[Figures]) -> None:
    table = Table(title="Growth: the city's half-year disclosure drafted, submitted (as approval publishes "
                        "it) and composed from the fact events (as an earlier version is rebuilt); what a "
                        "correction's approval adds: the version before read and compared")
    for column in ("history", "cases in the year", "seed + rebuild s", "cases counted", "draft s", "CPU s",
                   "ms per 1,000 cases", "submission s", "CPU s ", "from the events s", "CPU s  ",
                   "correction s", "document KiB"):
        table.add_column(column, justify="left" if column == "history" else "right")
    for f in figures:
        table.add_row(f.size, f"{f.cases:,}", f"{f.pub_seed_s:.0f}", f"{f.disclosed_cases:,}",
                      f"{f.disclosure_s:.2f}", f"{f.disclosure_cpu_s:.2f}",
                      f"{f.disclosure_s / f.disclosed_cases * 1e6:,.0f}" if f.disclosed_cases else "-",
                      f"{f.submission_s:.2f}", f"{f.submission_cpu_s:.2f}", f"{f.events_s:.2f}",
                      f"{f.events_cpu_s:.2f}", f"{f.correction_s:.2f}", f"{f.disclosure_kib:,.0f}")
    console.print(table)


def disclosure_verdict(figures: list[Figures]) -> None:
    """The target is judged on the draft and on the submission the bureau approves; composing the
    fact events (a published version rebuilt) is printed beside them."""
    largest = figures[-1]
    national = next((f for f in figures if f.size == "national"), None)
    if national is None:
        console.print(f"the {largest.size} half-year's disclosure took [bold]{largest.disclosure_s:.2f}[/] s "
                      f"drafted, [bold]{largest.submission_s:.2f}[/] s submitted "
                      f"({largest.events_s:.2f} s composed from the fact events); the target "
                      f"(a national half-year under {DISCLOSURE_TARGET:.0f} s) is judged with --national")
    else:
        slower = max(national.disclosure_s, national.submission_s)
        console.print(f"the national half-year's disclosure = [bold]{national.disclosure_s:.2f}[/] s "
                      f"drafted, [bold]{national.submission_s:.2f}[/] s submitted "
                      f"({national.events_s:.2f} s composed from the fact events)   "
                      f"target < {DISCLOSURE_TARGET:.0f} s: {_verdict(slower < DISCLOSURE_TARGET)}")


PRODUCTION_CLUSTER = Path(__file__).resolve().parent.parent / "deploy/k8s/base/postgres/cluster.yaml"


def production_server() -> dict[str, str]:
    """The PostgreSQL settings production's cluster gives the five services' databases
    (`shared_buffers`: 512 MB there), so a national year meets the buffers it would meet there;
    `make run`'s server keeps 32 MB (devstack.embedded, the stack's memory budget)."""
    cluster = yaml.safe_load(PRODUCTION_CLUSTER.read_text())
    parameters = cluster["spec"]["postgresql"]["parameters"]
    return {"shared_buffers": str(parameters["shared_buffers"])}


cli = typer.Typer(add_completion=False)


@cli.command()
def main(
    national: bool = typer.Option(False, help="Also the national year (1.4 million cases): long."),
    sizes: str = typer.Option("none,small,medium", help="Comma-separated sizes (none, small, medium)."),
    count: int = typer.Option(200, "--decisions", help="Decisions measured at each size."),
    keep: bool = typer.Option(False, help="Keep the temp directory (the database) afterwards."),
    disclosure_only: bool = typer.Option(
        False, help="Seed only publication's store and time only the disclosure (minutes at national)."),
    latency_only: bool = typer.Option(
        False, help="Seed and rebuild only assignment's and intake's stores, which the latency figures "
                    "read; no disclosure (an hour less at national)."),
    pgdata: Path | None = typer.Option(
        None, help="The database server's directory, kept afterwards; a size already seeded there is "
                   "measured again without seeding it anew (intake's registrations topped up)."),
) -> None:
    """How costs grow with the history: decisions, registrations, the disclosure, rebuild, size."""
    from devstack.embedded import start_postgres

    chosen = [SIZES[s.strip()] if s.strip() != "none" else Size("none", 0, 20)
              for s in sizes.split(",") if s.strip()]
    if national:
        chosen.append(SIZES["national"])
    workdir = Path(tempfile.mkdtemp(prefix="fayuan-growth-"))
    keep = keep or pgdata is not None
    console.rule(f"Fayuan bench-growth · {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    postgres = start_postgres(pgdata or workdir / "pgdata", keep_data=keep, settings=production_server())
    try:
        if disclosure_only:
            figures = measure_disclosure(postgres.url, chosen)
            report_disclosure(figures)
            disclosure_verdict(figures)
        else:
            figures = measure(postgres.url, chosen, count, reuse=pgdata is not None,
                              everything=not latency_only)
            report(figures, disclosure=not latency_only)
    finally:
        postgres.stop()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    cli()
