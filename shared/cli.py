"""The command line of every service: `python -m services.<name> serve | migrate | dead-letters |
replay-dead-letter`; and the kernel's own tools: `python -m shared.cli token --role ...`."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer
import uvicorn
from fastapi import FastAPI
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import auth, deadletters
from shared.db import create_engine
from shared.logs import configure_logging
from shared.migrations import upgrade
from shared.settings import ServiceSettings

T = TypeVar("T")


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
        configure_logging(service=settings.service_name, level=settings.log_level,
                          json_format=settings.log_json)
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
            # /metrics counts requests per route; a line per request would cost on the hot path.
            access_log=False,
            timeout_graceful_shutdown=20,
        )

    @cli.command()
    def migrate() -> None:
        """Create the service's database if missing and migrate it to head."""
        settings = settings_class()
        configure_logging(service=settings.service_name, level=settings.log_level,
                          json_format=settings.log_json)
        upgrade(settings, migrations)
        typer.echo(f"{settings.service_name}: database migrated to head")

    @cli.command("dead-letters")
    def dead_letters(
        include_replayed: bool = typer.Option(False, "--all", help="Also those already replayed."),
        as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
    ) -> None:
        """List the messages this service's consumers dead-lettered, with their errors."""
        settings = settings_class()
        letters = asyncio.run(_with_engine(settings, lambda e: deadletters.list_dead_letters(
            e, include_replayed=include_replayed)))
        if as_json:
            typer.echo(deadletters.as_json(letters))
            return
        table = Table(title=f"{settings.service_name}: dead letters ({len(letters)})")
        for column in ("id", "consumer", "topic", "partition/offset", "type", "error", "recorded",
                       "replayed"):
            table.add_column(column, overflow="fold")
        for d in letters:
            table.add_row(str(d.id), d.consumer, d.topic, f"{d.partition}/{d.offset}", d.type or "-", d.error,
                          f"{d.recorded_at:%Y-%m-%d %H:%M:%S}",
                          f"{d.replayed_at:%Y-%m-%d %H:%M:%S}" if d.replayed_at else "-")
        Console().print(table)

    @cli.command("replay-dead-letter")
    def replay_dead_letter(
        dead_letter_id: int = typer.Argument(..., help="The id `dead-letters` shows."),
    ) -> None:
        """Put a dead letter back on its original topic (after fixing what made it fail)."""
        settings = settings_class()
        try:
            replayed = asyncio.run(_with_engine(
                settings, lambda e: deadletters.replay(e, settings, dead_letter_id)))
        except deadletters.UnknownDeadLetter as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"replayed dead letter {replayed.id} to {replayed.topic}")

    return cli


async def _with_engine(settings: ServiceSettings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    engine = create_engine(settings)
    try:
        return await work(engine)
    finally:
        await engine.dispose()


def _exit_cleanly(signum: int, frame: object) -> None:
    sys.exit(0)


tools = typer.Typer(add_completion=False, no_args_is_help=True)


@tools.callback()
def _tools() -> None:
    """Fayuan's kernel tools."""


@tools.command()
def token(
    role: list[auth.Role] = typer.Option(..., help="A role of the token; repeat for several."),
    sub: str | None = typer.Option(None, help="The subject (user id); default dev-<role>."),
    name: str | None = typer.Option(None, help="Display name."),
    agency_id: str | None = typer.Option(None, help="Scope: the legal-aid agency."),
    handler_id: str | None = typer.Option(None, help="Scope: the case handler (lawyer)."),
    institution_id: str | None = typer.Option(None, help="Scope: the institution (law firm, court)."),
    reviewer_id: str | None = typer.Option(None, help="Scope: the peer reviewer."),
    district: str | None = typer.Option(None, help="Scope: the bureau's district (none: the city)."),
    minutes: float = typer.Option(60, help="Lifetime."),
    private_key: Path | None = typer.Option(
        None, help="PEM private key (RSA: RS256, P-256: ES256) instead of the dev secret."),
    kid: str | None = typer.Option(None, help="Key id to put in the header (JWKS)."),
) -> None:
    """Print a bearer token for the dev stack (HS256, dev secret) or signed with a private key.
    Issuer and audience come from FAYUAN_AUTH_ISSUER / FAYUAN_AUTH_AUDIENCE (the same defaults
    the services use)."""
    settings = ServiceSettings()
    if private_key is None and not settings.auth_dev_secret:
        secret = auth.dev_secret()
        if secret is None:
            typer.echo("no dev secret: run `make run` once (it creates .fayuan/auth-dev-secret), set "
                       "FAYUAN_AUTH_DEV_SECRET, or pass --private-key", err=True)
            raise typer.Exit(1)
        settings = settings.model_copy(update={"auth_dev_secret": secret})
    scopes = {"agency_id": agency_id, "handler_id": handler_id, "institution_id": institution_id,
              "reviewer_id": reviewer_id, "district": district}
    typer.echo(auth.mint_token(settings, list(role), sub=sub, name=name, minutes=minutes, kid=kid,
                               scopes=scopes,
                               private_key_pem=private_key.read_bytes() if private_key else None))


if __name__ == "__main__":
    tools()
