"""Intake's REST API for the end of a case: a request for another handler, termination of aid,
the closing check, archive, and follow-up visits with the aided person."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from services.intake import handlers, queries
from services.intake.api import CaseId, Ref
from services.intake.closing import FollowUpChannel, Satisfaction, TerminationReason
from services.intake.views import CaseView
from shared.service import EngineDep, UowFactoryDep

router = APIRouter(prefix="/api/v1/cases", tags=["end of a case"])
Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class RequestReassignment(BaseModel):
    """The aided person asks for another handler (更换承办人员), with their reason."""

    model_config = ConfigDict(extra="forbid")

    requested_by: Ref = Field(description="The staff member who took the request")
    reason: Reason


class TerminateAid(BaseModel):
    """终止法律援助: assistance ends for a legal reason before the case does."""

    model_config = ConfigDict(extra="forbid")

    reason: TerminationReason
    details: str | None = Field(default=None, max_length=2000)
    terminated_by: Ref = Field(description="The agency staff member who decided it")


class CheckClosingFile(BaseModel):
    """结案收卷质量检查 (R-CHK-1): the agency's designated checker's result."""

    model_config = ConfigDict(extra="forbid")

    checker_id: Ref
    passed: bool
    remarks: str | None = Field(default=None, max_length=2000)


class ArchiveCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    archived_by: Ref


class RecordFollowUp(BaseModel):
    """回访 (R-HDL-8): a visit or call to the aided person, during or after the case."""

    model_config = ConfigDict(extra="forbid")

    follow_up_id: Ref | None = Field(default=None, description="The client's id: sending it again records it once")
    visited_on: date
    channel: FollowUpChannel
    satisfaction: Satisfaction
    remarks: str | None = Field(default=None, max_length=2000,
                                description="What the aided person said; stays in intake")
    visited_by: Ref


@router.post("/{case_id}/reassignment-requests", status_code=status.HTTP_201_CREATED, response_model=CaseView)
async def request_reassignment(*, case_id: CaseId, body: RequestReassignment, uow: UowFactoryDep,
                               engine: EngineDep) -> CaseView:
    """Record that the aided person asked for another handler; assignment's new decision, when it
    comes, replaces the handler."""
    await handlers.request_reassignment(uow, case_id, reason=body.reason, requested_by=body.requested_by)
    return await queries.case_view(engine, case_id)


@router.post("/{case_id}/termination", response_model=CaseView)
async def terminate_aid(*, case_id: CaseId, body: TerminateAid, uow: UowFactoryDep, engine: EngineDep) -> CaseView:
    """End the legal aid of an open case for a legal reason (the case is then `terminated`)."""
    await handlers.terminate_aid(uow, case_id, reason=body.reason, details=body.details,
                                 terminated_by=body.terminated_by)
    return await queries.case_view(engine, case_id)


@router.post("/{case_id}/closing-check", response_model=CaseView)
async def check_closing_file(*, case_id: CaseId, body: CheckClosingFile, uow: UowFactoryDep,
                             engine: EngineDep) -> CaseView:
    """The agency's checker records the closing check of a submitted closing file (R-CHK-1)."""
    await handlers.check_closing_file(uow, case_id, checker_id=body.checker_id, passed=body.passed,
                                      remarks=body.remarks)
    return await queries.case_view(engine, case_id)


@router.post("/{case_id}/archive", response_model=CaseView)
async def archive_case(*, case_id: CaseId, body: ArchiveCase, uow: UowFactoryDep, engine: EngineDep) -> CaseView:
    """Archive the case (归档) once its closing check has passed."""
    await handlers.archive_case(uow, case_id, archived_by=body.archived_by)
    return await queries.case_view(engine, case_id)


@router.post("/{case_id}/follow-ups", status_code=status.HTTP_201_CREATED, response_model=CaseView)
async def record_follow_up(*, case_id: CaseId, body: RecordFollowUp, uow: UowFactoryDep,
                           engine: EngineDep) -> CaseView:
    """Record a follow-up with the aided person and whether they were satisfied; evaluation
    receives the answer (FollowUpCompleted), never the remarks."""
    await handlers.record_follow_up(uow, case_id, follow_up_id=body.follow_up_id, visited_on=body.visited_on,
                                    channel=body.channel, satisfaction=body.satisfaction, remarks=body.remarks,
                                    visited_by=body.visited_by)
    return await queries.case_view(engine, case_id)
