"""The provider registry (/api/v1/institutions, /api/v1/handlers, /api/v1/volunteers):
institutions recruited into an agency's pool and their commitments, handlers and what
eligibility reads of them, and the published list of volunteers."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.assignment import handlers, queries
from services.assignment.api.common import AgencyFilter, Id, reported_as_field_error
from services.assignment.domain import InstitutionKind, Qualification, Recruitment
from services.assignment.queries import HandlerView, InstitutionView, VolunteerEntry
from shared.aggregate import Forbidden
from shared.auth import Principal, Role, agency_scope, allow
from shared.contracts import CaseKind, HandlerKind
from shared.deps import ClockDep, EngineDep, UowFactoryDep
from shared.paging import Limit, Offset, Page
from shared.validation import OneLine

router = APIRouter(prefix="/api/v1", tags=["registry"])

# Who reads the provider pool: the agency that manages it, the bureau that suspends handlers
# from it (R-SAN-2) and the auditor. The public reads the published part in publication.
REGISTRY_READERS = (Role.agency_staff, Role.bureau_investigator, Role.auditor)


class NotYourAgency(Forbidden):
    """Who the caller is, not a rule of the pool: an agency recruits into its own pool only."""


# --- requests -------------------------------------------------------------------------------


class RecruitInstitution(BaseModel):
    """招募: an institution joins the pool of the legal-aid agency it serves (R-PRV-1)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "北京市明法律师事务所", "kind": "law_firm", "agency_id": "chaoyang-centre",
         "district": "朝阳区",
         "recruitment": {"method": "public_call", "recruited_on": "2026-01-15",
                         "recruiting_agency": "北京市朝阳区法律援助中心",
                         "results_published_on": "2026-01-30"}},
    ]})

    name: OneLine = Field(min_length=1, max_length=100)
    kind: InstitutionKind
    agency_id: str = Field(min_length=1, max_length=64)
    district: str = Field(min_length=1, max_length=50)
    recruitment: Recruitment | None = Field(default=None, description="R-PRV-1: how, when and by whom "
                                                                      "recruited, and when the results were "
                                                                      "published")


class WithdrawCommitment(BaseModel):
    """The institution withdraws its quality commitment (R-PRV-3): no case from that day on."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"withdrawn_on": "2026-06-30", "reason": "律师事务所因人员调整，书面申请退出法律援助服务"},
    ]})

    withdrawn_on: date
    reason: str = Field(min_length=2, max_length=500)


class SignCommitment(BaseModel):
    """案件质量承诺书 (R-PRV-3)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"signed_on": "2026-02-01", "valid_until": "2027-01-31"},
    ]})

    signed_on: date
    valid_until: date

    @field_validator("valid_until")
    @classmethod
    def _after_signing(cls, value: date, info: ValidationInfo) -> date:
        signed_on = info.data.get("signed_on")
        if signed_on is not None and value < signed_on:
            raise ValueError("must not be before signed_on")
        return value


class RegisterHandler(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "王律师", "kind": "lawyer", "licence_number": "11101201511098765",
         "institution_id": "daaa3e0a-e345-45ad-a66e-d4095252ffa5", "years_of_practice": 11,
         "practice_areas": ["criminal", "civil"], "qualifications": ["minors"]},
    ]})

    name: OneLine = Field(min_length=1, max_length=100)
    kind: HandlerKind
    licence_number: str | None = Field(default=None, min_length=1, max_length=40)
    institution_id: str = Field(min_length=1, max_length=64)
    years_of_practice: int = Field(ge=0, le=70)
    practice_areas: list[CaseKind] = Field(default_factory=list, max_length=4,
                                           description="Kinds of case taken; empty: every kind")
    qualifications: list[Qualification] = Field(
        default_factory=list, max_length=10, description="Special-case qualifications (R-ASG-8), e.g. minors")


class RecordUnavailability(BaseModel):
    """Days the handler cannot take a case (leave, illness, a long trial elsewhere)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"unavailable_from": "2026-07-06", "unavailable_to": "2026-07-17"},
    ]})

    unavailable_from: date
    unavailable_to: date

    @field_validator("unavailable_to")
    @classmethod
    def _not_before_start(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("unavailable_from")
        if start is not None and value < start:
            raise ValueError("must not be before unavailable_from")
        return value


# --- institutions ---------------------------------------------------------------------------


@router.post("/institutions", status_code=status.HTTP_201_CREATED, response_model=InstitutionView,
             responses={403: {"description": "Staff recruiting into another agency's pool"}})
async def recruit_institution(*, body: RecruitInstitution, uow: UowFactoryDep, engine: EngineDep,
                              response: Response,
                              principal: Annotated[Principal, allow(Role.agency_staff)]) -> InstitutionView:
    """Recruit an institution into an agency's pool."""
    if not agency_scope(principal).admits(body.agency_id, body.district):
        raise NotYourAgency("agency_id: an agency recruits into its own pool (the agency_id of its token)")
    institution = await handlers.recruit_institution(uow, name=body.name, kind=body.kind,
                                                     agency_id=body.agency_id, district=body.district,
                                                     recruitment=body.recruitment)
    response.headers["Location"] = f"/api/v1/institutions/{institution.id}"
    return await queries.institution(engine, institution.id)


