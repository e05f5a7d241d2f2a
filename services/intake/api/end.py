"""The end of a case: a request for another handler and its acceptance, termination of aid, the
closing check and its sign-off, archive, and follow-up visits with the aided person.

Each command acts on a case of the caller's agency only (another agency's case is "not found",
docs/security.md "Scoping"), and who acts is the token's subject: a body field naming the actor
(`requested_by`, `accepted_by`, `terminated_by`, `archived_by`, `visited_by`) may be left out, and
when sent must be the caller (403 naming the field)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field

from services.intake import handlers
from services.intake.api.cases import CaseId, Ref
from services.intake.domain.closing import FollowUpChannel, Satisfaction, TerminationReason
from services.intake.queries import access
from services.intake.queries.views import CaseView, view_of
from shared.auth import Principal, Role, acting_as, allow
from shared.contracts.intake import ReassignmentReason
from shared.deps import UowFactoryDep
from shared.validation import OneLine

router = APIRouter(prefix="/api/v1/cases", tags=["end of a case"])
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
RequestId = Annotated[str, Path(description="The request's id", max_length=100)]
Staff = Annotated[Principal, allow(Role.agency_staff)]


def _actor(what: str) -> Any:
    """A body field naming the actor of a command: optional, and when sent the caller's own id."""
    return Field(default=None, description=f"{what}: the caller (the token's subject); sent, it must be that")


class RequestReassignment(BaseModel):
    """The aided person asks for another handler (更换承办人员), with their reason."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"request_id": "req-2026-1107-01", "category": "breakdown_of_trust",
         "reason": "受援人称承办律师两次未按约定时间会见，已失去信任，申请更换承办人员。"},
    ]})

    request_id: Ref | None = Field(default=None,
                                   description="The client's id: sending it again records it once")
    requested_by: Ref | None = _actor("The staff member who took the request")
    category: ReassignmentReason = Field(description="The kind of reason, the only part assignment is told")
    reason: Reason = Field(description="The aided person's own words; they stay in intake")


class ReassignmentRequestView(BaseModel):
    request_id: str = Field(description="Accept the request with POST "
                                        ".../reassignment-requests/{request_id}/acceptance")
    case: CaseView


class AcceptReassignment(BaseModel):
    """The agency accepts the aided person's request for another handler."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})

    accepted_by: Ref | None = _actor("The agency staff member who decides it")


class TerminateAid(BaseModel):
    """终止法律援助: assistance ends for a legal reason before the case does."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"reason": "own_lawyer_engaged", "details": "受援人已自行委托北京市某律师事务所律师担任辩护人。"},
    ]})

    reason: TerminationReason
    details: str | None = Field(default=None, max_length=2000)
    terminated_by: Ref | None = _actor("The agency staff member who decides it")


class CheckClosingFile(BaseModel):
    """结案收卷质量检查 (R-CHK-1): the agency's designated checker's answer for each item of the
    agency's current checklist of the case's kind. The checker is the token's subject (a
    `checker_id` in the body is refused, naming it)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"items": {"meeting_record": True, "file_review_notes": True, "investigation": True,
                   "defence_statement": True, "hearing": True, "notice_duty": True, "report_duty": True,
                   "closing_file_in_time": False},
         "remarks": "判决书复印件未入卷，结案材料不齐全。"},
    ]})

    items: dict[Annotated[str, Field(min_length=1, max_length=60)], bool] = Field(
        min_length=1, max_length=40, description="Each item of the agency's current checklist of the kind "
                                                 "(GET /api/v1/cases/closing-checklists/{case_kind}"
                                                 "?agency_id=...) and whether the checker finds the file "
                                                 "meets it: false fails the item, true passes it only if "
                                                 "the file and the handling record show its evidence")
    remarks: str | None = Field(default=None, max_length=2000)


