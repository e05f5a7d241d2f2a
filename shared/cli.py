"""The command line of every service: `python -m services.<name> serve | migrate | rebuild |
dead-letters | held-cases | redrive | discard`; and the kernel's own tools:
`python -m shared.cli token --role ...`."""

from __future__ import annotations

import asyncio
import getpass
import importlib
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

import typer
import uvicorn
from fastapi import FastAPI
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from sqlalchemy import Table as SqlTable
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import auth, deadletters
from shared.db import create_engine
from shared.logs import configure_logging
from shared.migrations import upgrade
from shared.projection import Projection, Rebuilt, count_events
from shared.projection import rebuild as rebuild_projection
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

    @cli.command()
    def rebuild(
        per_event: bool = typer.Option(False, "--per-event",
                                       help="Fold one event at a time through the live folds."),
    ) -> None:
        """Empty the service's read models and fold its whole event store into them again, in one
        transaction (readers see the old tables until it commits): in memory and written with
        COPY when every fold has an in-memory twin, else one event at a time."""
        settings = settings_class()
        configure_logging(service=settings.service_name, level=settings.log_level,
                          json_format=settings.log_json)
        projection, tables = rebuilt_tables(create_app)
        done = asyncio.run(_with_engine(settings, lambda engine: _rebuild(
            engine, settings.service_name, projection, tables, per_event)))
        Console().print(rebuild_table(settings.service_name, [done]))

    @cli.command("dead-letters")
    def dead_letters(
        include_replayed: bool = typer.Option(False, "--all", help="Also those re-driven or discarded."),
        as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
    ) -> None:
        """List the messages this service's consumers dead-lettered, with their errors and the
        events of their case waiting behind them."""
        settings = settings_class()
        letters = asyncio.run(_with_engine(settings, lambda e: deadletters.list_dead_letters(
            e, include_replayed=include_replayed)))
        if as_json:
            typer.echo(deadletters.as_json(letters))
            return
        table = Table(title=f"{settings.service_name}: dead letters ({len(letters)})")
        for column in ("id", "consumer", "topic", "partition/offset", "type", "case", "waiting", "error",
                       "recorded", "state"):
            table.add_column(column, overflow="fold", justify="right" if column == "waiting" else "left")
        for d in letters:
            table.add_row(str(d.id), d.consumer, d.topic, f"{d.partition}/{d.offset}", d.type or "-",
                          d.case_key or "-", str(d.waiting), d.error, f"{d.recorded_at:%Y-%m-%d %H:%M:%S}",
                          d.state)
        Console().print(table)

    @cli.command("held-cases")
    def held_cases() -> None:
        """List the cases held by a dead letter: their later events wait until it is re-driven
        or discarded."""
        settings = settings_class()
        cases = asyncio.run(_with_engine(settings, deadletters.held_cases))
        table = Table(title=f"{settings.service_name}: cases held by a dead letter ({len(cases)})")
        for column in ("consumer", "case", "dead letter", "type", "waiting", "held since", "state", "error"):
            table.add_column(column, overflow="fold", justify="right" if column == "waiting" else "left")
        for c in cases:
            table.add_row(c.consumer, c.case_key, str(c.dead_letter_id), c.type or "-", str(c.waiting),
                          f"{c.parked_at:%Y-%m-%d %H:%M:%S}", c.state, c.redrive_error or c.error)
        Console().print(table)

    def carry_out(dead_letter_id: int, action: deadletters.Action, actor: str, wait_seconds: float) -> None:
        settings = settings_class()

        async def run(engine: AsyncEngine) -> None:
            try:
                asked = await deadletters.request(engine, settings, dead_letter_id, action, actor=actor)
            except deadletters.UnknownDeadLetter as exc:
                typer.echo(str(exc), err=True)
                raise typer.Exit(1) from exc
            if asked.case_key is None:
                done = "put back on " + asked.topic if action == "redrive" else "discarded"
                typer.echo(f"dead letter {dead_letter_id} {done}")
                return
            await _follow(engine, asked, wait_seconds)

        asyncio.run(_with_engine(settings, run))

    actor_option = typer.Option(_whoami(), help="Who asks (the operator's user id).")
    wait_option = typer.Option(300.0, help="Seconds to follow the service's progress (0: do not wait).")

    @cli.command("redrive")
    def redrive(
        dead_letter_id: int = typer.Argument(..., help="The id `dead-letters` shows."),
        actor: str = actor_option,
        wait_seconds: float = wait_option,
    ) -> None:
        """After fixing what made it fail: apply the dead letter, then its case's waiting events
        in order (the service's running consumer does, this follows it with a progress bar)."""
        carry_out(dead_letter_id, "redrive", actor, wait_seconds)

    @cli.command("discard")
    def discard(
        dead_letter_id: int = typer.Argument(..., help="The id `dead-letters` shows."),
        actor: str = actor_option,
        wait_seconds: float = wait_option,
    ) -> None:
        """Throw the dead letter away (it is never applied); its case's waiting events are then
        applied in order and the case flows again."""
        carry_out(dead_letter_id, "discard", actor, wait_seconds)

    @cli.command("replay-dead-letter")
    def replay_dead_letter(
        dead_letter_id: int = typer.Argument(..., help="The id `dead-letters` shows."),
        actor: str = actor_option,
        wait_seconds: float = wait_option,
    ) -> None:
        """The former name of `redrive`."""
        carry_out(dead_letter_id, "redrive", actor, wait_seconds)

    return cli


