"""Events intake publishes on `legalaid.intake.cases` (key: the case id)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.common import CaseKind, HandlerRef
from shared.events import IntegrationEvent, integration_event

CASES = "legalaid.intake.cases"


class CaseFlags(BaseModel):
    """What drives the choice of assignment method (R-ASG-2, R-ASG-3)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    group_case: bool = False
    head_count: int | None = Field(default=None, ge=1)
    major_or_sensitive: bool = False
    assigned_by_superior: bool = False
    named_handler_id: str | None = None


@integration_event
class CaseRegistered(IntegrationEvent):
    """A legal-aid case was registered. Carries no personal data of the aided person."""

    type: ClassVar[str] = "legalaid.intake.case-registered.v1"
    topic: ClassVar[str] = CASES
    key_field: ClassVar[str] = "case_id"

    case_id: str
    case_number: str
    case_kind: CaseKind
    cause: str
    district: str
    agency_id: str
    flags: CaseFlags
    registered_at: datetime


@integration_event
class CaseClosed(IntegrationEvent):
    """The handler closed the case: what evaluation needs, nothing personal."""

    type: ClassVar[str] = "legalaid.intake.case-closed.v1"
    topic: ClassVar[str] = CASES
    key_field: ClassVar[str] = "case_id"

    case_id: str
    case_number: str
    case_kind: CaseKind
    district: str
    agency_id: str
    handler: HandlerRef
    group_case: bool = False
    outcome: str
    ended_on: date
    closed_at: datetime
