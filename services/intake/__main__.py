import asyncio
import hashlib
from pathlib import Path

import typer

from services.intake.app import MIGRATIONS, IntakeSettings, create_app
from shared.cli import service_cli
from shared.db import create_engine

cli = service_cli(create_app, IntakeSettings, MIGRATIONS)


@cli.command("rebuild-projections")
def rebuild_projections() -> None:
    """Rebuild intake's read models (the case list) from its event store."""
    from services.intake.app import rebuild

    async def run() -> int:
        engine = create_engine(IntakeSettings())
        try:
            return await rebuild(engine)
        finally:
            await engine.dispose()

    typer.echo(f"intake: projections rebuilt from {asyncio.run(run())} events")


@cli.command("sweep-deadlines")
def sweep_deadlines() -> None:
    """Record each deadline now past due and unmet as missed in its case's history (once)."""
    from services.intake.app import units_of_work
    from services.intake.handlers import sweep_deadlines as sweep
    from shared.clock import now

    async def run() -> int:
        settings = IntakeSettings()
        engine = create_engine(settings)
        try:
            return await sweep(units_of_work(engine, settings), settings.deadline_policy(), now())
        finally:
            await engine.dispose()

    typer.echo(f"intake: {asyncio.run(run())} missed deadlines recorded")


@cli.command("erase-aided-person")
def erase_aided_person(
    actor: str = typer.Option(..., help="Who orders the erasure (the operator's user id)."),
    reason: str = typer.Option(..., help="Why: the request or decision it follows (no personal data)."),
) -> None:
    """Crypto-shred an aided person, as POST /api/v1/aided-persons/erasure does: their data keys
    erased, the erasure recorded on their own stream. The ID number is asked for, hidden, so it
    stays out of shell histories and process lists."""
    from services.intake.app import check_keys, units_of_work
    from services.intake.handlers import erase_person
    from shared import context
    from shared.aggregate import NotFound
    from shared.validation import resident_id_number

    id_number = resident_id_number(typer.prompt("Resident ID number", hide_input=True).strip())

    async def run():
        settings = IntakeSettings()
        vault = check_keys(settings)
        engine = create_engine(settings)
        context.actor.set(actor)
        context.role.set("operator")
        try:
            return await erase_person(units_of_work(engine, settings), vault, id_number=id_number,
                                      reason=reason)
        finally:
            await engine.dispose()

    try:
        erasure = asyncio.run(run())
    except NotFound as missing:
        typer.echo(f"intake: {missing}")
        raise typer.Exit(1) from None
    typer.echo(f"intake: erased {erasure.person_ref} at {erasure.erased_at:%Y-%m-%d %H:%M:%S%z} "
               f"by {erasure.erased_by}")


calendar = typer.Typer(help="China's official working days that deadlines count (docs/intake.md).",
                       no_args_is_help=True)
cli.add_typer(calendar, name="calendar")


@calendar.command("load")
def calendar_load(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A year's arrangement (JSON)."),
    actor: str = typer.Option(..., help="Who loads it (the operator's user id)."),
    replace: bool = typer.Option(False, "--replace", help="Load a year that is loaded already again."),
) -> None:
    """Load a year of working days from the State Council's notice, written as docs/intake.md
    says; recorded with its source, the file's SHA-256, the actor and the time."""
    from pydantic import ValidationError

    from services.intake.app import units_of_work
    from services.intake.handlers import load_working_calendar
    from shared.aggregate import Conflict
    from shared.calendar import YearArrangement

    content = file.read_bytes()
    try:
        arrangement = YearArrangement.model_validate_json(content)
    except ValidationError as invalid:
        typer.echo(f"intake: {file} is not a year's arrangement:\n{invalid}", err=True)
        raise typer.Exit(2) from None

    async def run():
        settings = IntakeSettings()
        engine = create_engine(settings)
        try:
            return await load_working_calendar(units_of_work(engine, settings), arrangement,
                                               sha256=hashlib.sha256(content).hexdigest(), loaded_by=actor,
                                               replace=replace)
        finally:
            await engine.dispose()

    try:
        loaded = asyncio.run(run())
    except Conflict as refused:
        typer.echo(f"intake: {refused}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"intake: working days of {loaded.year} loaded ({loaded.holidays} days off, "
               f"{loaded.make_up_working_days} make-up working days) from {loaded.source} "
               f"by {loaded.loaded_by}")


@calendar.command("show")
def calendar_show() -> None:
    """The years loaded: their source, who loaded them and when."""
    from services.intake.queries.calendar import loaded_years

    async def run():
        engine = create_engine(IntakeSettings())
        try:
            async with engine.connect() as conn:
                return await loaded_years(conn)
        finally:
            await engine.dispose()

    for year in asyncio.run(run()):
        typer.echo(f"{year.year}  {year.holidays:3d} off  {year.make_up_working_days:2d} make-up  "
                   f"{year.loaded_at:%Y-%m-%d} by {year.loaded_by}  {year.source}")


@calendar.command("export")
def calendar_export(year: int = typer.Argument(..., help="The year to write out.")) -> None:
    """Write a year as the installed chinese-calendar has it, in the file format `load` reads
    (a start when a newer release of the library has a year the database lacks)."""
    from shared.calendar import CalendarMissing, library_arrangement

    try:
        typer.echo(library_arrangement(year).model_dump_json(indent=2))
    except CalendarMissing as missing:
        typer.echo(f"intake: the installed chinese-calendar has no data for {missing.year}", err=True)
        raise typer.Exit(1) from None


cli()
