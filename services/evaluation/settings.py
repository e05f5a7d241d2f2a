"""Evaluation's settings (FAYUAN_ environment variables) and the typed dependency routers read
them through."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from pydantic import Field, field_validator

from services.evaluation.domain import DEFAULT_RULE, GRADING_RULES, ReviewPolicy
from shared.deps import get_settings
from shared.settings import ServiceSettings


class EvaluationSettings(ServiceSettings):
    service_name: str = "evaluation"
    port: int = 8003
    database_name: str = "fayuan_evaluation"
    # Agencies choose how indicator grades make the case's grade without a release (domain.md).
    grading_rule: str = Field(
        default=DEFAULT_RULE,
        description="How the indicator grades make the case's grade: one of "
                    f"{', '.join(sorted(GRADING_RULES))} (domain.md); recorded on each evaluation")
    # R-EVL-6 (configurable): one reviewer reads each file; reviewers have 5+ years of practice.
    reviewers_per_case: int = Field(
        default=1, ge=1, le=5, description="Peer reviewers a closed case is given to (R-EVL-6)")
    reviewer_min_years_of_practice: int = Field(
        default=5, ge=0, le=50, description="Least years of practice of a peer reviewer (R-EVL-6)")

    @field_validator("grading_rule")
    @classmethod
    def _known_rule(cls, value: str) -> str:
        if value not in GRADING_RULES:
            raise ValueError(f"grading_rule must be one of {', '.join(sorted(GRADING_RULES))}")
        return value

    @property
    def review_policy(self) -> ReviewPolicy:
        """R-EVL-6 as configured, for giving a case to a reviewer."""
        return ReviewPolicy(reviewers_per_case=self.reviewers_per_case,
                            min_years_of_practice=self.reviewer_min_years_of_practice)


EvaluationSettingsDep = Annotated[EvaluationSettings, Depends(get_settings)]
