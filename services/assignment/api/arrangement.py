"""Cases given to an institution (R-ASG-3, R-PRV-4): the agency gives a case awaiting its choice
to an institution of its pool, the institution arranges one of its handlers by the same rules
as the rotation, and the agency takes back a case no one was arranged for; the institution's
worklist (with the due time) and its handlers' cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from services.assignment import handlers, queries
from services.assignment.api.common import AgencyFilter, Id, reported_as_field_error
from services.assignment.domain import MIN_REASON_LENGTH
from services.assignment.queries import AssignmentView, AwaitingInstitution, InstitutionCase
from shared.auth import Principal, Role, agency_scope, allow
from shared.deps import ClockDep, EngineDep, UowFactoryDep
from shared.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1", tags=["assignments"])

# Unscoped roles first: a caller who is also an institution reads with the wider view.
WORKLIST_READERS = (Role.agency_staff, Role.auditor, Role.institution)
InstitutionFilter = Annotated[str | None, Query(max_length=64, description="Only this institution's (an "
                                                "institution's own token always reads only its own)")]


class GiveToInstitution(BaseModel):
    """R-ASG-3: the agency gives a case awaiting its choice to an institution instead of a person."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "institution_id": "0b5d2f0e-9c4b-4c55-a3f1-7d0c6e2f8a11",
        "reason": "重大敏感案件，交由该所安排办理过同类案件的律师"}]})

    institution_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=MIN_REASON_LENGTH, max_length=1000)


class ArrangeHandler(BaseModel):
    """R-PRV-4: the institution's choice among its handlers, and why."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "handler_id": "a4f7314c-3d27-4624-8941-28c7e2dd5fcd", "reason": "该律师办理过多起同类刑事案件"}]})

    handler_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=MIN_REASON_LENGTH, max_length=1000)


class TakeBack(BaseModel):
    """The agency takes back a case its institution arranged no one for."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "reason": "律所逾期未安排承办人员，改为轮流指派"}]})

    reason: str = Field(min_length=MIN_REASON_LENGTH, max_length=1000)


@router.post("/cases/{case_id}/assignment/institution", response_model=AssignmentView)
async def give_to_institution(*, case_id: Id, body: GiveToInstitution, uow: UowFactoryDep, engine: EngineDep,
                              principal: Annotated[Principal, allow(Role.agency_staff)]) -> AssignmentView:
    """Give a case awaiting the agency's choice to an institution of its pool with a commitment in
    force; it must arrange a person by the `due_at` recorded
    (FAYUAN_INSTITUTION_ARRANGEMENT_HOURS). A case of another agency is not found."""
    with reported_as_field_error():
        await handlers.give_to_institution(uow, case_id, institution_id=body.institution_id,
                                           reason=body.reason, within=agency_scope(principal))
    return await queries.assignment(engine, case_id)


@router.post("/cases/{case_id}/assignment/institution/withdrawal", response_model=AssignmentView)
async def take_back_from_institution(*, case_id: Id, body: TakeBack, uow: UowFactoryDep, engine: EngineDep,
                                     principal: Annotated[Principal, allow(Role.agency_staff)]
                                     ) -> AssignmentView:
    """Take back a case the institution has arranged no one for (typically once overdue): the
    rotation over the agency's pool assigns it by the same rules, or it is blocked. A case of
    another agency is not found."""
    with reported_as_field_error():
        await handlers.take_back_from_institution(uow, case_id, reason=body.reason,
                                                  within=agency_scope(principal))
    return await queries.assignment(engine, case_id)


@router.post("/cases/{case_id}/assignment/arrangement", response_model=AssignmentView)
async def arrange_handler(*, case_id: Id, body: ArrangeHandler, uow: UowFactoryDep, engine: EngineDep,
                          principal: Annotated[Principal, allow(Role.institution)]) -> AssignmentView:
    """The institution given the case arranges one of its handlers; a refusal names the rule
    (commitment, cap, suspension, qualification, availability, conflicts). A case not given to
    the token's institution is not found."""
    with reported_as_field_error():
        await handlers.arrange_handler(uow, case_id, institution_id=principal.institution_id,
                                       handler_id=body.handler_id, reason=body.reason)
    return await queries.assignment(engine, case_id, principal=principal)


@router.get("/assignments/awaiting-institution", response_model=Page[AwaitingInstitution])
async def list_awaiting_institution(*, engine: EngineDep, clock: ClockDep,
                                    principal: Annotated[Principal, allow(*WORKLIST_READERS)],
                                    institution_id: InstitutionFilter = None, agency_id: AgencyFilter = None,
                                    overdue: bool | None = None, offset: Offset = 0,
                                    limit: Limit = 50) -> Page[AwaitingInstitution]:
    """Cases given to institutions and awaiting the person they arrange, the earliest due first,
    each with its due time and whether overdue now: an institution's worklist, and the agency's
    view of what its institutions owe it (`?overdue=true`): of its own cases only, whatever the
    query says."""
    if principal.role is Role.institution:
        institution_id = principal.institution_id or ""
    return await queries.list_awaiting_institution(engine, institution_id=institution_id, agency_id=agency_id,
                                                   overdue=overdue, at=clock(), offset=offset, limit=limit,
                                                   within=agency_scope(principal))


@router.get("/assignments/institution-cases", response_model=Page[InstitutionCase])
async def list_institution_cases(*, engine: EngineDep,
                                 principal: Annotated[Principal, allow(*WORKLIST_READERS)],
                                 institution_id: InstitutionFilter = None, offset: Offset = 0,
                                 limit: Limit = 50) -> Page[InstitutionCase]:
    """The cases an institution's handlers handle now (an institution: its own; the agency and the
    auditor name the institution; agency staff read their own agency's cases only)."""
    if principal.role is Role.institution:
        institution_id = principal.institution_id or ""
    elif institution_id is None:
        raise RequestValidationError([{"loc": ("query", "institution_id"), "msg": "name the institution",
                                       "type": "missing"}])
    return await queries.list_institution_cases(engine, institution_id=institution_id, offset=offset,
                                                limit=limit, within=agency_scope(principal))
