"""Events sanctions publishes: investigations on `legalaid.sanctions.investigations`, and the
written notice to the bar association on its own topic, `legalaid.bar-association.notices`,
which the bar association's system consumes (key: the case id)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import Field

from shared.contracts.common import CaseKind, HandlerRef
from shared.events import IntegrationEvent, integration_event

INVESTIGATIONS = "legalaid.sanctions.investigations"
BAR_NOTICES = "legalaid.bar-association.notices"
SUSPENSIONS = "legalaid.sanctions.suspensions"


@integration_event
class InvestigationOpened(IntegrationEvent):
    """The justice bureau opened an investigation of a failed case (R-SAN-3)."""

    type: ClassVar[str] = "legalaid.sanctions.investigation-opened.v1"
    topic: ClassVar[str] = INVESTIGATIONS
    key_field: ClassVar[str] = "case_id"

    investigation_id: str
    case_id: str
    case_number: str
    evaluation_id: str
    handler: HandlerRef
    opened_at: datetime


@integration_event
class BarNoticeIssued(IntegrationEvent):
    """The bureau's written notice to the bar association about a lawyer whose case failed
    (R-SAN-4). Names the lawyer and firm; never the aided person."""

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


@integration_event
class HandlerReinstated(IntegrationEvent):
    """The suspension ended: the handler may receive cases again from the next assignment."""

    type: ClassVar[str] = "legalaid.sanctions.handler-reinstated.v1"
    topic: ClassVar[str] = SUSPENSIONS
    key_field: ClassVar[str] = "handler_id"

    suspension_id: str
    handler_id: str
    reason: str
    reinstated_at: datetime
