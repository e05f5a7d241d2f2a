"""Events intake publishes on `legalaid.intake.cases` (key: the case id)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from shared.contracts.common import (
    EXAMPLE_AGENCY_ID,
    EXAMPLE_CASE_ID,
    EXAMPLE_CASE_NUMBER,
    EXAMPLE_DISTRICT,
    EXAMPLE_LAWYER,
    CaseKind,
    HandlerRef,
)
from shared.events import IntegrationEvent, integration_event

CASES = "legalaid.intake.cases"

_NO_FLAGS: JsonDict = {
    "group_case": False, "head_count": None, "major_or_sensitive": False, "assigned_by_superior": False,
    "named_handler_id": None, "minor": False, "possible_death_penalty_or_life_imprisonment": False,
}


class CaseFlags(BaseModel):
    """What drives the choice of assignment method (R-ASG-2, R-ASG-3)."""

    model_config = ConfigDict(extra="ignore", frozen=True, json_schema_extra={"examples": [_NO_FLAGS]})

    group_case: bool = False
    head_count: int | None = Field(default=None, ge=1)
    major_or_sensitive: bool = False
    assigned_by_superior: bool = False
    named_handler_id: str | None = None
    # R-ASG-8: cases that need handlers with the required experience. A minor aided person is
    # derived by intake from the ID number's birth date; the possible sentence is the agency's
    # call from the charge.
    minor: bool = False
    possible_death_penalty_or_life_imprisonment: bool = False


class CriminalStage(StrEnum):
    """侦查 / 审查起诉 / 审判 (一审, 二审) / 死刑复核 / 再审."""

    investigation = "investigation"
    prosecution_review = "prosecution_review"
    first_instance = "first_instance"
    second_instance = "second_instance"
    death_penalty_review = "death_penalty_review"
    retrial = "retrial"


class CriminalRole(StrEnum):
    """刑事辩护 / 刑事代理 (被害人, 自诉, 附带民事) / 值班律师法律帮助."""

    defence = "defence"
    victim_representation = "victim_representation"
    private_prosecution_representation = "private_prosecution_representation"
    attached_civil_claim_representation = "attached_civil_claim_representation"
    duty_lawyer_help = "duty_lawyer_help"


class Matter(StrEnum):
    """民事诉讼 / 执行 / 劳动仲裁 / 调解; 行政诉讼 / 行政复议 / 国家赔偿."""

    civil_litigation = "civil_litigation"
    enforcement = "enforcement"
    labour_arbitration = "labour_arbitration"
    mediation = "mediation"
    administrative_lawsuit = "administrative_lawsuit"
    administrative_review = "administrative_review"
    state_compensation = "state_compensation"


@integration_event
class CaseRegistered(IntegrationEvent):
    """A legal-aid case was registered. Carries no personal data of the aided person."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "case_id": EXAMPLE_CASE_ID, "case_number": EXAMPLE_CASE_NUMBER, "case_kind": "criminal",
        "cause": "盗窃", "district": EXAMPLE_DISTRICT, "agency_id": EXAMPLE_AGENCY_ID, "flags": _NO_FLAGS,
        "registered_at": "2026-03-02T01:20:00Z", "criminal_stage": "prosecution_review",
        "criminal_role": "defence", "matter": None,
        "source_system": "chaoyang-procuratorate", "external_reference": "朝检援通〔2026〕88号",
        "adverse_party_hashes": ["e3ea6ab99ca8f14538f34396cf191ab40564e95d25ab99c1a4faa2093c747c94"],
        "aided_person_hash": "ae720a1d047b6d848b6c255225a4240199205782b562044871b32d8146c6edcd",
        "previous_case_id": None,
    }]})

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
    criminal_stage: CriminalStage | None = None
    criminal_role: CriminalRole | None = None
    matter: Matter | None = None
    # The notifying organ's system and its own reference (通知辩护), when it came from outside.
    source_system: str | None = None
    external_reference: str | None = None
    # Keyed hashes (HMAC-SHA256, hex) of the adverse parties' identities, for the conflict check
    # at assignment: the same party always hashes the same, and the hash reveals nothing.
    adverse_party_hashes: list[str] = Field(default_factory=list)
    # The aided person's keyed hash (same key): lets assignment know, in later cases, whom a
    # handler and their institution acted for (the conflict check). Reveals nothing by itself.
    aided_person_hash: str | None = None
    # R-HDL-7: a criminal case moving to a new stage is a new case with its own number and file,
    # linked to the case of the previous stage.
    previous_case_id: str | None = None


