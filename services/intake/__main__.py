import asyncio

import typer

from services.intake.app import MIGRATIONS, IntakeSettings, create_app
from services.intake.projections import rebuild
from shared.cli import service_cli
from shared.db import create_engine

cli = service_cli(create_app, IntakeSettings, MIGRATIONS)


@cli.command("rebuild-projections")
def rebuild_projections() -> None:
    """Rebuild intake's read models (the case list) from its event store."""

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
    from services.intake.handlers import now
    from services.intake.projections import project
    from services.intake.queries import sweep_deadlines as sweep
    from shared.uow import unit_of_work

    async def run() -> int:
        settings = IntakeSettings()
        engine = create_engine(settings)
        try:
            return await sweep(engine, lambda: unit_of_work(engine, settings, project), settings.deadline_policy(),
                               now())
        finally:
            await engine.dispose()

    typer.echo(f"intake: {asyncio.run(run())} missed deadlines recorded")


cli()
