"""Wiring of the assignment service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.assignment.api import ROUTERS
from services.assignment.consumers import CONSUMERS
from services.assignment.projections import projection
from services.assignment.settings import AssignmentSettings
from shared.service import ServiceSpec, build_app
from shared.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"

__all__ = ["MIGRATIONS", "SPEC", "AssignmentSettings", "create_app"]

SPEC = ServiceSpec(
    title="Fayuan assignment",
    description="The provider registry (institutions, handlers, commitments) and the assignment of cases: "
                "rotation, named handlers, the agency's choice, the monthly cap.",
    routers=ROUTERS,
    migrations=MIGRATIONS,
    consumers=CONSUMERS,
    projector=projection,
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return build_app(SPEC, settings or AssignmentSettings())
