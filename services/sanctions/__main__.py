import asyncio

import typer

from services.sanctions.app import MIGRATIONS, create_app
from services.sanctions.settings import SanctionsSettings
from shared.cli import service_cli
from shared.clock import now
from shared.db import create_engine

cli = service_cli(create_app, SanctionsSettings, MIGRATIONS)


@cli.command("reinstate-due")
def reinstate_due() -> None:
    """Reinstate every handler whose suspension's period is over (what the service's sweep does)."""
    from services.sanctions.app import units_of_work
    from services.sanctions.handlers import reinstate_due as sweep

    async def run() -> int:
        settings = SanctionsSettings()
        engine = create_engine(settings)
        try:
            return await sweep(units_of_work(engine, settings), now())
        finally:
            await engine.dispose()

    typer.echo(f"sanctions: {asyncio.run(run())} suspensions ended")


@cli.command("chase-bar-notices")
def chase_bar_notices() -> None:
    """Remind the bar association of every notice unanswered past `bar_notice_reminder_days`
    (once per period), as the service's own job does."""
    from services.sanctions import handlers
    from services.sanctions.app import units_of_work

    async def run() -> int:
        settings = SanctionsSettings()
        engine = create_engine(settings)
        try:
            return await handlers.chase_unanswered_notices(units_of_work(engine, settings),
                                                           reminder_days=settings.bar_notice_reminder_days,
                                                           at=now())
        finally:
            await engine.dispose()

    typer.echo(f"sanctions: {asyncio.run(run())} notices chased")


cli()
