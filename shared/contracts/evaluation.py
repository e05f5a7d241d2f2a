"""Events evaluation publishes on `legalaid.evaluation.evaluations` (key: the case id)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import ConfigDict

from shared.contracts.common import (
    EXAMPLE_AGENCY_ID,
    EXAMPLE_CASE_ID,
    EXAMPLE_CASE_NUMBER,
    EXAMPLE_EVALUATION_ID,
    EXAMPLE_LAWYER,
    CaseKind,
    Grade,
    HandlerRef,
)
from shared.events import IntegrationEvent, integration_event

EVALUATIONS = "legalaid.evaluation.evaluations"


@integration_event
class EvaluationCompleted(IntegrationEvent):
    """A peer evaluation of a closed case was completed with its grade (R-EVL-1, R-EVL-2)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "evaluation_id": EXAMPLE_EVALUATION_ID, "case_id": EXAMPLE_CASE_ID,
        "case_number": EXAMPLE_CASE_NUMBER, "case_kind": "criminal", "agency_id": EXAMPLE_AGENCY_ID,
        "handler": EXAMPLE_LAWYER, "grade": "good",
        "reviewer_id": "reviewer-0219", "completed_at": "2026-09-03T06:48:21Z",
    }]})

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

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "evaluation_id": EXAMPLE_EVALUATION_ID, "case_id": EXAMPLE_CASE_ID,
        "case_number": EXAMPLE_CASE_NUMBER, "case_kind": "criminal", "agency_id": EXAMPLE_AGENCY_ID,
        "handler": EXAMPLE_LAWYER,
        "findings": "未在法定期限内会见犯罪嫌疑人；卷宗缺少辩护意见书。", "failed_at": "2026-09-03T06:48:21Z",
    }]})

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
