"""`make bench` (`python -m bench`): start a fresh stack, load it, print figures.

1. A fresh embedded PostgreSQL (temp dir) and Tansu broker on free ports; the services that
   exist (`services/<name>/__main__.py`) migrated and started as processes by the same Stack
   as `make run`; beside them the bare baseline app (bench/bare_app.py).
2. Registration: `POST /api/v1/cases` on intake against the bare insert, same load.
3. Consumers: the ConsumerRunner (one-row projection) against a bare aiokafka hop that produces,
   consumes and decodes the same events.
4. Memory: every process of the stack sampled throughout; at rest and peak.

docs/benchmarks.md says how to read the figures.
"""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import signal
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

import psutil
import typer
from rich.console import Console
from rich.table import Table

from bench import consumer, failure_latency, load, relay
from bench.bare_app import start_bare_app
from bench.cpu import CpuMeter, Usage
from bench.memory import MemorySampler, MiB
from devstack.embedded import (
    EmbeddedBroker,
    EmbeddedPostgres,
    free_port,
    free_ports,
    start_broker,
    start_postgres,
)
from devstack.stack import SERVICES, Stack
from shared.auth import Role

ROOT = Path(__file__).resolve().parent.parent
MEMORY_BUDGET = int(1.5 * 1024 * MiB)

console = Console()
if not console.is_terminal:
    console = Console(width=120)


def say(message: str) -> None:
    console.print(f"[green]✓[/] {message}")


def existing_services() -> list[str]:
    return [name for name in SERVICES if (ROOT / "services" / name / "__main__.py").exists()]


# --- printing -------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "[green]meets it[/]" if ok else "[red]misses it[/]"


def print_registration(results: list[load.LoadResult]) -> None:
    table = Table(title="Registration throughput: POST /api/v1/cases")
    for column in ("endpoint", "client", "conns", "seconds", "requests", "req/s", "p50 ms", "p95 ms",
                   "p99 ms", "errors"):
        table.add_column(column, justify="left" if column in ("endpoint", "client") else "right")
    for r in results:
        table.add_row(r.target, r.client, str(r.connections), f"{r.seconds:.1f}", f"{r.requests:,}",
                      f"{r.rate:,.0f}", f"{r.p50_ms:.1f}", f"{r.p95_ms:.1f}", f"{r.p99_ms:.1f}",
                      str(r.errors))
    console.print(table)
    registration, bare = results
    ratio = registration.rate / bare.rate if bare.rate else 0.0
    target = load.REGISTRATION_TARGET
    console.print(f"registration / bare insert = [bold]{ratio:.0%}[/]   target ≥ {target:.0%}: "
                  f"{_verdict(ratio >= target)}\n")


def print_cpu(windows: dict[str, tuple[Usage, float]], stack_labels: list[str]) -> None:
    """Who used the two cores in each window: the stack's processes, the bench, the client, the rest."""
    table = Table(title=f"Cores used ({os.cpu_count()} on this machine; "
                        "1.00 = one core busy the whole window)")
    table.add_column("process")
    for name in windows:
        table.add_column(name, justify="right")
    first = next(iter(windows.values()))[0]
    for label in [*stack_labels, *(label for label in first.cores if label not in stack_labels)]:
        table.add_row(label, *(f"{usage.cores[label]:.2f}" for usage, _ in windows.values()))
    table.add_row("load generator", *(f"{client:.2f}" for _, client in windows.values()))
    table.add_row("[yellow]other processes on the machine[/]",
                  *(f"[yellow]{usage.others(client):.2f}[/]" for usage, client in windows.values()))
    table.add_section()
    table.add_row("[bold]machine busy[/]",
                  *(f"[bold]{usage.machine:.2f}[/]" for usage, _ in windows.values()))
    console.print(table)
    if max(usage.others(client) for usage, client in windows.values()) > 0.15:
        console.print("[yellow]other processes used the CPU while measuring: the figures are lower, "
                      "and the ratios less certain, than on an idle machine[/]")
    console.print()


