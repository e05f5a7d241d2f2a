"""Evaluation's settings are typed: R-EVL-6's policy and the grading rule are read from them as
configured, and a rule the domain does not know is refused at start-up."""

import pytest
from pydantic import ValidationError

from services.evaluation.domain import DEFAULT_RULE, ReviewPolicy
from services.evaluation.settings import EvaluationSettings


def test_the_review_policy_is_the_configured_one_and_one_reviewer_of_5_years_by_default():
    assert EvaluationSettings().review_policy == ReviewPolicy(reviewers_per_case=1, min_years_of_practice=5)
    configured = EvaluationSettings(reviewers_per_case=2, reviewer_min_years_of_practice=8)
    assert configured.review_policy == ReviewPolicy(reviewers_per_case=2, min_years_of_practice=8)


def test_an_unknown_grading_rule_is_refused():
    assert EvaluationSettings().grading_rule == DEFAULT_RULE
    with pytest.raises(ValidationError, match="grading_rule must be one of default-v1"):
        EvaluationSettings(grading_rule="lenient-v0")