class SignOffClosingCheck(BaseModel):
    """质量审查负责人签字确认 (R-CHK-2): the agency's quality lead confirms the passed check. The
    quality lead is the token's subject (a `quality_lead_id` in the body is refused, naming it)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"quality_lead_name": "赵敏"}]})

    quality_lead_name: OneLine | None = Field(default=None, min_length=1, max_length=50,
                                          description="The name signed; default: the token's `name`")


class ArchiveCase(BaseModel):
    """归档: the staff member who archives the case file (the token's subject)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})

    archived_by: Ref | None = _actor("Who archives it")


class RecordFollowUp(BaseModel):
    """回访 (R-HDL-8): a visit or call to the aided person, during or after the case."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"follow_up_id": "fu-2026-1125-01", "visited_on": "2026-11-25", "channel": "phone",
         "satisfaction": "basically_satisfied", "remarks": "受援人对判决结果接受，希望律师沟通更及时。"},
    ]})

    follow_up_id: Ref | None = Field(default=None,
                                     description="The client's id: sending it again records it once")
    visited_on: date
    channel: FollowUpChannel
    satisfaction: Satisfaction
    remarks: str | None = Field(default=None, max_length=2000,
                                description="What the aided person said; stays in intake")
    visited_by: Ref | None = _actor("Who visited or called")


@router.post("/{case_id}/reassignment-requests",
             summary="Record a request for another handler (更换承办人员)",
             status_code=status.HTTP_201_CREATED, response_model=ReassignmentRequestView)
async def request_reassignment(*, case_id: CaseId, body: RequestReassignment, uow: UowFactoryDep,
                               principal: Staff) -> ReassignmentRequestView:
    """Record that the aided person asked for another handler, with the kind of reason and their
    own words; nothing changes until the agency accepts the request."""
    case, request_id = await handlers.request_reassignment(
        uow, case_id, request_id=body.request_id, reason=body.reason, category=body.category,
        requested_by=acting_as(principal, "requested_by", body.requested_by), within=access.scope(principal))
    return ReassignmentRequestView(request_id=request_id, case=view_of(case))


@router.post("/{case_id}/reassignment-requests/{request_id}/acceptance",
             summary="Accept a request for another handler", response_model=CaseView)
async def accept_reassignment(*, case_id: CaseId, request_id: RequestId, body: AcceptReassignment,
                              uow: UowFactoryDep, principal: Staff) -> CaseView:
    """The agency accepts the aided person's request for another handler: assignment is told
    (ReassignmentRequested, with the kind of reason only) and names the next handler, who then
    replaces the current one on the case (its deadlines restart for them)."""
    return view_of(await handlers.accept_reassignment(
        uow, case_id, request_id=request_id,
        accepted_by=acting_as(principal, "accepted_by", body.accepted_by), within=access.scope(principal)))


@router.post("/{case_id}/termination", summary="Terminate legal aid (终止法律援助)", response_model=CaseView)
async def terminate_aid(*, case_id: CaseId, body: TerminateAid, uow: UowFactoryDep,
                        principal: Staff) -> CaseView:
    """End the legal aid of an open case for a legal reason (the case is then `terminated`): the
    handler is released and the case is not evaluated (CaseTerminated tells the others)."""
    return view_of(await handlers.terminate_aid(
        uow, case_id, reason=body.reason, details=body.details,
        terminated_by=acting_as(principal, "terminated_by", body.terminated_by),
        within=access.scope(principal)))


@router.post("/{case_id}/closing-check", summary="Check the closing file (结案收卷质量检查)",
             response_model=CaseView)
async def check_closing_file(*, case_id: CaseId, body: CheckClosingFile, uow: UowFactoryDep,
                             principal: Annotated[Principal, allow(Role.closing_checker)]) -> CaseView:
    """The agency's designated checker (never a handler of the case: 403, R-CHK-1) checks a
    submitted closing file against the agency's current checklist of the case's kind (R-CHK-1):
    an item passes when the closing file and the handling record show its evidence (R-HDL-1..5,
    R-ASG-9) and the checker finds it met. A failed check names each missing item with its
    reasons (`closing_check_missing`)."""
    return view_of(await handlers.check_closing_file(uow, case_id, checker=principal, answers=body.items,
                                                     remarks=body.remarks, within=access.scope(principal)))


@router.post("/{case_id}/closing-check/sign-off", summary="Quality lead's sign-off (质量审查负责人签字确认)",
             response_model=CaseView)
async def sign_off_closing_check(*, case_id: CaseId, body: SignOffClosingCheck, uow: UowFactoryDep,
                                 principal: Annotated[Principal, allow(Role.quality_lead)]) -> CaseView:
    """The agency's quality lead (never a handler of the case: 403, R-CHK-2) signs off a passed
    closing check (R-CHK-2): the file may then be archived and the subsidy paid
    (ClosingCheckSignedOff tells the others)."""
    return view_of(await handlers.sign_off_closing_check(uow, case_id, quality_lead=principal,
                                                         quality_lead_name=body.quality_lead_name,
                                                         within=access.scope(principal)))


@router.post("/{case_id}/archive", summary="Archive the case (归档)", response_model=CaseView)
async def archive_case(*, case_id: CaseId, body: ArchiveCase, uow: UowFactoryDep,
                       principal: Staff) -> CaseView:
    """Archive the case (归档) once its closing check has passed and the quality lead signed it off."""
    return view_of(await handlers.archive_case(
        uow, case_id, archived_by=acting_as(principal, "archived_by", body.archived_by),
        within=access.scope(principal)))


@router.post("/{case_id}/follow-ups", summary="Record a follow-up with the aided person (回访)",
             status_code=status.HTTP_201_CREATED, response_model=CaseView)
async def record_follow_up(*, case_id: CaseId, body: RecordFollowUp, uow: UowFactoryDep,
                           principal: Staff) -> CaseView:
    """Record a follow-up with the aided person and whether they were satisfied; evaluation
    receives the answer (FollowUpCompleted), never the remarks."""
    case = await handlers.record_follow_up(uow, case_id, follow_up_id=body.follow_up_id,
                                           visited_on=body.visited_on, channel=body.channel,
                                           satisfaction=body.satisfaction, remarks=body.remarks,
                                           visited_by=acting_as(principal, "visited_by", body.visited_by),
                                           within=access.scope(principal))
    return view_of(case)