def print_consumers(produced: consumer.ProduceResult, plain: consumer.ConsumeResult,
                    kernel: consumer.ConsumeResult) -> None:
    table = Table(title=f"Consumer throughput: {plain.events:,} CaseRegistered events, produced while "
                        "consumed, 4 partitions")
    for column in ("path", "events", "join + warm-up s", "seconds", "events/s"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for r in (plain, kernel):
        table.add_row(r.path, f"{r.events:,}", f"{r.startup_s:.2f}", f"{r.seconds:.2f}", f"{r.rate:,.0f}")
    console.print(table)
    ratio = kernel.rate / plain.rate if plain.rate else 0.0
    console.print(f"ConsumerRunner {kernel.rate:,.0f}/s / bare hop {plain.rate:,.0f}/s = "
                  f"[bold]{ratio:.1%}[/]   "
                  f"target ≥ {consumer.TARGET:.0%}: {_verdict(ratio >= consumer.TARGET)}   "
                  f"(the producer alone: {produced.rate:,.0f} events/s with acks=all)\n")


def print_relay(relayed: relay.RelayResult, plain: consumer.ConsumeResult) -> None:
    ratio = relayed.rate / plain.rate if plain.rate else 0.0
    console.print(f"Relay: {relayed.events:,} outbox rows in {relayed.batches} batches, "
                  f"{relayed.rate:,.0f}/s / bare hop {plain.rate:,.0f}/s = [bold]{ratio:.1%}[/]   "
                  f"target ≥ {relay.TARGET:.0%}: {_verdict(ratio >= relay.TARGET)}\n")


def print_failure_latency(result: failure_latency.Latencies) -> None:
    table = Table(title=f"From EvaluationFailed committed to the topics: {result.sent:,} failures at "
                        f"{result.rate:g}/s")
    for column in ("arrived on its topic", "events", "p50 ms", "p95 ms", "p99 ms", "target p99"):
        table.add_column(column, justify="left" if column.startswith("arrived") else "right")
    arrivals = (("InvestigationOpened", result.investigations), ("BarNoticeIssued", result.notices))
    for label, values in arrivals:
        q = [failure_latency.Latencies.quantile(values, x) for x in (0.5, 0.95, 0.99)]
        table.add_row(label, f"{len(values):,}", *(f"{v:,.0f}" for v in q),
                      f"≤ {failure_latency.TARGET_P99_MS:,.0f} "
                      f"{_verdict(q[2] <= failure_latency.TARGET_P99_MS)}")
    console.print(table)


def print_memory(sampler: MemorySampler, stack_labels: list[str], extra_labels: list[str]) -> None:
    rss_rest, pss_rest = sampler.at_rest("ready", "load", 0), sampler.at_rest("ready", "load", 1)
    rss_peak, pss_peak = sampler.peak("load", 0), sampler.peak("load", 1)
    table = Table(title=f"Memory of the stack ({len(sampler.samples)} samples: "
                        f"RSS every {sampler.interval:g} s, "
                        f"PSS every {sampler.interval * sampler.pss_every:g} s)")
    for column in ("process", "RSS at rest MiB", "RSS peak MiB", "PSS at rest MiB", "PSS peak MiB"):
        table.add_column(column, justify="left" if column == "process" else "right")

    def mib(value: int) -> str:
        return f"{value / MiB:,.0f}"

    for label in stack_labels:
        table.add_row(label, mib(rss_rest[label]), mib(rss_peak[label]), mib(pss_rest[label]),
                      mib(pss_peak[label]))
    sums = [sum(d[label] for label in stack_labels) for d in (rss_rest, rss_peak, pss_rest, pss_peak)]
    table.add_section()
    table.add_row("[bold]the stack (sum)[/]", *(f"[bold]{mib(v)}[/]" for v in sums))
    table.add_row("largest sum at one instant", "", mib(sampler.peak_total("load", stack_labels, 0)), "",
                  mib(sampler.peak_total("load", stack_labels, 1)))
    table.add_row("budget", "", "", "", mib(MEMORY_BUDGET))
    if extra_labels:
        table.add_section()
        for label in extra_labels:
            table.add_row(f"[dim]{label} (not in the sum)[/]",
                          *(f"[dim]{mib(d[label])}[/]" for d in (rss_rest, rss_peak, pss_rest, pss_peak)))
    console.print(table)
    pss_sum = sums[3]
    console.print(f"peak PSS sum / budget = [bold]{pss_sum / MEMORY_BUDGET:.0%}[/]   "
                  f"budget 1.5 GiB for the whole stack: {_verdict(pss_sum <= MEMORY_BUDGET)}   "
                  "(sum of RSS peaks, an upper bound that counts PostgreSQL's shared buffers once "
                  f"per backend: {sums[1] / MEMORY_BUDGET:.0%})\n")


# --- the run --------------------------------------------------------------------------------


cli = typer.Typer(add_completion=False)


@cli.command()
def main(
    seconds: float = typer.Option(20.0, help="Measured seconds of registration load, per endpoint."),
    warmup: float = typer.Option(5.0, help="Seconds of load on each endpoint before measuring."),
    connections: int = typer.Option(32, help="Concurrent HTTP clients (keep-alive connections)."),
    events: int = typer.Option(5000, help="Pre-produced events for the consumer benchmark."),
    services: str = typer.Option("", help="Comma-separated services to run (default: all that exist)."),
    client: str = typer.Option("wrk", help="Load generator: wrk (installed when missing) or httpx."),
    keep: bool = typer.Option(False, help="Keep the temp workdir (logs) afterwards."),
) -> None:
    """Benchmarks: throughput against bare baselines, memory per process of the stack."""
    started = time.monotonic()
    names = [s.strip() for s in services.split(",") if s.strip()] or existing_services()
    missing = [n for n in SERVICES if n not in names]
    console.rule(f"Fayuan bench · {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    console.print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
                  f"{psutil.virtual_memory().total / 1024**3:.1f} GiB, Python {platform.python_version()}")
    console.print(f"stack: {', '.join(names)}"
                  + (f"  (not running: {', '.join(missing)})" if missing else ""))

    wrk = load.ensure_wrk(say) if client == "wrk" else None
    if client == "wrk" and not wrk:
        console.print("[yellow]wrk is unavailable: falling back to httpx (costs more CPU per request)[/]")
    bodies = load.registration_bodies()

    workdir = Path(tempfile.mkdtemp(prefix="fayuan-bench-"))
    (workdir / "logs").mkdir()
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    stack: Stack | None = None
    bare_process: subprocess.Popen | None = None
    sampler: MemorySampler | None = None
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        with console.status("starting a fresh embedded PostgreSQL"):
            postgres = start_postgres(workdir / "pgdata", keep_data=False)
        say(f"PostgreSQL (embedded, {workdir / 'pgdata'})")
        with console.status("starting the Tansu broker"):
            broker = start_broker(free_port(), log_file=workdir / "logs" / "tansu.log")
        say(f"broker (Tansu, in memory) at {broker.bootstrap}")
        stack = Stack(database_url=postgres.url, bootstrap=broker.bootstrap, workdir=workdir,
                      ports=dict(zip(names, free_ports(len(names)), strict=True)), movable_ports=True)
        with console.status(f"migrating {len(names)} databases"):
            stack.migrate()
        say("databases migrated")
        with console.status(f"starting {', '.join(names)}"):
            for name in names:
                stack.start(name)
            stack.wait_ready(timeout=90)
            bare_process, bare_url = start_bare_app(postgres.url, workdir)
        say(f"stack ready ({', '.join(f'{n} :{p}' for n, p in stack.ports.items())}); bare app at {bare_url}")

        stack_pids = {name: stack.processes[name].pid for name in names}
        stack_pids |= {"PostgreSQL (server + backends)": postgres.pid, "Tansu broker": broker.pid}
        stack_labels = list(stack_pids)
        sampler = MemorySampler({**stack_pids, "bare baseline app": bare_process.pid}).start()
        meter = CpuMeter({**stack_pids, "bare baseline app": bare_process.pid},
                         alone={"bench (this process)": os.getpid()})
        with console.status("waiting for the stack's start-up work to end"):
            meter.steady(stack_labels)
            sampler.mark("ready")
            at_rest = meter.over(3.0)  # at rest: fifteen memory samples
            sampler.mark("load")
        idle = at_rest.total(stack_labels)
        say(f"at rest: memory sampled; the stack idles at {idle:.2f} cores")

        def drained(timeout: float = 60.0) -> float:
            return meter.settle(stack_labels, below=idle + 0.10, timeout=timeout)

        intake_url = stack.url("intake")
        # Agency staff register cases; a token long enough for the whole bench.
        as_staff = stack.headers(Role.agency_staff, sub="bench-staff", agency_id=load.AGENCY, minutes=120)
        with console.status(f"warming up: {warmup:g} s on each endpoint"):
            load.drive(wrk, "bare", bare_url, bodies, connections=connections, seconds=warmup,
                       headers=as_staff)
            load.drive(wrk, "intake", intake_url, bodies, connections=connections, seconds=warmup,
                       headers=as_staff)
            waited = drained()
        say(f"warmed up (the stack drained in {waited:.1f} s)")
        with console.status(f"bare insert: {connections} clients for {seconds:g} s"):
            bare, bare_usage = meter.measure(lambda: load.drive(
                wrk, "bare FastAPI + asyncpg insert", bare_url, bodies, connections=connections,
                seconds=seconds, headers=as_staff))
            drained()
        say(f"bare insert: {bare.rate:,.0f} req/s")
        with console.status(f"registration: {connections} clients for {seconds:g} s"):
            registration, registration_usage = meter.measure(lambda: load.drive(
                wrk, "intake registration", intake_url, bodies, connections=connections, seconds=seconds,
                headers=as_staff))
        say(f"registration: {registration.rate:,.0f} req/s")
        with console.status("letting the relays and the consumers drain"):
            waited = drained()
        say(f"the stack drained in {waited:.1f} s")

        with console.status(f"consumer throughput over {events:,} events"):
            (produced, plain, kernel), consumer_usage = meter.measure(lambda: asyncio.run(
                consumer.run(postgres.url, broker.bootstrap, events, say=say)))
        with console.status(f"relay throughput over {events:,} outbox rows"):
            relayed, relay_usage = meter.measure(lambda: asyncio.run(
                relay.run(postgres.url, broker.bootstrap, events, say=say)))
        latency, latency_usage = None, None
        if {"evaluation", "sanctions"} <= set(names):
            drained()
            evaluation_db = stack.service_env("evaluation").get("FAYUAN_DATABASE_NAME", "fayuan_evaluation")
            with console.status("failed evaluations at 100/s: to the investigation and the bar notice"):
                latency, latency_usage = meter.measure(lambda: asyncio.run(failure_latency.run(
                    postgres.url, evaluation_db, broker.bootstrap, rate=100, seconds=20, say=say)))
        sampler.stop()

        console.print()
        print_registration([registration, bare])
        print_cpu({"at rest": (at_rest, 0.0), "bare load": (bare_usage, bare.client_cpu),
                   "registration load": (registration_usage, registration.client_cpu),
                   "consumer bench": (consumer_usage, 0.0), "relay bench": (relay_usage, 0.0),
                   **({"failures at 100/s": (latency_usage, 0.0)} if latency_usage is not None else {})},
                  stack_labels)
        print_consumers(produced, plain, kernel)
        print_relay(relayed, plain)
        if latency is not None:
            print_failure_latency(latency)
        print_memory(sampler, stack_labels, ["bare baseline app"])
        console.print(f"whole bench: {time.monotonic() - started:.0f} s; logs in {workdir / 'logs'}"
                      + ("" if keep else " (removed)"))
    except KeyboardInterrupt:
        console.print("\ninterrupted")
        raise typer.Exit(130) from None
    finally:
        if sampler is not None:
            sampler.stop()
        if bare_process is not None and bare_process.poll() is None:
            bare_process.terminate()
            bare_process.wait(20)
        if stack is not None:
            stack.stop_all()
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    cli()
