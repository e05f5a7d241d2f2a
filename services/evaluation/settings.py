"""Evaluation's settings (FAYUAN_ environment variables) and the typed dependency routers read
them through."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import Depends
from pydantic import Field, field_validator

from services.evaluation.domain import (
    DEFAULT_RULE,
    GRADING_RULES,
    CorrectionPolicy,
    RateTargets,
    ReviewPolicy,
)
from shared.deps import get_settings
from shared.settings import ServiceSettings


class EvaluationSettings(ServiceSettings):
    service_name: str = "evaluation"
    port: int = 8003
    database_name: str = "fayuan_evaluation"
    # Agencies choose how indicator grades make the case's grade without a release (domain.md).
    grading_rule: str = Field(
        default=DEFAULT_RULE,
        description="How the indicator grades make the case's grade for an agency that chose no rule: one "
                    f"of {', '.join(sorted(GRADING_RULES))} (domain.md); recorded on each evaluation")
    # R-EVL-7: the handler corrects the file within this many calendar days of the result.
    correction_days: int = Field(
        default=15, ge=1, le=180,
        description="Calendar days (Beijing dates) the handler has to correct the file after a result "
                    "below good (R-EVL-7)")
    # R-EVL-8: the Beijing 2025-2027 action plan's targets; a later year keeps the last one.
    excellent_good_targets: list[str] = Field(
        default=["2026:70", "2027:80"],
        description="Target excellent-and-good rate by year, as a JSON list of YEAR:PERCENT (R-EVL-8); a "
                    "year without one keeps the latest earlier year's")
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

    @field_validator("excellent_good_targets")
    @classmethod
    def _targets(cls, value: list[str]) -> list[str]:
        for entry in value:
            year, _, percent = entry.partition(":")
            if not (year.isdigit() and len(year) == 4 and _percent(percent)):
                raise ValueError(f"excellent_good_targets: YEAR:PERCENT entries (2026:70), not {entry!r}")
        return value

    @property
    def correction_policy(self) -> CorrectionPolicy:
        """R-EVL-7 as configured: the days to correct the file."""
        return CorrectionPolicy(days=self.correction_days)

    @property
    def rate_targets(self) -> RateTargets:
        """R-EVL-8 as configured: the target rate per year."""
        pairs = (entry.split(":") for entry in self.excellent_good_targets)
        return RateTargets(by_year={int(year): Decimal(percent) for year, percent in pairs})

    @property
    def review_policy(self) -> ReviewPolicy:
        """R-EVL-6 as configured, for giving a case to a reviewer."""
        return ReviewPolicy(reviewers_per_case=self.reviewers_per_case,
                            min_years_of_practice=self.reviewer_min_years_of_practice)


def _percent(text: str) -> bool:
    try:
        return 0 <= Decimal(text) <= 100
    except ArithmeticError:
        return False


EvaluationSettingsDep = Annotated[EvaluationSettings, Depends(get_settings)]
