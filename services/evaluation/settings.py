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
from services.evaluation.domain.pool import QualificationRule
from services.evaluation.domain.round import Readers, RoundPolicy
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

    # R-EVL-6 (configurable): rounds, the draw, the panel and the experts' qualification.
    round_sample_share: Decimal = Field(
        default=Decimal("0.002"), ge=Decimal("0.002"), le=1,
        description="Least share of the agency's previous-year cases a sampled round draws (R-EVL-6: 0.2%)")
    round_readers: Readers = Field(
        default=Readers.one_then_two,
        description="Who reads a round's file first: one-then-two (a fail re-read by two more) or "
                    "two-from-start (R-EVL-6); a round may choose otherwise when opened")
    round_avoid_own_district: bool = Field(
        default=True, description="Regional avoidance also keeps experts off cases closed in their own "
                                  "district (R-EVL-4, R-EVL-6)")
    expert_min_years_of_practice: int = Field(
        default=5, ge=0, le=50, description="Least years of practice of a round's expert (R-EVL-6)")
    expert_same_field: bool = Field(
        default=True, description="A round's expert practises in the case's field (R-EVL-6)")
    expert_discipline_free_years: int = Field(
        default=3, ge=0, le=20, description="Years without discipline a round's expert needs (R-EVL-6)")
    expert_trained_before_round: bool = Field(
        default=True, description="A round's expert was trained on or before the day it opens (R-EVL-6)")

    @property
    def round_policy(self) -> RoundPolicy:
        """R-EVL-6 as configured, for rounds."""
        return RoundPolicy(
            sample_share=self.round_sample_share, readers=self.round_readers,
            qualification=QualificationRule(
                min_years=self.expert_min_years_of_practice, same_field=self.expert_same_field,
                discipline_free_years=self.expert_discipline_free_years,
                trained_before_round=self.expert_trained_before_round),
            avoid_own_district=self.round_avoid_own_district)

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
