"""The command line of every service: `python -m services.<name> serve | migrate`."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path

import typer
import uvicorn
from fastapi import FastAPI

from shared.logs import configure_logging
from shared.migrations import upgrade
from shared.settings import ServiceSettings


def service_cli(
    create_app: Callable[[ServiceSettings], FastAPI],
    settings_class: type[ServiceSettings],
    migrations: Path,
) -> typer.Typer:
    cli = typer.Typer(add_completion=False, no_args_is_help=True)

    @cli.command()
    def serve(migrate: bool = typer.Option(False, help="Migrate the database to head first.")) -> None:
        """Serve the HTTP API, the outbox relay and the consumers."""
        settings = settings_class()
        configure_logging(service=settings.service_name, level=settings.log_level, json_format=settings.log_json)
        if migrate:
            upgrade(settings, migrations)
        # uvicorn re-raises the SIGTERM it caught once its graceful shutdown is done, which
        # ends the process "killed by signal 15"; a clean stop is exit 0 for Kubernetes and CI.
        signal.signal(signal.SIGTERM, _exit_cleanly)
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,  # request metrics and the audit trail say who asked what
            timeout_graceful_shutdown=20,
        )

    @cli.command()
    def migrate() -> None:
        """Create the service's database if missing and migrate it to head."""
        settings = settings_class()
        configure_logging(service=settings.service_name, level=settings.log_level, json_format=settings.log_json)
        upgrade(settings, migrations)
        typer.echo(f"{settings.service_name}: database migrated to head")

    return cli


def _exit_cleanly(signum: int, frame: object) -> None:
    sys.exit(0)
