"""`make run` (`python -m devstack run`): the whole of Fayuan on this machine, on real parts.

Starts the embedded PostgreSQL (data kept in .fayuan/pgdata across runs) and the embedded Tansu
broker (or uses the ones DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS name), migrates the five
services' databases, starts the five services on fixed ports with their relays and consumers,
prints where each listens, and then supervises what it started: a broker, a PostgreSQL or a
service that dies is started again, and the console says so (docs/reliability.md, "`make run`
supervision"). Ctrl-C, SIGINT or SIGTERM stops everything cleanly, even when SIGINT was ignored
by whoever started it (a background job of a non-interactive shell inherits an ignored SIGINT).
"""

from __future__ import annotations

import os
import signal
import time
from collections import deque
from pathlib import Path

import typer
from rich.console import Console

from devstack.embedded import EmbeddedBroker, EmbeddedPostgres, start_broker, start_postgres
from devstack.stack import BROKER_PORT, ROOT, SERVICES, Stack, dev_personal_data_keys
from shared.auth import dev_secret

console = Console(stderr=True)

cli = typer.Typer(add_completion=False, no_args_is_help=True)

# A part that dies more often than this is broken, not unlucky: `make run` stops and says so.
RESTARTS_ALLOWED = 5
RESTART_WINDOW_SECONDS = 60.0
POLL_SECONDS = 0.5


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class Broken(RuntimeError):
    """A part that keeps dying: supervision gives up on it and stops the run."""


class Supervisor:
    """Restarts what `make run` started when it dies, and says so on the console."""

    def __init__(self, stack: Stack, postgres: EmbeddedPostgres | None, broker: EmbeddedBroker | None,
                 broker_port: int, workdir: Path):
        self.stack, self.postgres, self.broker = stack, postgres, broker
        self.broker_port, self.workdir = broker_port, workdir
        self.restarts: dict[str, deque[float]] = {}

    def _allow(self, part: str) -> None:
        now = time.monotonic()
        recent = self.restarts.setdefault(part, deque())
        while recent and now - recent[0] > RESTART_WINDOW_SECONDS:
            recent.popleft()
        if len(recent) >= RESTARTS_ALLOWED:
            raise Broken(f"{part} died {len(recent) + 1} times within {RESTART_WINDOW_SECONDS:.0f} s; "
                         f"see {self.workdir / 'logs'}")
        recent.append(now)

    def check(self) -> None:
        """One look at every part; restart what died."""
        if self.postgres is not None and not self.postgres.running():
            self._allow("PostgreSQL")
            console.print("[yellow]![/] PostgreSQL exited; restarting it (data kept) …")
            self.postgres.restart()
            console.print(f"[green]✓[/] PostgreSQL restarted (pid {self.postgres.pid}); "
                          "the services reconnect by themselves")
        if self.broker is not None and self.broker.process.poll() is not None:
            self._allow("broker")
            console.print(f"[yellow]![/] the broker exited with {self.broker.process.returncode}; "
                          "restarting it (empty: it keeps messages in memory) …")
            self.broker = start_broker(self.broker_port, log_file=self.workdir / "logs" / "tansu.log")
            console.print(f"[green]✓[/] broker restarted at {self.broker.bootstrap} (pid {self.broker.pid}); "
                          "the relays publish their outboxes again, consumers skip what they handled")
        for name, process in list(self.stack.processes.items()):
            if process.poll() is not None:
                self._allow(name)
                console.print(f"[yellow]![/] {name} exited with {process.returncode}; restarting it "
                              f"(its log: {self.workdir / 'logs' / f'{name}.log'})")
                self.stack.start(name)


@cli.callback()
def main() -> None:
    """Fayuan on this machine."""


@cli.command()
def run(
    workdir: Path = typer.Option(ROOT / ".fayuan", help="Where data and logs are kept."),
    port_base: int = typer.Option(8000, help="The services listen on port_base + 1 … + 5."),
    broker_port: int = typer.Option(BROKER_PORT, help="The embedded broker's port."),
) -> None:
    """Start PostgreSQL, the broker and the five services, restart whichever dies; Ctrl-C stops
    them all."""
    started = time.monotonic()
    # Explicitly, not by default: a process started with SIGINT ignored (a background job of a
    # non-interactive shell) keeps ignoring it otherwise, and only SIGTERM would stop it.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    stack: Stack | None = None
    supervisor: Supervisor | None = None
    try:
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            with console.status("starting the embedded PostgreSQL"):
                postgres = start_postgres(workdir / "pgdata", keep_data=True)
            database_url = postgres.url
            console.print(f"[green]✓[/] PostgreSQL (embedded, data in {workdir / 'pgdata'})")
        else:
            console.print("[green]✓[/] PostgreSQL from DATABASE_URL")
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if not bootstrap:
            with console.status("starting the embedded Kafka-protocol broker (Tansu)"):
                broker = start_broker(broker_port, log_file=workdir / "logs" / "tansu.log")
            bootstrap = broker.bootstrap
            console.print(f"[green]✓[/] broker (Tansu, in memory) at {bootstrap}")
        else:
            console.print(f"[green]✓[/] broker from KAFKA_BOOTSTRAP_SERVERS: {bootstrap}")
        # Dev tokens (HS256) are accepted only with environment=dev; the secret is made once and
        # kept in .fayuan/ (gitignored), so tokens minted with `make token` outlive a restart.
        secret = dev_secret(workdir / "auth-dev-secret", create=True)
        stack = Stack(database_url=database_url, bootstrap=bootstrap, workdir=workdir,
                      ports={name: port_base + port - 8000 for name, port in SERVICES.items()},
                      auth_dev_secret=secret or "",
                      personal_data_keys=dev_personal_data_keys(workdir / "personal-data-keys.json"))
        with console.status("migrating the five databases"):
            stack.migrate()
        console.print("[green]✓[/] databases migrated")
        with console.status("starting the five services"):
            for name in SERVICES:
                stack.start(name)
            stack.wait_ready()
        console.print(f"[green]✓[/] Fayuan is running (ready in {time.monotonic() - started:.1f} s); "
                      f"logs in {workdir / 'logs'}")
        for name in SERVICES:
            print(f"{name:<12} {stack.url(name)}  docs {stack.url(name)}/docs", flush=True)
        print("tokens       make token ROLE=agency_staff   (or: .venv/bin/python -m shared.cli token --role "
              "case_handler --handler-id H1); send as 'Authorization: Bearer <token>'", flush=True)
        console.print("Press Ctrl-C to stop. A part that dies is restarted, and said so here.")
        supervisor = Supervisor(stack, postgres, broker, broker_port, workdir)
        while True:
            supervisor.check()
            time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        console.print("\nstopping…")
    except Broken as broken:
        console.print(f"[red]✗[/] {broken}; stopping")
        raise typer.Exit(1) from None
    finally:
        # A second Ctrl-C must not cut the clean-up short and leave processes behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if stack is not None:
            stack.stop_all()
        if supervisor is not None:
            broker = supervisor.broker
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()
        console.print("stopped")


if __name__ == "__main__":
    cli()
