import asyncio

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


cli()
