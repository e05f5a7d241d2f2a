"""Events assignment publishes: decisions on `legalaid.assignment.assignments` (key: the case id;
the rules published: the agency id), the provider pool's public facts on
`legalaid.assignment.providers` (key: institution or handler id)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.common import HandlerRef
from shared.events import IntegrationEvent, integration_event

ASSIGNMENTS = "legalaid.assignment.assignments"
# The provider pool's public facts (R-PUB-3), keyed by institution or handler id.
PROVIDERS = "legalaid.assignment.providers"


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


class RecruitmentRecord(BaseModel):
    """R-PRV-1: how, when and by which agency an institution was recruited."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    method: str = Field(description="public_call, criteria or government_procurement")
    recruited_on: date
    recruiting_agency: str
    results_published_on: date | None = None


@integration_event
class InstitutionRecruited(IntegrationEvent):
    """An institution joined an agency's pool; its recruitment is public (R-PRV-1, R-PUB-3).
    Key: the institution id."""

    type: ClassVar[str] = "legalaid.assignment.institution-recruited.v1"
    topic: ClassVar[str] = PROVIDERS
    key_field: ClassVar[str] = "institution_id"

    institution_id: str
    name: str
    kind: str
    agency_id: str
    district: str
    recruitment: RecruitmentRecord | None = None
    recruited_at: datetime


@integration_event
class VolunteerRegistered(IntegrationEvent):
    """A legal-aid volunteer joined the pool; the list of volunteers is public (R-PRV-2,
    R-PUB-3). Public facts only. Key: the handler id."""

    type: ClassVar[str] = "legalaid.assignment.volunteer-registered.v1"
    topic: ClassVar[str] = PROVIDERS
    key_field: ClassVar[str] = "handler_id"

    handler_id: str
    name: str
    institution_id: str
    institution_name: str
    agency_id: str
    registered_at: datetime
