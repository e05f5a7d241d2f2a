"""Events evaluation publishes: peer evaluations on `legalaid.evaluation.evaluations`, case
subsidies on `legalaid.evaluation.subsidies` (key: the case id, on both)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import ConfigDict, Field

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
SUBSIDIES = "legalaid.evaluation.subsidies"


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


_HANDLER_EXAMPLE: dict[str, Any] = {"handler_id": "lawyer-li", "name": "李明", "kind": "lawyer",
                    "licence_number": "11101200910000001", "institution_id": "firm-a",
                    "institution_name": "北京甲律师事务所"}


@integration_event
class SubsidyApproved(IntegrationEvent):
    """办案补贴审批 (R-CHK-2, R-CHK-3): the agency's finance approved a case's subsidy, computed at
    the quality lead's sign-off of a passed closing check by the schedule version named here."""

    model_config = ConfigDict(extra="ignore", frozen=True, json_schema_extra={"examples": [{
        "case_id": "0b7f8c1e-3c1a-4f57-9d57-2f1f5d1c9a10", "case_number": "京朝法援〔2026〕刑字第118号",
        "case_kind": "criminal", "agency_id": "chaoyang-centre", "handler": _HANDLER_EXAMPLE,
        "amount": "1200.00", "schedule_version": "beijing-2011-seed",
        "approved_at": "2026-11-20T02:00:00Z",
    }]})

    type: ClassVar[str] = "legalaid.evaluation.subsidy-approved.v1"
    topic: ClassVar[str] = SUBSIDIES
    key_field: ClassVar[str] = "case_id"

    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    amount: Decimal = Field(description="Yuan, two decimals, as a string")
    schedule_version: str = Field(description="The subsidy schedule version that computed the amount")
    approved_at: datetime


@integration_event
class SubsidyPaid(IntegrationEvent):
    """办案补贴发放 (R-CHK-3, R-PUB-1): a case's subsidy was paid. Carries the columns of the
    disclosure's subsidy table (Annex 4): period, agency, institution, handler, case number, case
    kind, amount, date paid. Nothing of the aided person, and no payment reference."""

    model_config = ConfigDict(extra="ignore", frozen=True, json_schema_extra={"examples": [{
        "case_id": "0b7f8c1e-3c1a-4f57-9d57-2f1f5d1c9a10", "case_number": "京朝法援〔2026〕刑字第118号",
        "case_kind": "criminal", "period": "2026-H2", "agency_id": "chaoyang-centre",
        "institution_id": "firm-a", "institution_name": "北京甲律师事务所", "handler_id": "lawyer-li",
        "handler_name": "李明", "amount": "1200.00", "paid_on": "2026-11-25",
        "schedule_version": "beijing-2011-seed",
    }]})

    type: ClassVar[str] = "legalaid.evaluation.subsidy-paid.v1"
    topic: ClassVar[str] = SUBSIDIES
    key_field: ClassVar[str] = "case_id"

    case_id: str
    case_number: str
    case_kind: CaseKind
    period: str = Field(description="The Beijing half-year of the payment date, e.g. 2026-H2")
    agency_id: str
    institution_id: str
    institution_name: str
    handler_id: str
    handler_name: str
    amount: Decimal = Field(description="Yuan, two decimals, as a string")
    paid_on: date
    schedule_version: str
