"""The bureau's investigations of failed cases and complaints (/api/v1/investigations): R-SAN-1,
R-SAN-3; each step of one is a command here. And the information back to the organ that
notified a case, when its investigation concludes (/api/v1/organ-reports, 通报)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from services.sanctions import handlers, queries
from services.sanctions.domain import InvestigationStatus, Measure, SuspensionScope
from services.sanctions.queries import (
    EvidenceView,
    InvestigationView,
    NoteView,
    OrganReportView,
)
from shared.auth import Principal, Role, allow
from shared.clock import local_date
from shared.deps import ClockDep, EngineDep, UowFactoryDep
from shared.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/investigations", tags=["investigations"])
organ_router = APIRouter(prefix="/api/v1/organ-reports", tags=["information to organs"])

InvestigationId = Annotated[str, Path(description="The investigation's id", max_length=64)]

# Investigations are the bureau's; the agency reads them too, since it decides suspensions on
# their findings (R-SAN-2). The bar association reads only the notices sent to it (bar_notices.py).
INVESTIGATION_READERS = (Role.bureau_investigator, Role.agency_staff, Role.auditor)
# Only the bureau investigates: assigns, notes, collects evidence, finds, decides, closes.
INVESTIGATOR = Role.bureau_investigator

Readers = Annotated[Principal, allow(*INVESTIGATION_READERS)]
Investigator = Annotated[Principal, allow(INVESTIGATOR)]


class Assign(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"assignee_id": "investigator-wang"}]})

    assignee_id: str = Field(min_length=1, max_length=64, description="The bureau investigator in charge")


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"text": "已调取结案卷宗，约谈承办律师定于下周二。"}]})

    text: str = Field(min_length=1, max_length=4000)


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"reference": "朝司调〔2026〕17号-3", "description": "看守所会见登记表复印件"}]})

    reference: str = Field(min_length=1, max_length=200, description="Where the evidence is kept")
    description: str = Field(min_length=1, max_length=1000)


class Findings(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"findings": "经调查，承办律师在审查起诉阶段未会见犯罪嫌疑人，未提交书面辩护意见，属实。"}]})

    findings: str = Field(min_length=5, max_length=8000)


class Decide(BaseModel):
    """No violation (`violation: false`, no measures), or a violation and its handling."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"violation": True, "measures": ["order_to_correct", "suspension_from_assignment"],
         "reasoning": "未履行会见和提出辩护意见的职责（法律援助法第六十三条）",
         "suspension_scope": "agency", "suspension_months": 3},
        {"violation": False, "measures": [], "reasoning": "经调查，评估所指问题系卷宗整理疏漏，不构成违规"},
    ]})

    violation: bool
    measures: list[Measure] = Field(default_factory=list, max_length=4)
    reasoning: str = Field(min_length=5, max_length=8000)
    suspension_scope: SuspensionScope | None = Field(
        default=None, description="With suspension_from_assignment: the deciding agency, or the whole city")
    suspension_months: int | None = Field(default=None, ge=1, le=36,
                                          description="With suspension_from_assignment: how long")
    practice_suspension_months: int | None = Field(
        default=None, ge=1, le=3, description="With practice_suspension (lawyers only): one to three months")


@router.get("", response_model=Page[InvestigationView], summary="Investigations of failed cases")
async def list_investigations(
    *, principal: Readers, engine: EngineDep, clock: ClockDep, status: InvestigationStatus | None = None,
    overdue: Annotated[bool, Query(description="Only those past their due day and not closed (the "
                                               "bureau's worklist), the most overdue first")] = False,
    bureau_id: Annotated[str | None, Query(max_length=64)] = None,
    assignee_id: Annotated[str | None, Query(max_length=64)] = None,
    offset: Offset = 0, limit: Limit = 50,
) -> Page[InvestigationView]:
    """List investigations, newest first; or the overdue worklist."""
    return await queries.list_investigations(engine, principal, status=status, offset=offset, limit=limit,
                                             today=local_date(clock()), overdue=overdue, bureau_id=bureau_id,
                                             assignee_id=assignee_id)


@router.get("/{investigation_id}", response_model=InvestigationView, summary="One investigation")
async def get_investigation(*, investigation_id: InvestigationId, principal: Readers, engine: EngineDep,
                            clock: ClockDep) -> InvestigationView:
    """One investigation, with the bar association's notice when the handler is a lawyer."""
    return await queries.investigation(engine, principal, investigation_id, today=local_date(clock()))


@router.post("/{investigation_id}/assignment", response_model=InvestigationView,
             summary="Assign an investigation to an investigator")
