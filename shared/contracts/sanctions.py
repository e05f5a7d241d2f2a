"""Events sanctions publishes: investigations on `legalaid.sanctions.investigations`; on the bar
association's own topic, `legalaid.bar-association.notices`, which the bar association's system
consumes: the written notice (key: the case id), the reminder of a notice left unanswered (key:
the case id) and the yearly legal-aid duty record of each lawyer and firm (key: the lawyer's or
firm's id); the bureau's confirmed commendation list on `legalaid.sanctions.commendations`."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

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
COMMENDATIONS = "legalaid.sanctions.commendations"

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


# --- the bar association's loop (R-SAN-4, R-SAN-5) and recognition (R-SAN-6) -----------------

_NOTICE_ID = "b4315d48-97c1-4624-8b5e-c5a216c95b76"
_FIRM_ID = EXAMPLE_LAWYER["institution_id"]


@integration_event
class BarNoticeReminded(IntegrationEvent):
    """The bureau chases a notice the bar association has not answered within the reminder period
    (R-SAN-4): `reminder` counts the reminders of this notice, one per period at most."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "notice_id": _NOTICE_ID, "case_id": EXAMPLE_CASE_ID, "case_number": EXAMPLE_CASE_NUMBER,
        "reminder": 1, "issued_at": "2026-09-18T02:00:00Z", "reminded_at": "2026-10-18T02:00:00Z",
    }]})

    type: ClassVar[str] = "legalaid.sanctions.bar-notice-reminded.v1"
    topic: ClassVar[str] = BAR_NOTICES
    key_field: ClassVar[str] = "case_id"

    notice_id: str
    case_id: str
    case_number: str
    reminder: int = Field(ge=1)
    issued_at: datetime
    reminded_at: datetime


class DutySubject(StrEnum):
    lawyer = "lawyer"
    firm = "firm"


class DutyCounts(BaseModel):
    """One lawyer's or firm's legal-aid duty in a year (R-SAN-5)."""

    model_config = ConfigDict(extra="ignore", frozen=True, json_schema_extra={"examples": [{
        "assigned": 9, "declined": 1, "released": 1, "completed": 7, "excellent": 2, "good": 3, "passed": 1,
        "failed": 1, "sanctions": 1,
    }]})

    assigned: int = Field(description="Cases assigned (CaseAssigned)")
    declined: int = Field(description="Assigned cases the lawyer declined, with a reason (HandlerDeclined)")
    released: int = Field(
        description="Cases taken from them on reassignment or termination (HandlerReleased)")
    completed: int = Field(description="Cases closed (CaseClosed)")
    excellent: int
    good: int
    passed: int
    failed: int = Field(description="Peer evaluations graded fail")
    sanctions: int = Field(description="Suspensions from assignment and bar-association disciplines decided")


_COUNTS: JsonDict = {"assigned": 9, "declined": 1, "released": 1, "completed": 7, "excellent": 2, "good": 3,
                     "passed": 1, "failed": 1, "sanctions": 1}


@integration_event
class DutyRecordPublished(IntegrationEvent):
    """The legal-aid duty record of one lawyer or one law firm for a finished calendar year
    (Beijing time), published when the bureau publishes the year (R-SAN-5): one event per lawyer
    and per firm. Key: the lawyer's or firm's id."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "year": 2026, "subject": "lawyer", "subject_id": _LAWYER_ID, "name": EXAMPLE_LAWYER["name"],
        "licence_number": EXAMPLE_LAWYER["licence_number"], "institution_id": _FIRM_ID,
        "institution_name": EXAMPLE_LAWYER["institution_name"], "counts": _COUNTS,
        "published_at": "2027-01-05T02:00:00Z",
    }]})

    type: ClassVar[str] = "legalaid.sanctions.duty-record-published.v1"
    topic: ClassVar[str] = BAR_NOTICES
    key_field: ClassVar[str] = "subject_id"

    year: int
    subject: DutySubject
    subject_id: str
    name: str
    licence_number: str | None = None
    institution_id: str | None = Field(default=None, description="The lawyer's firm; none for a firm")
    institution_name: str | None = None
    counts: DutyCounts
    published_at: datetime


class CommendedEntry(BaseModel):
    """One place of a commendation list (R-SAN-6)."""

    model_config = ConfigDict(extra="ignore", frozen=True, json_schema_extra={"examples": [{
        "rank": 1, "subject_id": _LAWYER_ID, "name": EXAMPLE_LAWYER["name"],
        "institution_name": EXAMPLE_LAWYER["institution_name"], "excellent": 3, "evaluated": 4,
        "excellent_and_good_rate": 1.0, "failed": 0,
    }]})

    rank: int = Field(ge=1)
    subject_id: str
    name: str
    institution_name: str | None = None
    excellent: int
    evaluated: int
    excellent_and_good_rate: float
    failed: int


@integration_event
class CommendationListConfirmed(IntegrationEvent):
    """The bureau confirmed the commendation priority list of a period (R-SAN-6): handlers and
    institutions with excellent cases, in the order of the stated rule. Key: the period."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "period": "2026", "rule": "excellent desc, excellent_and_good_rate desc, failed asc, name asc",
        "handlers": [{"rank": 1, "subject_id": _LAWYER_ID, "name": EXAMPLE_LAWYER["name"],
                      "institution_name": EXAMPLE_LAWYER["institution_name"], "excellent": 3, "evaluated": 4,
                      "excellent_and_good_rate": 1.0, "failed": 0}],
        "institutions": [{"rank": 1, "subject_id": _FIRM_ID, "name": EXAMPLE_LAWYER["institution_name"],
                          "institution_name": None, "excellent": 5, "evaluated": 9,
                          "excellent_and_good_rate": 0.78, "failed": 1}],
        "confirmed_at": "2027-01-10T03:00:00Z",
    }]})

    type: ClassVar[str] = "legalaid.sanctions.commendation-list-confirmed.v1"
    topic: ClassVar[str] = COMMENDATIONS
    key_field: ClassVar[str] = "period"

    period: str
    rule: str
    handlers: list[CommendedEntry]
    institutions: list[CommendedEntry]
    confirmed_at: datetime
