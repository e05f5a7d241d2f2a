"""Peer evaluation of closed cases (pure: no I/O). Its stream is `evaluation-<id>`.

Agency staff or the quality lead give a closed case to a peer reviewer (its stream is
`review-<case_id>`), avoidance checked at that moment (R-EVL-4); only a reviewer it was given to
grades it. A peer reviewer grades each first-level indicator of the case's standard (SF/T 0086 criminal,
SF/T 0085 civil and administrative); a versioned grading rule turns the indicator grades into
the case's grade (R-EVL-1, R-EVL-2). Which indicators belong to which standard, and which rule
grades, are data: domain.md could not confirm them from the standards' own text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from shared.aggregate import Aggregate, Conflict, DomainEvent, Invalid
from shared.contracts import CaseKind, Grade, HandlerRef

# --- the first-level indicators (一级指标) --------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str
    name_zh: str


INDICATORS: dict[str, Indicator] = {
    i.key: i
    for i in (
        Indicator("mandate", "lawful establishment of the mandate", "依法确立委托代理关系"),
        Indicator("meeting", "timely and effective meeting with the aided person", "及时有效会见受援人"),
        Indicator("file_review", "timely and effective reading of the case file", "及时有效阅卷"),
        Indicator("investigation_work", "lawful investigation and evidence collection", "依法调查取证"),
        Indicator("legal_opinion", "effective legal opinions", "有效提出法律意见"),
        Indicator("hearing", "lawful participation in hearings, mediation or arbitration", "依法参加庭审活动"),
        Indicator("notice_duty", "full performance of the duty to inform", "全面履行告知义务"),
        Indicator("report_duty", "performance of the duty to report to the agency", "履行报告义务"),
        # SF/T 0085 reads the duties to inform and to report together as one indicator.
        Indicator("notice_and_report_duty", "performance of the duties to inform and to report",
                  "全面履行告知义务和报告义务"),
        Indicator("closing_file", "orderly closing file, submitted in time", "规范整理提交承办材料"),
    )
}


@dataclass(frozen=True)
class Standard:
    code: str
    title: str
    indicators: tuple[str, ...]


CRIMINAL_STANDARD = Standard(
    "SF/T 0086-2020", "criminal legal-aid cases",
    ("meeting", "file_review", "investigation_work", "legal_opinion", "hearing", "notice_duty", "report_duty",
     "closing_file"),
)
CIVIL_ADMINISTRATIVE_STANDARD = Standard(
    "SF/T 0085-2020", "civil and administrative legal-aid cases",
    ("mandate", "meeting", "file_review", "investigation_work", "legal_opinion", "hearing",
     "notice_and_report_duty", "closing_file"),
)
# Non-litigation matters have no standard of their own; agencies use the civil one.
STANDARD_BY_KIND: dict[CaseKind, Standard] = {
    CaseKind.criminal: CRIMINAL_STANDARD,
    CaseKind.civil: CIVIL_ADMINISTRATIVE_STANDARD,
    CaseKind.administrative: CIVIL_ADMINISTRATIVE_STANDARD,
    CaseKind.non_litigation: CIVIL_ADMINISTRATIVE_STANDARD,
}


def standard_for(kind: CaseKind) -> Standard:
    return STANDARD_BY_KIND[kind]


# --- grading rules: indicator grades -> the case's grade ------------------------------------

GOOD_OR_BETTER = {Grade.excellent, Grade.good}


def default_v1(grades: Mapping[str, Grade]) -> Grade:
    """domain.md's default: any fail fails the case; excellent needs at least 6 excellent and
    nothing below good; good needs at least 6 good or better; otherwise pass."""
    counts = Counter(grades.values())
    if counts[Grade.fail]:
        return Grade.fail
    good_or_better = counts[Grade.excellent] + counts[Grade.good]
    if counts[Grade.excellent] >= 6 and good_or_better == len(grades):
        return Grade.excellent
    if good_or_better >= 6:
        return Grade.good
    return Grade.pass_


GradingRule = Callable[[Mapping[str, Grade]], Grade]

# Recorded by version with each evaluation, so a grade can always be explained by the rule
# that gave it even after an agency switches rules.
GRADING_RULES: dict[str, GradingRule] = {"default-v1": default_v1}
DEFAULT_RULE = "default-v1"


# --- what the evaluation is about ---------------------------------------------------------


class ClosedCase(BaseModel):
    """A closed case as evaluation knows it (from intake's CaseClosed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    closed_at: datetime
    evaluation_id: str | None = None


class Reviewer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reviewer_id: str
    institution_id: str


@dataclass(frozen=True)
class ReviewPolicy:
    """R-EVL-6's configurable parts that apply when a case is given: how many reviewers read a
    file and the least years of practice a reviewer needs."""

    reviewers_per_case: int = 1
    min_years_of_practice: int = 5


# --- events -------------------------------------------------------------------------------


class EvaluationCompleted(DomainEvent):
    evaluation_id: str
    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    standard: str
    indicators: dict[str, Grade]
    grade: Grade
    rule_version: str
    reviewer_id: str
    reviewer_institution_id: str
    findings: str
    completed_at: datetime


class ReviewerGiven(DomainEvent):
    case_id: str
    case_number: str
    reviewer_id: str
    reviewer_name: str
    reviewer_institution_id: str
    years_of_practice: int
    given_at: datetime


# --- the aggregate ------------------------------------------------------------------------


class IndicatorsMismatch(Invalid):
    rule = "R-EVL-1"


class ReviewerNotIndependent(Conflict):
    rule = "R-EVL-4"


class AlreadyEvaluated(Conflict):
    pass


class UnknownGradingRule(Invalid):
    pass


class ReviewerAlreadyGiven(Conflict):
    pass


class ReviewersComplete(Conflict):
    rule = "R-EVL-6"


class ReviewerNotQualified(Invalid):
    rule = "R-EVL-6"


class CaseReview(Aggregate):
    """Who a closed case was given to for peer review. Its id is the case's id."""

    stream_prefix = "review"

    def __init__(self, id: str):
        super().__init__(id)
        self.reviewers: dict[str, Reviewer] = {}

    def reviewer(self, reviewer_id: str | None) -> Reviewer | None:
        return self.reviewers.get(reviewer_id) if reviewer_id else None

    def give(self, *, case: ClosedCase, reviewer: Reviewer, name: str, years_of_practice: int,
             policy: ReviewPolicy, at: datetime) -> None:
        if case.evaluation_id is not None:
            raise AlreadyEvaluated(f"case {case.case_number} already has a completed evaluation ({case.evaluation_id})")
        if reviewer.reviewer_id in self.reviewers:
            raise ReviewerAlreadyGiven(f"case {case.case_number} is already given to reviewer {reviewer.reviewer_id}")
        # Checked when the case is given, so a reviewer never receives a file they must not read.
        _check_avoidance(case.handler, reviewer)
        if years_of_practice < policy.min_years_of_practice:
            raise ReviewerNotQualified(
                f"a reviewer needs at least {policy.min_years_of_practice} years of practice, not {years_of_practice}"
            )
        if len(self.reviewers) >= policy.reviewers_per_case:
            raise ReviewersComplete(
                f"case {case.case_number} already has its {policy.reviewers_per_case} reviewer(s)"
            )
        self.record(ReviewerGiven(
            case_id=case.case_id, case_number=case.case_number, reviewer_id=reviewer.reviewer_id,
            reviewer_name=name, reviewer_institution_id=reviewer.institution_id,
            years_of_practice=years_of_practice, given_at=at,
        ))

    def when_ReviewerGiven(self, e: ReviewerGiven) -> None:
        self.reviewers[e.reviewer_id] = Reviewer(reviewer_id=e.reviewer_id, institution_id=e.reviewer_institution_id)


CaseReview.handles(ReviewerGiven)


class PeerEvaluation(Aggregate):
    stream_prefix = "evaluation"

    def __init__(self, id: str):
        super().__init__(id)
        self.result: EvaluationCompleted | None = None

    @property
    def failed(self) -> bool:
        return self.result is not None and self.result.grade == Grade.fail

    # commands

    def complete(self, *, case: ClosedCase, reviewer: Reviewer, indicators: Mapping[str, Grade], findings: str,
                 rule_version: str, at: datetime) -> None:
        if self.exists:
            raise AlreadyEvaluated(f"evaluation {self.id} is already completed")
        if case.evaluation_id is not None:
            raise AlreadyEvaluated(f"case {case.case_number} already has a completed evaluation ({case.evaluation_id})")
        standard = standard_for(case.case_kind)
        _check_indicators(standard, indicators)
        _check_avoidance(case.handler, reviewer)
        rule = GRADING_RULES.get(rule_version)
        if rule is None:
            raise UnknownGradingRule(f"no grading rule {rule_version}")
        grades = {key: Grade(indicators[key]) for key in standard.indicators}
        self.record(EvaluationCompleted(
            evaluation_id=self.id, case_id=case.case_id, case_number=case.case_number, case_kind=case.case_kind,
            agency_id=case.agency_id, handler=case.handler, standard=standard.code, indicators=grades,
            grade=rule(grades), rule_version=rule_version, reviewer_id=reviewer.reviewer_id,
            reviewer_institution_id=reviewer.institution_id, findings=findings, completed_at=at,
        ))

    # state changes

    def when_EvaluationCompleted(self, e: EvaluationCompleted) -> None:
        self.result = e


PeerEvaluation.handles(EvaluationCompleted)


def _check_indicators(standard: Standard, indicators: Mapping[str, Grade]) -> None:
    missing = sorted(set(standard.indicators) - set(indicators))
    unknown = sorted(set(indicators) - set(standard.indicators))
    if missing or unknown:
        parts = [f"missing: {', '.join(missing)}" if missing else "", f"unknown: {', '.join(unknown)}" if unknown else ""]
        raise IndicatorsMismatch(
            f"indicators must be exactly those of {standard.code}; " + "; ".join(p for p in parts if p)
        )


def _check_avoidance(handler: HandlerRef, reviewer: Reviewer) -> None:
    if reviewer.reviewer_id == handler.handler_id:
        raise ReviewerNotIndependent("a reviewer may not evaluate their own case")
    if reviewer.institution_id == handler.institution_id:
        raise ReviewerNotIndependent(
            f"a reviewer may not evaluate a case of their own institution ({handler.institution_name})"
        )