async def assign(*, investigation_id: InvestigationId, body: Assign, principal: Investigator,
                 uow: UowFactoryDep) -> InvestigationView:
    return await handlers.assign_investigation(uow, investigation_id, assignee_id=body.assignee_id,
                                               by=principal.sub, within=queries.scope(principal))


@router.post("/{investigation_id}/notes", status_code=status.HTTP_201_CREATED, response_model=NoteView,
             summary="Add a note to an investigation")
async def add_note(*, investigation_id: InvestigationId, body: Note, principal: Investigator,
                   uow: UowFactoryDep) -> NoteView:
    return await handlers.add_note(uow, investigation_id, text=body.text, by=principal.sub,
                                   within=queries.scope(principal))


@router.get("/{investigation_id}/notes", response_model=Page[NoteView], summary="An investigation's notes")
async def list_notes(*, investigation_id: InvestigationId, principal: Readers, engine: EngineDep,
                     offset: Offset = 0, limit: Limit = 50) -> Page[NoteView]:
    return await queries.list_notes(engine, principal, investigation_id, offset=offset, limit=limit)


@router.post("/{investigation_id}/evidence", status_code=status.HTTP_201_CREATED, response_model=EvidenceView,
             summary="Add a reference to evidence")
async def add_evidence(*, investigation_id: InvestigationId, body: Evidence, principal: Investigator,
                       uow: UowFactoryDep) -> EvidenceView:
    return await handlers.add_evidence(uow, investigation_id, reference=body.reference,
                                       description=body.description, by=principal.sub,
                                       within=queries.scope(principal))


@router.get("/{investigation_id}/evidence", response_model=Page[EvidenceView],
            summary="An investigation's evidence references")
async def list_evidence(*, investigation_id: InvestigationId, principal: Readers, engine: EngineDep,
                        offset: Offset = 0, limit: Limit = 50) -> Page[EvidenceView]:
    return await queries.list_evidence(engine, principal, investigation_id, offset=offset, limit=limit)


@router.post("/{investigation_id}/findings", response_model=InvestigationView,
             summary="Record the bureau's findings")
async def record_findings(*, investigation_id: InvestigationId, body: Findings, principal: Investigator,
                          uow: UowFactoryDep) -> InvestigationView:
    """Recorded again before the decision, they replace the earlier findings."""
    return await handlers.record_findings(uow, investigation_id, findings=body.findings, by=principal.sub,
                                          within=queries.scope(principal))


@router.post("/{investigation_id}/decision", response_model=InvestigationView,
             summary="Decide: no violation, or a violation and its handling")
async def decide(*, investigation_id: InvestigationId, body: Decide, principal: Investigator,
                 uow: UowFactoryDep) -> InvestigationView:
    """R-SAN-3. A suspension from assignment (or from practice, for a lawyer: then every agency of
    the city) also decides the suspension, from today for the months given (`suspension_id`);
    assignment applies it from its next decision on (R-SAN-2, R-ASG-6)."""
    return await handlers.decide_investigation(uow, investigation_id, by=principal.sub, **body.model_dump(),
                                               within=queries.scope(principal))


@router.post("/{investigation_id}/closure", response_model=InvestigationView,
             summary="Close an investigation")
async def close(*, investigation_id: InvestigationId, principal: Investigator,
                uow: UowFactoryDep) -> InvestigationView:
    """Closes a decided investigation; the organ that notified the case, if one did, is informed
    (InvestigationConcluded, and /api/v1/organ-reports)."""
    return await handlers.close_investigation(uow, investigation_id, by=principal.sub,
                                              within=queries.scope(principal))


# --- 通报: for the organ that notified the case only ---------------------------------------------

OrganReader = Annotated[Principal, allow(Role.judicial_organ)]


@organ_router.get("", response_model=Page[OrganReportView],
                  summary="Conclusions on the cases this organ notified")
async def list_organ_reports(*, principal: OrganReader, engine: EngineDep, offset: Offset = 0,
                             limit: Limit = 50) -> Page[OrganReportView]:
    """The concluded investigations of the cases the caller's organ (its token's institution_id)
    notified, newest first."""
    return await queries.list_organ_reports(engine, principal, offset=offset, limit=limit)


@organ_router.get("/{investigation_id}", response_model=OrganReportView, summary="One conclusion")
async def get_organ_report(*, investigation_id: InvestigationId, principal: OrganReader,
                           engine: EngineDep) -> OrganReportView:
    """One concluded investigation of a case this organ notified; 404 for any other."""
    return await queries.organ_report(engine, principal, investigation_id)
