"""The indicator sets of the two standards and the default grading rule (pure)."""

import pytest

from services.evaluation.domain import (
    GRADING_RULES,
    INDICATORS,
    ClosedCase,
    IndicatorsMismatch,
    PeerEvaluation,
    Reviewer,
    ReviewerNotIndependent,
    default_v1,
    standard_for,
)
from shared.contracts import CaseKind, Grade, HandlerRef

E, G, P, F = Grade.excellent, Grade.good, Grade.pass_, Grade.fail
NINE = ["mandate", "meeting", "file_review", "investigation_work", "legal_opinion", "hearing", "notice_duty",
        "report_duty", "closing_file"]


def test_criminal_cases_are_graded_on_indicators_2_to_9_of_sf_t_0086():
    standard = standard_for(CaseKind.criminal)
    assert standard.code == "SF/T 0086-2020"
    assert list(standard.indicators) == NINE[1:]


@pytest.mark.parametrize("kind", [CaseKind.civil, CaseKind.administrative, CaseKind.non_litigation])
def test_civil_administrative_and_non_litigation_cases_use_sf_t_0085_with_informing_and_reporting_as_one(
        kind):
    standard = standard_for(kind)
    assert standard.code == "SF/T 0085-2020"
    assert list(standard.indicators) == [*NINE[:6], "notice_and_report_duty", "closing_file"]


def test_every_standard_has_eight_named_indicators():
    for kind in CaseKind:
        indicators = standard_for(kind).indicators
        assert len(set(indicators)) == 8
        assert all(INDICATORS[key].name and INDICATORS[key].name_zh for key in indicators)


def grades(*values: Grade) -> dict[str, Grade]:
    return {f"i{n}": g for n, g in enumerate(values)}


@pytest.mark.parametrize(
    ("indicator_grades", "expected"),
    [
        ([E] * 8, E),
        ([E] * 6 + [G] * 2, E),  # the least an excellent case needs
        ([E] * 7 + [G], E),
        ([E] * 6 + [G, P], G),  # one pass keeps it from excellent
        ([E] * 6 + [P] * 2, G),  # still 6 good or better
        ([E] * 5 + [G] * 3, G),  # only 5 excellent
        ([G] * 8, G),
        ([G] * 6 + [P] * 2, G),  # the least a good case needs
        ([E] * 5 + [P] * 3, P),  # only 5 good or better
        ([G] * 5 + [P] * 3, P),
        ([P] * 8, P),
        ([E] * 7 + [F], F),  # any fail fails the case
        ([F] + [P] * 7, F),
    ],
)
def test_default_rule_grades_the_case_from_its_indicators(indicator_grades, expected):
    assert default_v1(grades(*indicator_grades)) == expected
    assert GRADING_RULES["default-v1"].grade(grades(*indicator_grades), None, vetoed=False,
                                             late_file=False) == expected


HANDLER = HandlerRef(handler_id="h-1", name="李律师", kind="lawyer", licence_number="11101200010000001",
                     institution_id="firm-a", institution_name="甲律师事务所")


def closed(kind: CaseKind = CaseKind.criminal) -> ClosedCase:
    return ClosedCase(case_id="c-1", case_number="FY-2026-000001", case_kind=kind,
                      agency_id="chaoyang-centre", handler=HANDLER, closed_at="2026-11-01T10:00:00+08:00")


def test_an_evaluation_records_its_standard_grades_and_rule_version():
    evaluation = PeerEvaluation("e-1")
    indicators = dict.fromkeys(standard_for(CaseKind.civil).indicators, Grade.good)
    evaluation.complete(case=closed(CaseKind.civil),
                        reviewer=Reviewer(reviewer_id="r-1", institution_id="firm-b"), indicators=indicators,
                        findings="卷宗完整", rule_version="default-v1",
                        at="2026-11-02T10:00:00+08:00")
    result = evaluation.result
    assert (result.standard, result.grade, result.rule_version) == ("SF/T 0085-2020", Grade.good,
                                                                     "default-v1")
    assert result.indicators == indicators


def test_indicators_of_the_wrong_standard_are_refused_naming_each_one():
    indicators = dict.fromkeys(standard_for(CaseKind.civil).indicators, Grade.good)
    with pytest.raises(IndicatorsMismatch) as error:
        PeerEvaluation("e-1").complete(case=closed(CaseKind.criminal), reviewer=Reviewer(reviewer_id="r-1",
                                       institution_id="firm-b"), indicators=indicators, findings="x",
                                       rule_version="default-v1", at="2026-11-02T10:00:00+08:00")
    message = str(error.value)
    assert "missing: notice_duty, report_duty" in message
    assert "unknown: mandate, notice_and_report_duty" in message


@pytest.mark.parametrize("reviewer", [Reviewer(reviewer_id="r-1", institution_id="firm-a"),
                                      Reviewer(reviewer_id="h-1", institution_id="firm-z")])
def test_a_reviewer_never_grades_their_own_case_or_institution(reviewer):
    indicators = dict.fromkeys(standard_for(CaseKind.criminal).indicators, Grade.good)
    with pytest.raises(ReviewerNotIndependent) as error:
        PeerEvaluation("e-1").complete(case=closed(), reviewer=reviewer, indicators=indicators, findings="x",
                                       rule_version="default-v1", at="2026-11-02T10:00:00+08:00")
    assert error.value.rule == "R-EVL-4"


def test_every_endpoint_is_described_in_the_domains_words():
    from services.evaluation.app import EvaluationSettings, create_app

    spec = create_app(EvaluationSettings()).openapi()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if path.startswith("/api/v1/"):
                assert op.get("summary") and len(op.get("description", "")) > 30, (method, path)


def test_a_case_given_to_a_reviewer_remembers_them_and_refuses_the_handlers_institution():
    from services.evaluation.domain import CaseReview, ReviewPolicy

    review = CaseReview("c-1")
    with pytest.raises(ReviewerNotIndependent):
        review.give(case=closed(), reviewer=Reviewer(reviewer_id="r-1", institution_id="firm-a"), name="王",
                    years_of_practice=10, policy=ReviewPolicy(), at="2026-11-02T10:00:00+08:00")
    review.give(case=closed(), reviewer=Reviewer(reviewer_id="r-1", institution_id="firm-b"), name="王",
                years_of_practice=10, policy=ReviewPolicy(), at="2026-11-02T10:00:00+08:00")
    folded = CaseReview.fold("c-1", [(e.event_type(), e.model_dump(mode="json"), e.given_at)
                                     for e in review.pending])
    assert folded.reviewer("r-1") == Reviewer(reviewer_id="r-1", institution_id="firm-b")
    assert folded.reviewer("r-2") is None and folded.reviewer(None) is None
