"""Wiring of the intake service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.intake import api
from services.intake.consumers import CONSUMERS
from services.intake.projections import project
from shared.service import ServiceSpec, build_app
from shared.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    port: int = 8001
    database_name: str = "fayuan_intake"


SPEC = ServiceSpec(
    title="Fayuan intake",
    description="Legal-aid cases: registration, the case's state and handler, closure.",
    routers=[api.router],
    migrations=MIGRATIONS,
    consumers=CONSUMERS,
    projector=project,
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return build_app(SPEC, settings or IntakeSettings())
