"""`python -m bench.floor`: how much of a registration is spent before its command runs.

Issue 17 asks registration for half the bare insert's rate. This prices the parts of it on
their own, intake alone (no other service hears its events), each under the same load as
`make bench` (wrk, the same bodies and token):

1. intake's request path with no command (bench/floor_app.py): the middlewares, the token,
   the body's validation, the dependencies, a 201;
2. the same, with a unit of work opened and committed empty (BEGIN and COMMIT reach the server);
3. the same empty transaction on an asyncpg pool of its own, without SQLAlchemy's engine (the
   shell a leaner kernel would have);
4. registration itself (`POST /api/v1/cases`: the command, and the relay publishing the event);
5. the bare FastAPI + asyncpg insert (bench/bare_app.py).

For each it prints requests/s and the CPU each process spent per request, then what half the
bare rate leaves intake per request, beside what the parts cost. docs/benchmarks.md reads it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import typer
from rich.console import Console
from rich.table import Table

from bench import load
from bench.alone import intake_alone
from bench.bare_app import start_bare_app
from bench.cpu import CpuMeter, Usage
from bench.floor_app import ASYNCPG, FLOOR, UNIT_OF_WORK
from devstack.stack import ROOT, Stack
from shared.auth import Role

cli = typer.Typer(add_completion=False)
console = Console()
if not console.is_terminal:
    console = Console(width=170)


Run = tuple[str, str, load.LoadResult, Usage]  # endpoint, the process serving it, the load, the cores


def _serve_floor(stack: Stack) -> subprocess.Popen[bytes]:
    log = open(stack.workdir / "logs" / "intake.log", "ab")  # noqa: SIM115 - the child owns it
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "bench.floor_app"], cwd=ROOT,
        env={**stack.service_env("intake"), "PYTHONUNBUFFERED": "1"},
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    stack.processes["intake"] = process
    return process


def _per_request(usage: Usage, label: str, result: load.LoadResult) -> float:
    """Milliseconds of CPU `label` spent per request answered."""
    return usage.cores[label] / result.rate * 1000 if result.rate else 0.0


def _print(runs: list[Run]) -> None:
    table = Table(title="Registration, part by part: intake alone, each under the same load")
    for column in ("endpoint", "req/s", "p50 ms", "p99 ms", "errors", "app cores", "PG cores",
                   "app CPU ms/req", "PG CPU ms/req", "machine busy", "/ bare"):
        table.add_column(column, justify="left" if column == "endpoint" else "right")
    bare = runs[-1][2].rate
    for name, app, r, usage in runs:
        table.add_row(name, f"{r.rate:,.0f}", f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}", str(r.errors),
                      f"{usage.cores[app]:.2f}", f"{usage.cores['PostgreSQL']:.2f}",
                      f"{_per_request(usage, app, r):.2f}", f"{_per_request(usage, 'PostgreSQL', r):.2f}",
                      f"{usage.machine:.2f}", f"{r.rate / bare:.0%}" if bare else "-")
    console.print(table)
    cost = [_per_request(usage, app, r) for _, app, r, usage in runs]
    path, shell, lean, registration = cost[0], cost[1] - cost[0], cost[2] - cost[0], cost[3]
    command = registration - cost[1]
    goal = load.REGISTRATION_TARGET * bare
    console.print(
        f"Half the bare rate is {goal:,.0f} registrations/s. Intake is one process: at most one core, so "
        f"it may spend at most [bold]{1000 / goal:.2f} ms[/] of CPU per registration (less, as PostgreSQL, "
        f"the broker and the client share the machine's two cores).\n"
        f"Intake spends {path:.2f} ms before the command (middlewares, token, validation, dependencies), "
        f"{shell:.2f} ms on the unit of work's BEGIN and COMMIT (on asyncpg's own pool: {lean:.2f} ms), "
        f"and {command:.2f} ms on the command and the relay (sealing, the case number, the append, the "
        f"case's row, the outbox row, publishing the event).")


def _measure(stack: Stack, intake: int, bare: int, bare_url: str, postgres: int, broker: int, *,
             seconds: float, warmup: float, connections: int) -> list[Run]:
    """Each endpoint under the same load, one after the other, with the cores each process used."""
    wrk = load.ensure_wrk(console.print)
    bodies = load.registration_bodies()
    as_staff = stack.headers(Role.agency_staff, sub="bench-staff", agency_id=load.AGENCY)
    meter = CpuMeter({"intake": intake, "bare": bare, "PostgreSQL": postgres, "broker": broker})
    plan = [("intake: request path, no command", "intake", stack.url("intake"), FLOOR),
            ("intake: that + empty unit of work", "intake", stack.url("intake"), UNIT_OF_WORK),
            ("intake: that on asyncpg's own pool", "intake", stack.url("intake"), ASYNCPG),
            ("intake registration", "intake", stack.url("intake"), load.PATH),
            ("bare FastAPI + asyncpg insert", "bare", bare_url, load.PATH)]
    runs = []
    for n, (name, app, url, path) in enumerate(plan, 1):
        with console.status(f"{n}/{len(plan)} {name}: {connections} clients, {warmup:g} s warm-up "
                            f"and {seconds:g} s measured"):
            load.drive(wrk, "warm-up", url, bodies, connections=connections, seconds=warmup,
                       headers=as_staff, path=path)

            def measured(name: str = name, url: str = url, path: str = path) -> load.LoadResult:
                return load.drive(wrk, name, url, bodies, connections=connections, seconds=seconds,
                                  headers=as_staff, path=path)

            result, usage = meter.measure(measured)
        console.print(f"[green]✓[/] {n}/{len(plan)} {name}: {result.rate:,.0f} req/s")
        runs.append((name, app, result, usage))
    return runs


@cli.command()
def main(
    seconds: float = typer.Option(10.0, help="Seconds of load for each endpoint."),
    warmup: float = typer.Option(3.0, help="Seconds of load before each measured window."),
    connections: int = typer.Option(32, help="Concurrent HTTP clients (as `make bench`)."),
) -> None:
    """Price registration's parts: the request path, the transaction, the command."""
    with intake_alone("fayuan-floor-") as (workdir, postgres, broker, stack):
        bare_process: subprocess.Popen[bytes] | None = None
        try:
            with console.status("starting intake and the bare app"):
                intake = _serve_floor(stack)
                stack.wait_ready(["intake"], timeout=60)
                bare_process, bare_url = start_bare_app(postgres.url, workdir)
            runs = _measure(stack, intake.pid, bare_process.pid, bare_url, postgres.pid, broker.pid,
                            seconds=seconds, warmup=warmup, connections=connections)
            _print(runs)
            console.print(f"on {os.cpu_count()} cores; logs in {workdir / 'logs'} (removed)")
        finally:
            if bare_process is not None and bare_process.poll() is None:
                bare_process.terminate()
                bare_process.wait(20)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    cli()
