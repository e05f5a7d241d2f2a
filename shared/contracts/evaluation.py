"""Events evaluation publishes on `legalaid.evaluation.evaluations` (key: the case id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from shared.contracts.common import CaseKind, Grade, HandlerRef
from shared.events import IntegrationEvent, integration_event

EVALUATIONS = "legalaid.evaluation.evaluations"


@integration_event
class EvaluationCompleted(IntegrationEvent):
    """A peer evaluation of a closed case was completed with its grade (R-EVL-1, R-EVL-2)."""

    type: ClassVar[str] = "legalaid.evaluation.evaluation-completed.v1"
    topic: ClassVar[str] = EVALUATIONS
    key_field: ClassVar[str] = "case_id"

    evaluation_id: str
    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    grade: Grade
    reviewer_id: str
    completed_at: datetime


@integration_event
class EvaluationFailed(IntegrationEvent):
    """The evaluation graded the case fail: sanctions follow it up (R-SAN-1)."""

    type: ClassVar[str] = "legalaid.evaluation.evaluation-failed.v1"
    topic: ClassVar[str] = EVALUATIONS
    key_field: ClassVar[str] = "case_id"

    evaluation_id: str
    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    findings: str
    failed_at: datetime
