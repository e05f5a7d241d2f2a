"""Wiring of the evaluation service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from pydantic import Field, field_validator

from services.evaluation import api
from services.evaluation.consumers import CONSUMERS
from services.evaluation.domain import DEFAULT_RULE, GRADING_RULES
from services.evaluation.projections import project
from shared.service import ServiceSpec, build_app
from shared.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"


class EvaluationSettings(ServiceSettings):
    service_name: str = "evaluation"
    port: int = 8003
    database_name: str = "fayuan_evaluation"
    # Agencies choose how indicator grades make the case's grade without a release (domain.md).
    grading_rule: str = DEFAULT_RULE
    # R-EVL-6 (configurable): one reviewer reads each file; reviewers have 5+ years of practice.
    reviewers_per_case: int = Field(default=1, ge=1, le=5)
    reviewer_min_years_of_practice: int = Field(default=5, ge=0, le=50)

    @field_validator("grading_rule")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        if value not in GRADING_RULES:
            raise ValueError(f"grading_rule must be one of {', '.join(sorted(GRADING_RULES))}")
        return value


SPEC = ServiceSpec(
    title="Fayuan evaluation",
    description="Peer evaluation of closed legal-aid cases: review assignments, indicator grades, the case's grade, "
                "avoidance.",
    routers=[api.router, api.cases_router],
    migrations=MIGRATIONS,
    consumers=CONSUMERS,
    projector=project,
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return build_app(SPEC, settings or EvaluationSettings())