REBUILD_TARGET = 20_000
"""Events per second a rebuild should reach (issue 17)."""


def rebuilt_tables(create_app: Callable[..., object]) -> tuple[Projection, Sequence[SqlTable]]:
    """The service's projection and the tables a rebuild empties and fills again: its
    `projections` module's `projection` and `REBUILT_TABLES` (read models only: never a table
    filled otherwise, such as a migration's seed)."""
    module = importlib.import_module(create_app.__module__.rsplit(".", 1)[0] + ".projections")
    if not hasattr(module, "REBUILT_TABLES"):
        typer.echo(f"{module.__name__} declares no REBUILT_TABLES: this service has no rebuild yet", err=True)
        raise typer.Exit(2)
    return module.projection, module.REBUILT_TABLES


async def _rebuild(engine: AsyncEngine, service: str, projection: Projection, tables: Sequence[SqlTable],
                   per_event: bool) -> Rebuilt:
    total = await count_events(engine)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn()) as bar:
        task = bar.add_task(f"{service}: rebuilding {len(tables)} read models", total=total)
        return await rebuild_projection(engine, projection, tables, batched=False if per_event else None,
                                        on_page=lambda n: bar.advance(task, n))


def rebuild_table(title: str, rebuilt: Sequence[Rebuilt], names: Sequence[str] | None = None) -> Table:
    """The figures of one or more rebuilds beside the target, as a table."""
    table = Table(title=f"{title}: projection rebuild")
    for column in ("service", "path", "events", "folded", "seconds", "events/s", "target", "ratio"):
        table.add_column(column, justify="left" if column in ("service", "path") else "right")
    for n, done in enumerate(rebuilt):
        ratio = done.rate / REBUILD_TARGET
        table.add_row(names[n] if names else title, "in memory + COPY" if done.batched else "per event",
                      f"{done.events:,}", f"{done.folded:,}", f"{done.seconds:.2f}", f"{done.rate:,.0f}",
                      f"≥ {REBUILD_TARGET:,}", f"[{'green' if ratio >= 1 else 'red'}]{ratio:.2f}[/]")
    return table


async def _follow(engine: AsyncEngine, asked: deadletters.Request, wait_seconds: float) -> None:
    """A progress bar over the case's dead letter and waiting events, until the case flows again,
    the re-drive stops at an event that fails again, or `wait_seconds` pass."""
    what = "re-drive" if asked.action == "redrive" else "discard"
    typer.echo(f"{what} of dead letter {asked.dead_letter_id} requested: case {asked.case_key} of "
               f"{asked.consumer}, {asked.waiting} events waiting behind it")
    if wait_seconds <= 0:
        return
    total = asked.waiting + 1
    deadline = asyncio.get_running_loop().time() + wait_seconds
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn()) as bar:
        task = bar.add_task(f"case {asked.case_key}", total=total)
        while True:
            now = await deadletters.progress(engine, asked.consumer, asked.case_key or "")
            total = max(total, now.remaining)
            bar.update(task, total=total, completed=total - now.remaining)
            if now.done or now.error is not None:
                break
            if asyncio.get_running_loop().time() > deadline:
                typer.echo(f"still {now.remaining} to go after {wait_seconds:g} s: the service's consumer "
                           "carries on while it runs (`held-cases` shows where it is)", err=True)
                raise typer.Exit(2)
            await asyncio.sleep(0.5)
    if now.error is not None:
        typer.echo(f"the re-drive stopped, {now.remaining} left: {now.error}", err=True)
        raise typer.Exit(1)
    typer.echo(f"case {asked.case_key} flows again")


async def _with_engine(settings: ServiceSettings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    engine = create_engine(settings)
    try:
        return await work(engine)
    finally:
        await engine.dispose()


def _whoami() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (a container's arbitrary user id)
        return "operator"


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
