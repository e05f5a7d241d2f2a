"""The composition root of the sanctions service: its routers, consumers and projection."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from services.sanctions import handlers
from services.sanctions.api import ROUTERS
from services.sanctions.consumers import CONSUMERS
from services.sanctions.projections import projection
from services.sanctions.settings import SanctionsSettings
from shared.deps import app_clock
from shared.service import ServiceSpec, build_app, periodically
from shared.settings import ServiceSettings
from shared.uow import UnitOfWorkFactory, unit_of_work

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"

# SanctionsSettings is named here too: tests build the app from this module alone.
__all__ = ["MIGRATIONS", "SPEC", "SanctionsSettings", "create_app", "reinstate_due_now", "units_of_work"]

log = logging.getLogger(__name__)


def units_of_work(engine: AsyncEngine, settings: ServiceSettings) -> UnitOfWorkFactory:
    """Units of work that fold what they append into sanctions' read models (outside a request:
    the reinstatement sweep, the reminder job and the operator's command line)."""
    return lambda: unit_of_work(engine, settings, projection)


async def reinstate_due_now(app: FastAPI) -> int:
    """One tick of the sweep: reinstate every handler whose suspension's period is over, at the
    app's clock (tests override `get_clock`, as they do for routes)."""
    clock = app_clock(app)
    return await handlers.reinstate_due(units_of_work(app.state.engine, app.state.settings), clock())


async def _reinstate_due(app: FastAPI, at: datetime) -> None:
    await handlers.reinstate_due(units_of_work(app.state.engine, app.state.settings), at)


async def _chase_unanswered(app: FastAPI, at: datetime) -> None:
    settings: SanctionsSettings = app.state.settings
    await handlers.chase_unanswered_notices(units_of_work(app.state.engine, settings),
                                            reminder_days=settings.bar_notice_reminder_days, at=at)


# R-SAN-2: a suspension ends by itself when its period is over: every
# `reinstatement_sweep_seconds` the handlers whose last day has passed are reinstated
# (HandlerReinstated at that moment). Replicas may sweep at once: each suspension ends once (its
# stream serialises them).
reinstate_periodically = periodically(_reinstate_due, every=lambda s: s.reinstatement_sweep_seconds,
                                      name="reinstate_periodically")
# R-SAN-4: every `bar_notice_reminder_check_seconds` the notices the bar association left
# unanswered past `bar_notice_reminder_days` are chased (BarNoticeReminded, once per period).
chase_bar_notices_periodically = periodically(_chase_unanswered,
                                              every=lambda s: s.bar_notice_reminder_check_seconds,
                                              name="chase_bar_notices_periodically")


SPEC = ServiceSpec(
    title="Fayuan sanctions",
    description="Follow-up of failed cases and complaints: the justice bureau's investigations (findings, "
                "decision, closure, information back to the notifying organ), its notices to the bar "
                "association and the bar association's answers, its suspensions of handlers from "
                "assignment, the lawyers' and firms' yearly legal-aid duty records, and the commendation "
                "lists.",
    routers=ROUTERS,
    migrations=MIGRATIONS,
    consumers=CONSUMERS,
    projector=projection,
    background=[reinstate_periodically, chase_bar_notices_periodically],
    tags={
        "investigations": "The justice bureau's investigations, opened for every case that failed peer "
                          "evaluation or on a complaint, with their steps to a decision and closure, and the "
                          "overdue worklist (R-SAN-1, R-SAN-3).",
        "bar notices": "The bureau's notices to the bar association about lawyers whose case failed "
                       "(R-SAN-4); also sent as events on legalaid.bar-association.notices. The bar "
                       "association's answers (also received on legalaid.bar-association.outcomes) and the "
                       "notices left unanswered, which the bureau chases.",
        "duty records": "Each lawyer's and law firm's legal-aid duty per year, for the bar association's "
                        "annual assessment (R-SAN-5): JSON, CSV or XLSX, and the bureau's publication of a "
                        "finished year.",
        "commendations": "The commendation priority list of a period: handlers and institutions with "
                         "excellent cases, by a stated rule, confirmed by the bureau (R-SAN-6).",
        "suspensions": "Decisions to stop assigning cases to a handler (停止指派), with a scope and a "
                       "period, and reinstatements, by decision or when the period ends; assignment "
                       "applies them from its next decision on (R-SAN-2, R-ASG-6).",
        "complaints": "Complaints of aided persons about their case (投诉), their answers and the "
                      "investigations they open (Legal Aid Law arts. 55-57, R-SAN-3).",
        "information to organs": "What the police, procuratorate or court that notified a case learns "
                                 "when its investigation concludes (通报), for that organ only.",
    },
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return build_app(SPEC, settings or SanctionsSettings())
