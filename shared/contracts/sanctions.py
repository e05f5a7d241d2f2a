"""Events sanctions publishes: investigations on `legalaid.sanctions.investigations`, and the
written notice to the bar association on its own topic, `legalaid.bar-association.notices`,
which the bar association's system consumes (key: the case id)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field

from shared.contracts.common import (
    EXAMPLE_AGENCY_ID,
    EXAMPLE_CASE_ID,
    EXAMPLE_CASE_NUMBER,
    EXAMPLE_EVALUATION_ID,
    EXAMPLE_LAWYER,
    CaseKind,
    HandlerRef,
)
from shared.events import IntegrationEvent, integration_event

INVESTIGATIONS = "legalaid.sanctions.investigations"
BAR_NOTICES = "legalaid.bar-association.notices"
SUSPENSIONS = "legalaid.sanctions.suspensions"

# Derived from the evaluation id, as sanctions derives it (one investigation per failed evaluation).
_INVESTIGATION_ID = "4ba88236-0623-58a7-9e44-293146061a9d"
_SUSPENSION_ID = "aa9c7177-81f7-481b-93f3-81efa4fc8c62"
_LAWYER_ID = EXAMPLE_LAWYER["handler_id"]


@integration_event
class InvestigationOpened(IntegrationEvent):
    """The justice bureau opened an investigation of a failed case (R-SAN-3)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "investigation_id": _INVESTIGATION_ID, "case_id": EXAMPLE_CASE_ID, "case_number": EXAMPLE_CASE_NUMBER,
        "evaluation_id": EXAMPLE_EVALUATION_ID, "handler": EXAMPLE_LAWYER,
        "opened_at": "2026-09-04T01:30:00Z", "complaint_id": None, "bureau_id": "chaoyang-bureau",
        "due_on": "2026-10-04",
    }]})

    type: ClassVar[str] = "legalaid.sanctions.investigation-opened.v1"
    topic: ClassVar[str] = INVESTIGATIONS
    key_field: ClassVar[str] = "case_id"

    investigation_id: str
    case_id: str
    case_number: str
    evaluation_id: str | None = Field(
        description="The failed evaluation investigated; none when a complaint opened it")
    handler: HandlerRef
    opened_at: datetime
    complaint_id: str | None = Field(default=None, description="The complaint that opened it, if one did")
    bureau_id: str | None = Field(default=None, description="The responsible bureau: `city` or a district's")
    due_on: date | None = Field(default=None, description="The day by which the bureau is due to close it")


@integration_event
class InvestigationConcluded(IntegrationEvent):
    """The bureau closed an investigation with its decision (R-SAN-3). `organ_id` is the police,
    procuratorate or court that notified the case, when one did: the conclusion is its
    information back (通报), which it also reads at /api/v1/organ-reports. No aided-person data
    and none of the bureau's free text."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "investigation_id": _INVESTIGATION_ID, "case_id": EXAMPLE_CASE_ID, "case_number": EXAMPLE_CASE_NUMBER,
        "handler": EXAMPLE_LAWYER, "violation": True,
        "measures": ["order_to_correct", "suspension_from_assignment"],
        "suspension_id": _SUSPENSION_ID, "organ_id": "chaoyang-procuratorate",
        "concluded_at": "2026-10-09T03:00:00Z",
    }]})

    type: ClassVar[str] = "legalaid.sanctions.investigation-concluded.v1"
    topic: ClassVar[str] = INVESTIGATIONS
    key_field: ClassVar[str] = "case_id"

    investigation_id: str
    case_id: str
    case_number: str
    handler: HandlerRef
    violation: bool
    measures: list[str] = Field(description="order_to_correct, warning, suspension_from_assignment, "
                                            "practice_suspension")
    suspension_id: str | None = None
    organ_id: str | None = Field(default=None, description="The notifying organ's system, if one notified it")
    concluded_at: datetime


@integration_event
class BarNoticeIssued(IntegrationEvent):
    """The bureau's written notice to the bar association about a lawyer whose case failed
    (R-SAN-4). Names the lawyer and firm; never the aided person."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "notice_id": "b4315d48-97c1-4624-8b5e-c5a216c95b76", "investigation_id": _INVESTIGATION_ID,
        "case_id": EXAMPLE_CASE_ID, "case_number": EXAMPLE_CASE_NUMBER, "case_kind": "criminal",
        "lawyer": EXAMPLE_LAWYER, "reason": "案件质量同行评估不合格，经调查属实，建议依行业规范处理。",
        "issued_at": "2026-09-18T02:00:00Z",
    }]})

    type: ClassVar[str] = "legalaid.sanctions.bar-notice-issued.v1"
    topic: ClassVar[str] = BAR_NOTICES
    key_field: ClassVar[str] = "case_id"

    notice_id: str
    investigation_id: str
    case_id: str
    case_number: str
    case_kind: CaseKind
    lawyer: HandlerRef
    reason: str
    issued_at: datetime


@integration_event
class HandlerSuspended(IntegrationEvent):
    """The agency stopped assigning cases to a handler (R-SAN-2, R-ASG-6): takes effect for the
    next assignment. Key: the handler id."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "suspension_id": _SUSPENSION_ID, "handler_id": _LAWYER_ID, "agency_id": EXAMPLE_AGENCY_ID,
        "investigation_id": _INVESTIGATION_ID, "reason": "承办案件同行评估不合格", "until": "2027-03-31",
        "suspended_at": "2026-09-18T02:05:00Z", "scope": "agency", "case_id": EXAMPLE_CASE_ID,
        "starts_on": "2026-09-18",
    }]})

    type: ClassVar[str] = "legalaid.sanctions.handler-suspended.v1"
    topic: ClassVar[str] = SUSPENSIONS
    key_field: ClassVar[str] = "handler_id"

    suspension_id: str
    handler_id: str
    agency_id: str | None = None
    investigation_id: str | None = None
    reason: str
    until: date | None = Field(default=None, description="last day of the suspension; none: until reinstated")
    suspended_at: datetime
    scope: Literal["agency", "city"] | None = Field(
        default=None, description="agency: no case from `agency_id`'s pool; city: from no agency of the "
                                  "city. None (older events): agency when `agency_id` is given, else city")
    case_id: str | None = Field(default=None, description="The case whose failure the decision follows")
    starts_on: date | None = Field(default=None, description="First day of the suspension (the decision's)")


@integration_event
class HandlerReinstated(IntegrationEvent):
    """The suspension ended: the handler may receive cases again from the next assignment."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "suspension_id": _SUSPENSION_ID, "handler_id": _LAWYER_ID, "reason": "整改完成，经复查合格",
        "reinstated_at": "2027-01-15T01:00:00Z", "automatic": False,
    }]})

    type: ClassVar[str] = "legalaid.sanctions.handler-reinstated.v1"
    topic: ClassVar[str] = SUSPENSIONS
    key_field: ClassVar[str] = "handler_id"

    suspension_id: str
    handler_id: str
    reason: str
    reinstated_at: datetime
    automatic: bool = Field(default=False, description="True when the period ended by itself, at its end")
