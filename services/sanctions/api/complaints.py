"""Complaints of aided persons about their case (/api/v1/complaints): Legal Aid Law arts. 55-57.
The agency or the bureau records a complaint received; the bureau answers it by its due day and
may open an investigation on it (R-SAN-3). The complaint names its case, not the aided person."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.sanctions import handlers, queries
from services.sanctions.domain import ComplaintStatus
from services.sanctions.queries import ComplaintView, InvestigationView
from services.sanctions.settings import SanctionsSettingsDep
from shared.auth import Principal, Role, allow
from shared.clock import local_date
from shared.deps import ClockDep, EngineDep, UowFactoryDep
from shared.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/complaints", tags=["complaints"])

ComplaintId = Annotated[str, Path(description="The complaint's id", max_length=64)]

# The complaint reaches the agency or the bureau; the bureau handles and answers it. The text may
# say things about the aided person: the auditor reads it, nobody else outside the two.
Recorders = Annotated[Principal, allow(Role.bureau_investigator, Role.agency_staff)]
Bureau = Annotated[Principal, allow(Role.bureau_investigator)]
Readers = Annotated[Principal, allow(Role.bureau_investigator, Role.agency_staff, Role.auditor)]


class Lodge(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"case_id": "5b0c8e7e-3f5d-4a59-9d0e-6f2b9c1d7a11", "received_on": "2026-10-08",
         "text": "受援人反映承办律师开庭前未与其见面沟通。"}]})

    case_id: str = Field(min_length=1, max_length=64, description="The case complained about")
    received_on: date = Field(description="The day the complaint was received")
    text: str = Field(min_length=5, max_length=8000,
                      description="What the aided person complains of (kept here only, never in events)")


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"answer": "经核查，已责令承办律师改正，并将结果书面告知投诉人。"}]})

    answer: str = Field(min_length=5, max_length=8000)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ComplaintView,
             summary="Record a complaint received")
async def lodge(*, body: Lodge, principal: Recorders, uow: UowFactoryDep, settings: SanctionsSettingsDep,
                response: Response) -> ComplaintView:
    """A complaint about a case sanctions knows of (from intake); its answer is due
    `complaint_answer_days` after it was received."""
    complaint = await handlers.lodge_complaint(uow, settings.policy(), case_id=body.case_id, text=body.text,
                                               received_on=body.received_on, by=principal.sub,
                                               within=queries.scope(principal))
    response.headers["Location"] = f"/api/v1/complaints/{complaint.complaint_id}"
    return complaint


@router.get("", response_model=Page[ComplaintView], summary="List complaints")
async def list_complaints(
    *, principal: Readers, engine: EngineDep, clock: ClockDep, status: ComplaintStatus | None = None,
    overdue: Annotated[bool, Query(description="Only those unanswered past their due day, the most "
                                               "overdue first")] = False,
    bureau_id: Annotated[str | None, Query(max_length=64)] = None,
    case_id: Annotated[str | None, Query(max_length=64)] = None,
    offset: Offset = 0, limit: Limit = 50,
) -> Page[ComplaintView]:
    """Complaints, newest first; or the overdue ones."""
    return await queries.list_complaints(engine, principal, status=status, overdue=overdue,
                                         today=local_date(clock()), bureau_id=bureau_id, case_id=case_id,
                                         offset=offset, limit=limit)


@router.get("/{complaint_id}", response_model=ComplaintView, summary="One complaint")
async def get_complaint(*, complaint_id: ComplaintId, principal: Readers, engine: EngineDep,
                        clock: ClockDep) -> ComplaintView:
    return await queries.complaint(engine, principal, complaint_id, today=local_date(clock()))


@router.post("/{complaint_id}/answer", response_model=ComplaintView, summary="Answer a complaint")
async def answer(*, complaint_id: ComplaintId, body: Answer, principal: Bureau,
                 uow: UowFactoryDep) -> ComplaintView:
    """The bureau's answer (once)."""
    return await handlers.answer_complaint(uow, complaint_id, answer=body.answer, by=principal.sub,
                                           within=queries.scope(principal))


@router.post("/{complaint_id}/investigation", status_code=status.HTTP_201_CREATED,
             response_model=InvestigationView, summary="Open an investigation on a complaint")
async def investigate(*, complaint_id: ComplaintId, principal: Bureau, uow: UowFactoryDep,
                      settings: SanctionsSettingsDep, response: Response) -> InvestigationView:
    """Opens an investigation of the case's handler, as a failed case does (R-SAN-3); once."""
    investigation = await handlers.investigate_complaint(uow, settings.policy(), complaint_id,
                                                         by=principal.sub, within=queries.scope(principal))
    response.headers["Location"] = f"/api/v1/investigations/{investigation.investigation_id}"
    return investigation
