"""The composition root of the sanctions service: its routers, consumers and projection."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.sanctions.api import ROUTERS
from services.sanctions.consumers import CONSUMERS
from services.sanctions.projections import projection
from services.sanctions.settings import SanctionsSettings
from shared.service import ServiceSpec, build_app
from shared.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"

# SanctionsSettings is named here too: tests build the app from this module alone.
__all__ = ["MIGRATIONS", "SPEC", "SanctionsSettings", "create_app"]

SPEC = ServiceSpec(
    title="Fayuan sanctions",
    description="Follow-up of failed cases: the justice bureau's investigations, its notices to the bar "
                "association, and its suspensions of handlers from assignment.",
    routers=ROUTERS,
    migrations=MIGRATIONS,
    consumers=CONSUMERS,
    projector=projection,
    tags={
        "investigations": "The justice bureau's investigations, opened for every case that failed peer "
                          "evaluation (R-SAN-1, R-SAN-3).",
        "bar notices": "The bureau's notices to the bar association about lawyers whose case failed "
                       "(R-SAN-4); also sent as events on legalaid.bar-association.notices.",
        "suspensions": "Decisions to stop assigning cases to a handler (停止指派), and reinstatements; "
                       "assignment applies them from its next decision on (R-SAN-2, R-ASG-6).",
    },
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return build_app(SPEC, settings or SanctionsSettings())