@integration_event
class CaseClosed(IntegrationEvent):
    """The handler closed the case: what evaluation needs, nothing personal."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "case_id": EXAMPLE_CASE_ID, "case_number": EXAMPLE_CASE_NUMBER, "case_kind": "criminal",
        "district": EXAMPLE_DISTRICT, "agency_id": EXAMPLE_AGENCY_ID, "handler": EXAMPLE_LAWYER,
        "group_case": False, "outcome": "判决", "ended_on": "2026-08-10", "closed_at": "2026-08-14T07:05:12Z",
        "criminal_role": "defence",
    }]})

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
    criminal_role: CriminalRole | None = Field(
        default=None, description="A criminal case's role; duty-lawyer legal help (duty_lawyer_help) is "
                                  "disclosed as sessions of its own, apart from the cases (R-PUB-1)")


@integration_event
class FollowUpCompleted(IntegrationEvent):
    """回访 (R-HDL-8): the agency asked the aided person whether they were satisfied with the
    handler's service. A dimension of the case's quality for evaluation (R-EVL-5). The aided
    person's remarks stay in intake."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "case_id": EXAMPLE_CASE_ID, "case_number": EXAMPLE_CASE_NUMBER, "case_kind": "criminal",
        "agency_id": EXAMPLE_AGENCY_ID, "handler": EXAMPLE_LAWYER,
        "follow_up_id": "5f275429-0bd2-4c86-be2a-6e7192965f90", "visited_on": "2026-08-20",
        "channel": "phone", "satisfaction": "satisfied", "recorded_at": "2026-08-20T03:42:09Z",
    }]})

    type: ClassVar[str] = "legalaid.intake.follow-up-completed.v1"
    topic: ClassVar[str] = CASES
    key_field: ClassVar[str] = "case_id"

    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    follow_up_id: str
    visited_on: date
    channel: str = Field(description="visit, phone or online")
    satisfaction: str = Field(description="satisfied, basically_satisfied or dissatisfied")
    recorded_at: datetime


class ReassignmentReason(StrEnum):
    """Why the aided person asks for another handler (the free text stays in intake)."""

    conflict_of_interest = "conflict_of_interest"
    lack_of_diligence = "lack_of_diligence"
    breakdown_of_trust = "breakdown_of_trust"
    handler_unavailable = "handler_unavailable"
    other = "other"


@integration_event
class ReassignmentRequested(IntegrationEvent):
    """The aided person asked for another handler and the agency accepted the request: assignment
    picks a new one (keeping rotation fair) and the current handler is released."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "case_id": EXAMPLE_CASE_ID, "case_number": EXAMPLE_CASE_NUMBER, "agency_id": EXAMPLE_AGENCY_ID,
        "current_handler": EXAMPLE_LAWYER, "reason": "breakdown_of_trust",
        "requested_at": "2026-04-07T06:30:00Z",
    }]})

    type: ClassVar[str] = "legalaid.intake.reassignment-requested.v1"
    topic: ClassVar[str] = CASES
    key_field: ClassVar[str] = "case_id"

    case_id: str
    case_number: str
    agency_id: str
    current_handler: HandlerRef
    reason: ReassignmentReason
    requested_at: datetime


@integration_event
class CaseTerminated(IntegrationEvent):
    """Legal aid ended for a legal reason before the case did (终止法律援助): the handler is
    released; the case is not evaluated."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "case_id": EXAMPLE_CASE_ID, "case_number": EXAMPLE_CASE_NUMBER, "agency_id": EXAMPLE_AGENCY_ID,
        "handler": EXAMPLE_LAWYER, "reason": "own_lawyer_engaged", "terminated_at": "2026-05-11T02:15:40Z",
    }]})

    type: ClassVar[str] = "legalaid.intake.case-terminated.v1"
    topic: ClassVar[str] = CASES
    key_field: ClassVar[str] = "case_id"

    case_id: str
    case_number: str
    agency_id: str
    handler: HandlerRef | None = None
    reason: str = Field(description="the legal ground, one of intake's termination reasons")
    terminated_at: datetime


@integration_event
class DeadlineMissed(IntegrationEvent):
    """A time limit of the case passed with its duty undone (R-ASG-7, R-ASG-9, R-HDL-6)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "case_id": EXAMPLE_CASE_ID, "case_number": EXAMPLE_CASE_NUMBER, "agency_id": EXAMPLE_AGENCY_ID,
        "deadline": "first_meeting", "due_at": "2026-03-05T16:00:00Z", "handler": EXAMPLE_LAWYER,
        "detected_at": "2026-03-05T16:05:00Z",
    }]})

    type: ClassVar[str] = "legalaid.intake.deadline-missed.v1"
    topic: ClassVar[str] = CASES
    key_field: ClassVar[str] = "case_id"

    case_id: str
    case_number: str
    agency_id: str
    deadline: str = Field(description="which duty: e.g. first_meeting, mandate, closing_file")
    due_at: datetime
    handler: HandlerRef | None = None
    detected_at: datetime


@integration_event
class ClosingCheckSignedOff(IntegrationEvent):
    """质量审查负责人签字确认 (R-CHK-2): the closing file passed its check against the standard of the
    case's kind and the agency's quality lead signed it off; the subsidy may be paid (R-CHK-3)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "case_id": EXAMPLE_CASE_ID, "case_number": EXAMPLE_CASE_NUMBER, "case_kind": "criminal",
        "agency_id": EXAMPLE_AGENCY_ID, "handler": EXAMPLE_LAWYER, "standard": "SF/T 0086-2020",
        "checklist_version": 1, "checked_by": "staff-chaoyang-031", "signed_off_by": "staff-chaoyang-002",
        "signed_off_at": "2026-08-28T08:10:00Z",
    }]})

    type: ClassVar[str] = "legalaid.intake.closing-check-signed-off.v1"
    topic: ClassVar[str] = CASES
    key_field: ClassVar[str] = "case_id"

    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    standard: str = Field(description="The standard the file was checked against, e.g. SF/T 0086-2020")
    checklist_version: int = Field(default=1, ge=1,
                                   description="The version of the agency's checklist of the kind the check "
                                               "used (1: the seed items of the standard)")
    checked_by: str = Field(description="The designated checker's id")
    signed_off_by: str = Field(description="The quality lead's id")
    signed_off_at: datetime
