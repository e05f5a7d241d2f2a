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


cli()
