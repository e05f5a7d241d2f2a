"""Events assignment publishes: decisions on `legalaid.assignment.assignments` (key: the case id;
the rules published: the agency id), the provider pool's public facts on
`legalaid.assignment.providers` (key: institution or handler id; a recruitment call: its id)."""

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
    HandlerRef,
)
from shared.events import IntegrationEvent, integration_event

ASSIGNMENTS = "legalaid.assignment.assignments"
# The provider pool's public facts (R-PUB-3), keyed by institution or handler id.
PROVIDERS = "legalaid.assignment.providers"

_EXAMPLE_FIRM = EXAMPLE_LAWYER["institution_id"]
_EXAMPLE_FIRM_NAME = EXAMPLE_LAWYER["institution_name"]
_SKIPPED: JsonDict = {"handler_id": "a4f7314c-3d27-4624-8941-28c7e2dd5fcd",
                      "reasons": ["monthly_cap_reached", "conflict_of_interest"]}
_RECRUITMENT: JsonDict = {"method": "public_call", "recruited_on": "2025-12-15",
                          "recruiting_agency": EXAMPLE_AGENCY_ID, "results_published_on": "2025-12-22"}


class AssignmentMethod(StrEnum):
    rotation = "rotation"  # R-ASG-1
    named = "named"  # R-ASG-2
    chosen = "chosen"  # R-ASG-3
    arranged = "arranged"  # R-PRV-4: by the institution the agency gave the case to


@integration_event
class CaseAssigned(IntegrationEvent):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "case_id": EXAMPLE_CASE_ID, "case_number": EXAMPLE_CASE_NUMBER, "handler": EXAMPLE_LAWYER,
        "method": "rotation", "reason": None, "assigned_at": "2026-03-02T01:20:03Z",
    }]})

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
    model_config = ConfigDict(extra="ignore", frozen=True, json_schema_extra={"examples": [_SKIPPED]})

    handler_id: str
    reasons: list[str]


@integration_event
class AssignmentBlocked(IntegrationEvent):
    """No one in the pool may take the case; each candidate with why not."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "case_id": EXAMPLE_CASE_ID, "case_number": EXAMPLE_CASE_NUMBER,
        "candidates": [_SKIPPED,
                       {"handler_id": "5f19a507-651b-40b6-939e-7e63c9834357", "reasons": ["suspended"]}],
        "blocked_at": "2026-03-02T01:20:03Z",
    }]})

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

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "case_id": EXAMPLE_CASE_ID, "case_number": EXAMPLE_CASE_NUMBER, "handler": EXAMPLE_LAWYER,
        "cause": "reassignment", "released_at": "2026-04-07T06:30:02Z",
    }]})

    type: ClassVar[str] = "legalaid.assignment.handler-released.v1"
    topic: ClassVar[str] = ASSIGNMENTS
    key_field: ClassVar[str] = "case_id"

    case_id: str
    case_number: str
    handler: HandlerRef
    cause: ReleaseCause
    released_at: datetime


class DeclineReason(StrEnum):
    """Why a handler declines a case assigned to them (the handler's explanation stays in
    assignment's record: it is free text)."""

    conflict_of_interest = "conflict_of_interest"  # 利益冲突
    lacks_expertise = "lacks_expertise"  # 不具备相应专业能力
    workload = "workload"  # 承办案件已饱和
    health = "health"  # 健康原因
    other = "other"


@integration_event
class HandlerDeclined(IntegrationEvent):
    """The handler declined the case assigned to them, with a reason; assignment hands the case
    to another by the same rules (a CaseAssigned or AssignmentBlocked follows). The declined case
    still counts toward the decliner's month (R-ASG-4) and their rotation turn stays taken."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "case_id": EXAMPLE_CASE_ID, "case_number": EXAMPLE_CASE_NUMBER, "handler": EXAMPLE_LAWYER,
        "reason": "conflict_of_interest", "declined_at": "2026-03-02T03:10:00Z",
    }]})

    type: ClassVar[str] = "legalaid.assignment.handler-declined.v1"
    topic: ClassVar[str] = ASSIGNMENTS
    key_field: ClassVar[str] = "case_id"

    case_id: str
    case_number: str
    handler: HandlerRef
    reason: DeclineReason
    declined_at: datetime


@integration_event
class AssignmentRulesPublished(IntegrationEvent):
    """An agency's assignment rules, filed with the city bureau, are published (R-ASG-5) and
    shown to the public (R-PUB-3). Key: the agency id."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "agency_id": EXAMPLE_AGENCY_ID, "version": 3, "title": "朝阳区法律援助中心法律援助案件指派规则",
        "text": "一、本中心按轮流指派为主、指定指派和受援人选择为辅的原则指派案件。……",
        "effective_from": "2026-01-01", "monthly_cap": 4, "senior_years_of_practice": 10,
        "filed_with": "市司法局", "published_at": "2025-12-20T02:00:00Z",
    }]})

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

    model_config = ConfigDict(extra="ignore", frozen=True, json_schema_extra={"examples": [_RECRUITMENT]})

    method: str = Field(description="public_call, criteria or government_procurement")
    recruited_on: date
    recruiting_agency: str
    results_published_on: date | None = None


