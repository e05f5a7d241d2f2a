"""`make run` (`python -m devstack run`): the whole of Fayuan on this machine, on real parts.

Starts the embedded PostgreSQL (data kept in .fayuan/pgdata across runs) and the embedded Tansu
broker (or uses the ones DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS name), migrates the five
services' databases, starts the five services on fixed ports with their relays and consumers,
prints where each listens, and stops everything cleanly on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import typer
from rich.console import Console

from devstack.embedded import EmbeddedBroker, EmbeddedPostgres, start_broker, start_postgres
from devstack.stack import BROKER_PORT, ROOT, SERVICES, Stack, dev_personal_data_keys
from shared.auth import dev_secret

console = Console(stderr=True)

cli = typer.Typer(add_completion=False, no_args_is_help=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@cli.callback()
def main() -> None:
    """Fayuan on this machine."""


@cli.command()
def run(workdir: Path = typer.Option(ROOT / ".fayuan", help="Where data and logs are kept.")) -> None:
    """Start PostgreSQL, the broker and the five services; Ctrl-C stops them all."""
    started = time.monotonic()
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    stack: Stack | None = None
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
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
                broker = start_broker(BROKER_PORT, log_file=workdir / "logs" / "tansu.log")
            bootstrap = broker.bootstrap
            console.print(f"[green]✓[/] broker (Tansu, in memory) at {bootstrap}")
        else:
            console.print(f"[green]✓[/] broker from KAFKA_BOOTSTRAP_SERVERS: {bootstrap}")
        # Dev tokens (HS256) are accepted only with environment=dev; the secret is made once and
        # kept in .fayuan/ (gitignored), so tokens minted with `make token` outlive a restart.
        secret = dev_secret(workdir / "auth-dev-secret", create=True)
        stack = Stack(database_url=database_url, bootstrap=bootstrap, workdir=workdir,
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
        console.print("Press Ctrl-C to stop.")
        while True:
            for name, process in stack.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}; see its log")
            time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("\nstopping…")
    finally:
        if stack is not None:
            stack.stop_all()
        if broker is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()
        console.print("stopped")


if __name__ == "__main__":
    cli()
