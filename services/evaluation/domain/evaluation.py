"""A peer reviewer's evaluation of a closed case given to them (R-EVL-1, R-EVL-2, R-EVL-4): a
grade for each first-level indicator of the case's standard, and the case's grade by the
versioned rule, recorded with it. The stream is `evaluation-<id>`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from services.evaluation.domain.case import AlreadyEvaluated, ClosedCase
from services.evaluation.domain.grading import check_indicators, grading_rule, standard_for
from services.evaluation.domain.review import Reviewer, check_avoidance, check_grader_independent
from shared.aggregate import Aggregate, DomainEvent
from shared.contracts import CaseKind, Grade, HandlerRef

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


# --- the aggregate ------------------------------------------------------------------------


class PeerEvaluation(Aggregate):
    stream_prefix = "evaluation"

    def __init__(self, id: str):
        super().__init__(id)
        self.result: EvaluationCompleted | None = None

    @property
    def failed(self) -> bool:
        return self.result is not None and self.result.grade == Grade.fail

    # commands

    def complete(self, *, case: ClosedCase, reviewer: Reviewer, indicators: Mapping[str, Grade],
                 findings: str, rule_version: str, at: datetime,
                 grader_institution_id: str | None = None) -> None:
        """`reviewer`: as recorded when the case was given to them; `grader_institution_id`: the
        institution the grader's token names now. Neither may be the handler's (R-EVL-4)."""
        if self.exists:
            raise AlreadyEvaluated(f"evaluation {self.id} is already completed")
        case.check_not_evaluated()
        standard = standard_for(case.case_kind)
        check_indicators(standard, indicators)
        check_avoidance(case.handler, reviewer)
        check_grader_independent(case.handler, grader_institution_id)
        rule = grading_rule(rule_version)
        grades = {key: Grade(indicators[key]) for key in standard.indicators}
        self.record(EvaluationCompleted(
            evaluation_id=self.id, case_id=case.case_id, case_number=case.case_number,
            case_kind=case.case_kind, agency_id=case.agency_id, handler=case.handler, standard=standard.code,
            indicators=grades, grade=rule(grades), rule_version=rule_version,
            reviewer_id=reviewer.reviewer_id, reviewer_institution_id=reviewer.institution_id,
            findings=findings, completed_at=at,
        ))

    # state changes

    def when_EvaluationCompleted(self, e: EvaluationCompleted) -> None:
        self.result = e


PeerEvaluation.handles(EvaluationCompleted)
