"""Events assignment publishes on `legalaid.assignment.assignments` (key: the case id)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from shared.contracts.common import HandlerRef
from shared.events import IntegrationEvent, integration_event

ASSIGNMENTS = "legalaid.assignment.assignments"


class AssignmentMethod(StrEnum):
    rotation = "rotation"  # R-ASG-1
    named = "named"  # R-ASG-2
    chosen = "chosen"  # R-ASG-3


@integration_event
class CaseAssigned(IntegrationEvent):
    type: ClassVar[str] = "legalaid.assignment.case-assigned.v1"
    topic: ClassVar[str] = ASSIGNMENTS
    key_field: ClassVar[str] = "case_id"

    case_id: str
    case_number: str
    handler: HandlerRef
    method: AssignmentMethod
    reason: str | None = None
    assigned_at: datetime


class SkippedCandidate(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    handler_id: str
    reasons: list[str]


@integration_event
class AssignmentBlocked(IntegrationEvent):
    """No one in the pool may take the case; each candidate with why not."""

    type: ClassVar[str] = "legalaid.assignment.assignment-blocked.v1"
    topic: ClassVar[str] = ASSIGNMENTS
    key_field: ClassVar[str] = "case_id"

    case_id: str
    case_number: str
    candidates: list[SkippedCandidate]
    blocked_at: datetime


class ReleaseCause(StrEnum):
    reassignment = "reassignment"  # the aided person's accepted request for another handler
    termination = "termination"  # legal aid ended (终止)


@integration_event
class HandlerReleased(IntegrationEvent):
    """The handler no longer handles the case. On reassignment a CaseAssigned for the new
    handler follows (or AssignmentBlocked); on termination nothing follows."""

    type: ClassVar[str] = "legalaid.assignment.handler-released.v1"
    topic: ClassVar[str] = ASSIGNMENTS
    key_field: ClassVar[str] = "case_id"

    case_id: str
    case_number: str
    handler: HandlerRef
    cause: ReleaseCause
    released_at: datetime


@integration_event
class AssignmentRulesPublished(IntegrationEvent):
    """An agency's assignment rules, filed with the city bureau, are published (R-ASG-5) and
    shown to the public (R-PUB-3). Key: the agency id."""

    type: ClassVar[str] = "legalaid.assignment.rules-published.v1"
    topic: ClassVar[str] = ASSIGNMENTS
    key_field: ClassVar[str] = "agency_id"

    agency_id: str
    version: int
    title: str
    text: str
    effective_from: date
    monthly_cap: int | None = None
    senior_years_of_practice: int | None = None
    filed_with: str
    published_at: datetime
