"""`python -m bench.profile`: where intake's registration spends its time.

Starts a fresh PostgreSQL and broker, migrates intake, serves it under pyinstrument (a dev
dependency) the way `make run` starts it, drives `POST /api/v1/cases` with the bench's load
generator, stops intake cleanly and prints the profile (an HTML one is written beside it). It
also prints how many cores intake, PostgreSQL and the client used, which says which of them is
the bottleneck.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psutil
import typer

from bench import load
from bench.alone import intake_alone
from devstack.stack import ROOT
from shared.auth import Role

cli = typer.Typer(add_completion=False)


def _cpu(process: psutil.Process) -> float:
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


@cli.command()
def main(
    seconds: float = typer.Option(15.0, help="Seconds of load while profiling."),
    connections: int = typer.Option(32, help="Concurrent HTTP clients."),
    interval: float = typer.Option(0.001, help="pyinstrument's sampling interval, seconds."),
) -> None:
    """Profile intake's registration under load."""
    with intake_alone("fayuan-profile-") as (workdir, postgres, broker, stack):
        session, html = workdir / "intake.pyisession", workdir / "intake-profile.html"
        log = open(workdir / "logs" / "intake.log", "ab")  # noqa: SIM115 - the child owns it
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "pyinstrument", "--interval", str(interval), "-r", "session",
             "-o", str(session), "-m", "services.intake", "serve"],
            cwd=ROOT, env=stack.service_env("intake"), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stack.processes["intake"] = process
        stack.wait_ready(["intake"], timeout=60)
        wrk = load.ensure_wrk(print)
        bodies = load.registration_bodies()
        as_staff = stack.headers(Role.agency_staff, sub="bench-staff", agency_id=load.AGENCY)
        load.drive(wrk, "warm-up", stack.url("intake"), bodies, connections=connections, seconds=3,
                   headers=as_staff)
        busy = {"intake": psutil.Process(process.pid), "PostgreSQL": psutil.Process(postgres.pid),
                "broker": psutil.Process(broker.pid)}
        before = {name: _cpu(p) for name, p in busy.items()}
        started = time.monotonic()
        result = load.drive(wrk, "intake", stack.url("intake"), bodies, connections=connections,
                            seconds=seconds, headers=as_staff)
        wall = time.monotonic() - started
        print(f"{result.rate:,.0f} req/s under the profiler, p50 {result.p50_ms:.1f} ms, "
              f"p95 {result.p95_ms:.1f} ms, errors {result.errors}")
        print("cores used: " + ", ".join(f"{n} {(_cpu(p) - before[n]) / wall:.2f}" for n, p in busy.items())
              + f", client {result.client_cpu:.2f}")
        process.send_signal(signal.SIGINT)
        process.wait(60)
        for renderer, target in (("text", None), ("html", html)):
            subprocess.run([sys.executable, "-m", "pyinstrument", "--load", str(session), "-r", renderer,  # noqa: S603
                            *(["-o", str(target)] if target else [])], check=False)
        print(f"HTML profile: {html}")


if __name__ == "__main__":
    cli()
