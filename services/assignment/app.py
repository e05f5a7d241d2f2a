"""Wiring of the assignment service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from pydantic import Field

from services.assignment import api, api_reports, api_rules
from services.assignment.consumers import CONSUMERS
from services.assignment.domain import DEFAULT_MONTHLY_CAP, DEFAULT_SENIOR_YEARS
from services.assignment.projections import project
from shared.service import ServiceSpec, build_app
from shared.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"


class AssignmentSettings(ServiceSettings):
    service_name: str = "assignment"
    port: int = 8002
    database_name: str = "fayuan_assignment"
    # R-ASG-4: most non-group cases one handler may take in a calendar month (FAYUAN_MONTHLY_CASE_CAP).
    monthly_case_cap: int = Field(default=DEFAULT_MONTHLY_CAP, ge=1, le=100)
    # R-ASG-8: least years of practice for a case with a possible death penalty or life
    # imprisonment (FAYUAN_SENIOR_YEARS_OF_PRACTICE).
    senior_years_of_practice: int = Field(default=DEFAULT_SENIOR_YEARS, ge=0, le=50)


SPEC = ServiceSpec(
    title="Fayuan assignment",
    description="The provider registry (institutions, handlers, commitments) and the assignment of cases: "
                "rotation, named handlers, the agency's choice, the monthly cap.",
    routers=[api.registry, api_reports.router, api.assignments, api_rules.router],
    migrations=MIGRATIONS,
    consumers=CONSUMERS,
    projector=project,
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return build_app(SPEC, settings or AssignmentSettings())
