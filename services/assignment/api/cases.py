"""The assignment of cases (/api/v1/cases/{id}/assignment, /api/v1/assignments/blocked): each
case's decision record, the agency's choice of handler, and the cases no one may take."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.assignment import handlers, queries
from services.assignment.api.common import AgencyFilter, Id, reported_as_field_error
from services.assignment.domain import MIN_REASON_LENGTH
from services.assignment.queries import AssignmentView, BlockedCase
from shared.aggregate import Forbidden
from shared.auth import Principal, Role, agency_scope, allow
from shared.contracts.assignment import DeclineReason
from shared.deps import EngineDep, UowFactoryDep
from shared.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1", tags=["assignments"])

# Unscoped roles first: a caller who is also a handler or an organ reads with the wider view.
ASSIGNMENT_READERS = (Role.agency_staff, Role.bureau_investigator, Role.auditor, Role.case_handler,
                      Role.judicial_organ, Role.institution)


class ChooseHandler(BaseModel):
    """R-ASG-3: the agency's choice for a major, group or superior-assigned case, and why."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"handler_id": "4b9e96a3-77b4-4aaf-93fa-a3317ab423c8",
         "reason": "群体性劳动争议案件，经中心集体研究，指派有十年以上劳动争议代理经验的律师承办"},
    ]})

    handler_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=MIN_REASON_LENGTH, max_length=1000)


class DeclineCase(BaseModel):
    """The assigned handler declines the case, with a reason."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"reason": "conflict_of_interest", "explanation": "本所曾代理对方当事人的关联公司，存在利益冲突"},
    ]})

    reason: DeclineReason
    explanation: str = Field(min_length=MIN_REASON_LENGTH, max_length=1000,
                             description="Why, in the handler's words; stays in assignment's record")


@router.get("/cases/{case_id}/assignment", response_model=AssignmentView)
async def get_assignment(*, case_id: Id, engine: EngineDep,
                         principal: Annotated[Principal, allow(*ASSIGNMENT_READERS)]) -> AssignmentView:
    """The case's decision record: each decision with the candidates considered. A handler reads
    the record of a case they handle; the judicial organ that notified the case reads its status
    and the assigned handler only (R-ASG-7), without the decisions; an institution reads a case
    given to it or handled by one of its handlers, with its own handlers among the candidates."""
    return await queries.assignment(engine, case_id, principal=principal)


@router.post("/cases/{case_id}/assignment", response_model=AssignmentView)
async def choose_handler(*, case_id: Id, body: ChooseHandler, uow: UowFactoryDep, engine: EngineDep,
                         principal: Annotated[Principal, allow(Role.agency_staff)]) -> AssignmentView:
    """Assign the agency's chosen handler to a case awaiting its choice (a case of the caller's
    agency; another agency's is not found)."""
    with reported_as_field_error():
        await handlers.choose_handler(uow, case_id, handler_id=body.handler_id, reason=body.reason,
                                      within=agency_scope(principal))
    return await queries.assignment(engine, case_id)


@router.post("/cases/{case_id}/assignment/declination", status_code=status.HTTP_204_NO_CONTENT,
             response_class=Response, summary="Decline an assigned case (its handler)")
async def decline_case(*, case_id: Id, body: DeclineCase, uow: UowFactoryDep,
                       principal: Annotated[Principal, allow(Role.case_handler)]) -> Response:
    """The handler the case is assigned to declines it, with a reason: assignment decides again
    by the same rules without them (HandlerDeclined, then CaseAssigned or AssignmentBlocked). The
    declined case still counts toward their month and their rotation turn stays taken (R-ASG-4,
    R-ASG-1). Declining again answers 204 and changes nothing; a case not assigned to the caller
    is refused (403)."""
    if principal.handler_id is None:
        raise Forbidden("your token names no handler_id")
    with reported_as_field_error():
        await handlers.decline_case(uow, case_id, handler_id=principal.handler_id, reason=body.reason,
                                    explanation=body.explanation)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/assignments/blocked", response_model=Page[BlockedCase])
async def list_blocked(*, engine: EngineDep,
                       principal: Annotated[Principal, allow(Role.agency_staff, Role.auditor)],
                       agency_id: AgencyFilter = None, offset: Offset = 0,
                       limit: Limit = 50) -> Page[BlockedCase]:
    """Cases no one in the pool may take, each candidate with why not; an agency's own only."""
    return await queries.list_blocked(engine, agency_id=agency_id, offset=offset, limit=limit,
                                      within=agency_scope(principal))