@router.post("/institutions/{institution_id}/commitment", response_model=InstitutionView)
async def sign_commitment(*, institution_id: Id, body: SignCommitment, uow: UowFactoryDep, engine: EngineDep,
                          principal: Annotated[Principal, allow(Role.agency_staff)]) -> InstitutionView:
    """Record the institution's signed quality commitment letter."""
    with reported_as_field_error():
        await handlers.sign_commitment(uow, institution_id, **body.model_dump(),
                                       within=agency_scope(principal))
    return await queries.institution(engine, institution_id)


@router.post("/institutions/{institution_id}/commitment/withdrawal", response_model=InstitutionView)
async def withdraw_commitment(*, institution_id: Id, body: WithdrawCommitment, uow: UowFactoryDep,
                              engine: EngineDep,
                              principal: Annotated[Principal, allow(Role.agency_staff)]) -> InstitutionView:
    """Record that the institution withdrew its quality commitment: from that day its handlers
    receive no case (R-PRV-3)."""
    with reported_as_field_error():
        await handlers.withdraw_commitment(uow, institution_id, **body.model_dump(),
                                           within=agency_scope(principal))
    return await queries.institution(engine, institution_id)


@router.get("/institutions", response_model=Page[InstitutionView])
async def list_institutions(*, engine: EngineDep, principal: Annotated[Principal, allow(*REGISTRY_READERS)],
                            agency_id: AgencyFilter = None, offset: Offset = 0,
                            limit: Limit = 50) -> Page[InstitutionView]:
    """List institutions in recruitment order."""
    return await queries.list_institutions(engine, agency_id=agency_id, offset=offset, limit=limit,
                                           within=agency_scope(principal))


@router.get("/institutions/{institution_id}", response_model=InstitutionView)
async def get_institution(*, institution_id: Id, engine: EngineDep,
                          principal: Annotated[Principal, allow(*REGISTRY_READERS)]) -> InstitutionView:
    """One institution and its commitment."""
    return await queries.institution(engine, institution_id, agency_scope(principal))


# --- handlers -------------------------------------------------------------------------------


@router.post("/handlers", status_code=status.HTTP_201_CREATED, response_model=HandlerView)
async def register_handler(*, body: RegisterHandler, uow: UowFactoryDep, engine: EngineDep, clock: ClockDep,
                           response: Response,
                           principal: Annotated[Principal, allow(Role.agency_staff)]) -> HandlerView:
    """Register a handler of an institution."""
    with reported_as_field_error():
        handler = await handlers.register_handler(uow, **body.model_dump(), within=agency_scope(principal))
    response.headers["Location"] = f"/api/v1/handlers/{handler.id}"
    return await queries.handler(engine, handler.id, at=clock())


@router.post("/handlers/{handler_id}/unavailability", response_model=HandlerView)
async def record_unavailability(*, handler_id: Id, body: RecordUnavailability, uow: UowFactoryDep,
                                engine: EngineDep, clock: ClockDep,
                                principal: Annotated[Principal, allow(Role.agency_staff)]) -> HandlerView:
    """Record days on which the handler cannot take a case; the rotation passes them over then."""
    with reported_as_field_error():
        await handlers.record_unavailability(uow, handler_id, **body.model_dump(),
                                             within=agency_scope(principal))
    return await queries.handler(engine, handler_id, at=clock())


@router.post("/handlers/{handler_id}/commitment", response_model=HandlerView)
async def sign_volunteer_commitment(*, handler_id: Id, body: SignCommitment, uow: UowFactoryDep,
                                    engine: EngineDep, clock: ClockDep,
                                    principal: Annotated[Principal, allow(Role.agency_staff)]) -> HandlerView:
    """Record a volunteer's own signed quality commitment letter (R-PRV-3: "an institution, or
    a volunteer"); lawyers and legal workers are covered by their institution's."""
    with reported_as_field_error():
        await handlers.sign_volunteer_commitment(uow, handler_id, **body.model_dump(),
                                                 within=agency_scope(principal))
    return await queries.handler(engine, handler_id, at=clock())


@router.get("/volunteers", response_model=Page[VolunteerEntry])
async def list_volunteers(*, engine: EngineDep, principal: Annotated[Principal, allow(*REGISTRY_READERS)],
                          agency_id: AgencyFilter = None, offset: Offset = 0,
                          limit: Limit = 50) -> Page[VolunteerEntry]:
    """The list of legal-aid volunteers, as the agency publishes it (R-PRV-2)."""
    return await queries.list_volunteers(engine, agency_id=agency_id, offset=offset, limit=limit,
                                         within=agency_scope(principal))


@router.get("/handlers", response_model=Page[HandlerView])
async def list_handlers(*, engine: EngineDep, clock: ClockDep,
                        principal: Annotated[Principal, allow(*REGISTRY_READERS)],
                        agency_id: AgencyFilter = None, offset: Offset = 0,
                        limit: Limit = 50) -> Page[HandlerView]:
    """List handlers in registration order, each with whether suspended and their cases this month."""
    return await queries.list_handlers(engine, agency_id=agency_id, offset=offset, limit=limit, at=clock(),
                                       within=agency_scope(principal))


@router.get("/handlers/{handler_id}", response_model=HandlerView)
async def get_handler(
    *, handler_id: Id, engine: EngineDep, clock: ClockDep,
    principal: Annotated[Principal, allow(*REGISTRY_READERS, Role.case_handler)],
) -> HandlerView:
    """One handler: registry facts, whether suspended today, and their cases this month. A
    handler reads only their own record."""
    return await queries.handler(engine, handler_id, at=clock(), principal=principal)
