"""Wiring of the intake service: its routers, consumers, projection and deadline sweep, and the
keys it refuses to start without."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake import handlers
from services.intake.api import ROUTERS
from services.intake.consumers import CONSUMERS
from services.intake.projections import projection, rebuild
from services.intake.queries.calendar import working_calendar
from services.intake.settings import DEV_HASH_KEY, IntakeSettings
from shared.clock import local_date
from shared.personal_data import PersonalDataVault
from shared.service import ServiceSpec, build_app, periodically
from shared.uow import UnitOfWorkFactory, unit_of_work

__all__ = ["MIGRATIONS", "SPEC", "ConfigurationError", "IntakeSettings", "check_keys", "create_app",
           "rebuild", "units_of_work"]

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


class ConfigurationError(RuntimeError):
    """A setting intake must not run with (the message names it, never its value)."""


def units_of_work(engine: AsyncEngine, settings: IntakeSettings) -> UnitOfWorkFactory:
    """Units of work that fold what they append into intake's read models (outside a request:
    the background sweep and the operator's command line)."""
    return lambda: unit_of_work(engine, settings, projection)


async def sweep_deadlines_now(app: FastAPI, at: datetime) -> None:
    """Overdue items raise events without anyone asking (R-HDL-6, R-ASG-9): the service sweeps its
    own cases every `deadline_sweep_seconds` (sweep_periodically); replicas may sweep at once,
    each missed deadline is still recorded once (the case's stream serialises them)."""
    settings: IntakeSettings = app.state.settings
    await handlers.sweep_deadlines(units_of_work(app.state.engine, settings), settings.deadline_policy(), at)


sweep_periodically = periodically(sweep_deadlines_now, every=lambda s: s.deadline_sweep_seconds,
                                  name="sweep_periodically")


# Read by the working-calendar alert (deploy/k8s/base/monitoring): loaded in time, no deadline
# ever runs into a year the calendar lacks (which the API answers with a 503).
CALENDAR_LAST_YEAR = Gauge("fayuan_working_calendar_last_year",
                           "The last year whose official working days are loaded")
CALENDAR_MISSING = Gauge("fayuan_working_calendar_year_missing",
                         "A year deadlines soon count in whose working days are not loaded (0: none)")
CALENDAR_CHECK_SECONDS = 3600.0


async def check_calendar(engine: AsyncEngine, at: datetime) -> int | None:
    """The year deadlines will soon need and the calendar lacks: this year, or from December on
    (Beijing) the next one, which the State Council publishes in November or December. Warns in
    the log and in the gauges; returns that year, or None."""
    async with engine.connect() as conn:
        years = (await working_calendar(conn)).years
    today = local_date(at)
    needed = [today.year] + ([today.year + 1] if today.month == 12 else [])
    missing = next((year for year in needed if year not in years), None)
    CALENDAR_LAST_YEAR.set(max(years, default=0))
    CALENDAR_MISSING.set(missing or 0)
    if missing is not None:
        log.warning("China's official working days for %s are not loaded: deadlines that run into it will "
                    "answer 503; load the State Council's notice (python -m services.intake calendar load)",
                    missing, extra={"missing_year": missing})
    return missing


async def _check_calendar_now(app: FastAPI, at: datetime) -> None:
    await check_calendar(app.state.engine, at)


# The working calendar, checked at start and every hour after (check_calendar).
watch_calendar = periodically(_check_calendar_now, every=lambda s: CALENDAR_CHECK_SECONDS, at_start=True,
                              name="watch_calendar")


SPEC = ServiceSpec(
    title="Fayuan intake",
    description="Legal-aid cases: registration (by agencies and by notifying courts, procuratorates and "
                "police), the case's state and handler, the handling record and its timeline, deadlines and "
                "the overdue worklist, closure, the closing file, its check and sign-off, archive, "
                "follow-ups, and the next stage of a criminal case.",
    routers=ROUTERS,
    migrations=MIGRATIONS,
    consumers=CONSUMERS,
    projector=projection,
    background=[sweep_periodically, watch_calendar],
    tags={
        "cases": "Legal-aid cases: registration (登记案件) by agencies and by notifying courts, "
                 "procuratorates and police, the next stage of a criminal case (一案一卷), the list, one "
                 "case now or as of a moment, and closure (结案).",
        "handling": "The handling of a case: the handling record (办案记录), the timeline of who did what, "
                    "the closing file (结案归档材料) and the case's time limits.",
        "end of a case": "A request for another handler (更换承办人员) and its acceptance, termination of "
                         "aid (终止法律援助), the closing check (结案收卷质量检查) and the quality lead's "
                         "sign-off, archive (归档) and follow-ups with the aided person (回访).",
        "deadlines": "The overdue worklist: time limits past due and unmet, and recording them as missed "
                     "(R-ASG-7, R-ASG-9, R-HDL-6).",
        "aided person": "The aided person's personal data (受援人): unmasked to the agency and the case's "
                        "own handler, each look recorded; masked to others; erased at the agency's order "
                        "(docs/privacy.md).",
    },
)


def check_keys(settings: IntakeSettings) -> PersonalDataVault:
    """Refuse to start without the keys that protect the people of a case: the vault's (a missing
    or malformed key raises VaultConfigError naming its setting) and, outside dev, a hash key of
    one's own (the default is public, so its hashes could be reversed by trying names)."""
    if settings.environment != "dev" and settings.adverse_party_hash_key.get_secret_value() == DEV_HASH_KEY:
        raise ConfigurationError("FAYUAN_ADVERSE_PARTY_HASH_KEY is the development default; set a random key "
                                 "of at least 32 bytes from a Secret (docs/intake.md, Keys), or "
                                 "FAYUAN_ENVIRONMENT=dev")
    return PersonalDataVault.from_settings(settings)


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    vault = check_keys(settings)
    app = build_app(SPEC, settings)
    app.state.vault = vault
    return app