@integration_event
class InstitutionRecruited(IntegrationEvent):
    """An institution joined an agency's pool; its recruitment is public (R-PRV-1, R-PUB-3).
    Key: the institution id."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "institution_id": _EXAMPLE_FIRM, "name": _EXAMPLE_FIRM_NAME, "kind": "law_firm",
        "agency_id": EXAMPLE_AGENCY_ID, "district": EXAMPLE_DISTRICT, "recruitment": _RECRUITMENT,
        "recruited_at": "2025-12-22T01:00:00Z",
    }]})

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

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "handler_id": "686e5634-6456-4562-8ba5-261b741690e0", "name": "陈思远",
        "institution_id": "38744359-6722-4746-8b44-d4a567217b0a",
        "institution_name": "朝阳区八里庄街道法律服务所",
        "agency_id": EXAMPLE_AGENCY_ID, "registered_at": "2026-01-09T07:30:00Z",
    }]})

    type: ClassVar[str] = "legalaid.assignment.volunteer-registered.v1"
    topic: ClassVar[str] = PROVIDERS
    key_field: ClassVar[str] = "handler_id"

    handler_id: str
    name: str
    institution_id: str
    institution_name: str
    agency_id: str
    registered_at: datetime


@integration_event
class RecruitmentCallAnnounced(IntegrationEvent):
    """An agency calls for institutions or volunteers to join its pool (招募公告); the public sees
    the call (R-PUB-3) as it sees the results (InstitutionRecruited). The agency's announcement
    only: no personal data. Key: the call id."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "call_id": "0b6e3f5e-8a4c-4b9e-9d0f-2f7c1a5e6d31", "agency_id": EXAMPLE_AGENCY_ID,
        "title": "朝阳区法律援助中心2026年度法律援助律师事务所公开招募公告",
        "fields_sought": ["刑事辩护", "婚姻家庭", "劳动争议"], "deadline": "2026-03-31",
        "how_to_apply": "请于截止日前将申请表、执业许可证复印件及近三年办案情况报送本中心"
                        "（朝阳区某某路1号），或发送至 zhaomu@legalaid.example。",
        "announced_at": "2026-03-02T01:00:00Z",
    }]})

    type: ClassVar[str] = "legalaid.assignment.recruitment-call-announced.v1"
    topic: ClassVar[str] = PROVIDERS
    key_field: ClassVar[str] = "call_id"

    call_id: str
    agency_id: str
    title: str
    fields_sought: list[str] = Field(description="The fields of law the agency seeks providers for")
    deadline: date = Field(description="The last day to apply (Beijing)")
    how_to_apply: str
    announced_at: datetime
