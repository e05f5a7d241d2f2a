"""A peer reviewer's evaluation of a closed case given to them (R-EVL-1, R-EVL-2, R-EVL-4): a
grade for each first-level indicator of the case's standard, and the case's grade by the
versioned rule, recorded with it. The stream is `evaluation-<id>`."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from decimal import Decimal

from services.evaluation.domain.case import AlreadyEvaluated, ClosedCase
from services.evaluation.domain.grading import grade_case
from services.evaluation.domain.review import Reviewer, check_avoidance, check_grader_independent
from services.evaluation.domain.standards import StandardVersion, seed_for
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
    # The standard's version and what a points rule or a veto made of the grade (R-EVL-1, R-EVL-2);
    # absent from results recorded before versions: those were graded under version 1.
    standard_version: str | None = None
    points: dict[str, Decimal] | None = None
    total_points: Decimal | None = None
    not_done: list[str] = []
    late_file: bool = False


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
                 grader_institution_id: str | None = None, standard: StandardVersion | None = None,
                 points: Mapping[str, Decimal] | None = None, not_done: Collection[str] = (),
                 late_file: bool = False) -> None:
        """`reviewer`: as recorded when the case was given to them; `grader_institution_id`: the
        institution the grader's token names now. Neither may be the handler's (R-EVL-4).
        `standard`: the version in force (version 1 of the case kind's standard when not given);
        `rule_version`: the agency's rule; the rest as grading.grade_case takes them."""
        if self.exists:
            raise AlreadyEvaluated(f"evaluation {self.id} is already completed")
        case.check_not_evaluated()
        standard = standard or seed_for(case.case_kind)
        graded = grade_case(standard=standard, rule_version=rule_version, indicators=indicators,
                            points=points, not_done=not_done, late_file=late_file)
        check_avoidance(case.handler, reviewer)
        check_grader_independent(case.handler, grader_institution_id)
        self.record(EvaluationCompleted(
            evaluation_id=self.id, case_id=case.case_id, case_number=case.case_number,
            case_kind=case.case_kind, agency_id=case.agency_id, handler=case.handler,
            standard=graded.standard,
            indicators=graded.indicators, grade=graded.grade, rule_version=graded.rule_version,
            reviewer_id=reviewer.reviewer_id, reviewer_institution_id=reviewer.institution_id,
            findings=findings, completed_at=at, standard_version=graded.standard_version,
            points=graded.points, total_points=graded.total_points, not_done=list(graded.not_done),
            late_file=graded.late_file,
        ))

    # state changes

    def when_EvaluationCompleted(self, e: EvaluationCompleted) -> None:
        self.result = e


PeerEvaluation.handles(EvaluationCompleted)
