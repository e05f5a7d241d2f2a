"""Assignment's REST API: the provider registry (/api/v1/institutions, /api/v1/handlers) and the
assignment of cases (/api/v1/cases/{id}/assignment, /api/v1/assignments/blocked)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import func, select

from services.assignment import handlers
from services.assignment.domain import (
    MIN_REASON_LENGTH,
    InstitutionKind,
    InvalidField,
    Qualification,
    Recruitment,
    RecruitmentMethod,
)
from services.assignment.handlers import now
from services.assignment.projections import case_assignments, handler_state, institutions
from services.assignment.projections import handlers as handler_rows
from shared.aggregate import NotFound
from shared.auth import Principal, Role, allow
from shared.contracts import CaseKind, HandlerKind, HandlerRef
from shared.deps import EngineDep, UowFactoryDep

registry = APIRouter(prefix="/api/v1", tags=["registry"])
assignments = APIRouter(prefix="/api/v1", tags=["assignments"])

T = TypeVar("T")

Id = Annotated[str, Path(max_length=64)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=200)]
AgencyFilter = Annotated[str | None, Query(max_length=64)]

# Who reads the provider pool: the agency that manages it, the bureau that suspends handlers
# from it (R-SAN-2) and the auditor. The public reads the published part in publication.
REGISTRY_READERS = (Role.agency_staff, Role.bureau_investigator, Role.auditor)


@contextmanager
def reported_as_field_error() -> Iterator[None]:
    """The registry's field-level refusals answer like any other invalid field."""
    try:
        yield
    except InvalidField as exc:
        raise RequestValidationError([{"loc": ("body", exc.field), "msg": exc.message, "type": "value_error"}]) from exc


# --- requests and views ---------------------------------------------------------------------


class RecruitInstitution(BaseModel):
    """招募: an institution joins the pool of the legal-aid agency it serves (R-PRV-1)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    kind: InstitutionKind
    agency_id: str = Field(min_length=1, max_length=64)
    district: str = Field(min_length=1, max_length=50)
    recruitment: Recruitment | None = Field(default=None, description="R-PRV-1: how, when and by whom recruited, "
                                                                      "and when the results were published")


class WithdrawCommitment(BaseModel):
    """The institution withdraws its quality commitment (R-PRV-3): no case from that day on."""

    model_config = ConfigDict(extra="forbid")

    withdrawn_on: date
    reason: str = Field(min_length=2, max_length=500)


class SignCommitment(BaseModel):
    """案件质量承诺书 (R-PRV-3)."""

    model_config = ConfigDict(extra="forbid")

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
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    kind: HandlerKind
    licence_number: str | None = Field(default=None, min_length=1, max_length=40)
    institution_id: str = Field(min_length=1, max_length=64)
    years_of_practice: int = Field(ge=0, le=70)
    practice_areas: list[CaseKind] = Field(default_factory=list, max_length=4,
                                           description="Kinds of case taken; empty: every kind")
    qualifications: list[Qualification] = Field(default_factory=list, max_length=10,
                                                description="Special-case qualifications (R-ASG-8), e.g. minors")


class RecordUnavailability(BaseModel):
    """Days the handler cannot take a case (leave, illness, a long trial elsewhere)."""

    model_config = ConfigDict(extra="forbid")

    unavailable_from: date
    unavailable_to: date

    @field_validator("unavailable_to")
    @classmethod
    def _not_before_start(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("unavailable_from")
        if start is not None and value < start:
            raise ValueError("must not be before unavailable_from")
        return value


class ChooseHandler(BaseModel):
    """R-ASG-3: the agency's choice for a major, group or superior-assigned case, and why."""

    model_config = ConfigDict(extra="forbid")

    handler_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=MIN_REASON_LENGTH, max_length=1000)


class InstitutionView(BaseModel):
    institution_id: str
    name: str
    kind: InstitutionKind
    agency_id: str
    district: str
    recruited_at: datetime
    commitment_signed_on: date | None
    commitment_valid_until: date | None
    recruitment_method: RecruitmentMethod | None = None
    recruited_on: date | None = None
    recruiting_agency: str | None = None
    results_published_on: date | None = None


class HandlerView(BaseModel):
    handler_id: str
    name: str
    kind: HandlerKind
    licence_number: str | None
    institution_id: str
    agency_id: str
    years_of_practice: int
    status: str
    registered_at: datetime
    last_assigned_at: datetime | None
    practice_areas: list[CaseKind] = []
    qualifications: list[Qualification] = []
    suspended: bool = Field(default=False, description="A suspension is in force today (R-ASG-6)")
    cases_this_month: int = Field(default=0, description="Non-group cases received this month (R-ASG-4)")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


class Decision(BaseModel):
    """One entry of a case's decision record."""

    decision: str
    at: datetime
    method: str | None = None
    handler_id: str | None = None
    reason: str | None = None
    grounds: list[str] = []
    proposal: str | None = None
    named_handler: dict[str, Any] | None = None
    candidates: list[dict[str, Any]]
    rules_version: int | None = Field(default=None, description="The agency's published rules applied (R-ASG-5)")


class AssignmentView(BaseModel):
    case_id: str
    case_number: str
    agency_id: str
    status: str
    handler: HandlerRef | None
    source_system: str | None = Field(default=None, description="The notifying organ's system, if it notified the case")
    decisions: list[Decision]


class BlockedCase(BaseModel):
    case_id: str
    case_number: str
    agency_id: str
    decided_at: datetime
    candidates: list[dict[str, Any]]


def _decision(event: Any) -> Decision:
    data = event.model_dump(mode="json")
    at = next(data[k] for k in ("assigned_at", "blocked_at", "recorded_at", "released_at", "ended_at") if data.get(k))
    handler = data.get("handler") or {}
    return Decision(decision=type(event).__name__, at=at, method=data.get("method") or data.get("cause"),
                    handler_id=handler.get("handler_id"), reason=data.get("reason"),
                    grounds=data.get("grounds", []), proposal=data.get("proposal"),
                    named_handler=data.get("named_handler"), candidates=data.get("candidates", []),
                    rules_version=data.get("rules_version"))


async def _one(engine, table, key, value: str, view: type[BaseModel], what: str) -> Any:
    async with engine.connect() as conn:
        row = (await conn.execute(select(table).where(key == value))).mappings().first()
    if row is None:
        raise NotFound(f"no {what} with this {key.name}")
    return view.model_validate(dict(row))


async def _page(engine, table, order, where: list, view: type[BaseModel], offset: int, limit: int) -> dict:
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        rows = (await conn.execute(select(table).where(*where).order_by(order).offset(offset).limit(limit))).mappings()
        items = [view.model_validate(dict(r)) for r in rows]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


# --- institutions ---------------------------------------------------------------------------


@registry.post("/institutions", status_code=status.HTTP_201_CREATED, response_model=InstitutionView,
               dependencies=[allow(Role.agency_staff)])
async def recruit_institution(*, body: RecruitInstitution, uow: UowFactoryDep, engine: EngineDep,
                              response: Response) -> InstitutionView:
    """Recruit an institution into an agency's pool."""
    institution = await handlers.recruit_institution(uow, name=body.name, kind=body.kind, agency_id=body.agency_id,
                                                     district=body.district, recruitment=body.recruitment)
    response.headers["Location"] = f"/api/v1/institutions/{institution.id}"
    return await _one(engine, institutions, institutions.c.institution_id, institution.id, InstitutionView,
                      "institution")


@registry.post("/institutions/{institution_id}/commitment", response_model=InstitutionView,
               dependencies=[allow(Role.agency_staff)])
async def sign_commitment(*, institution_id: Id, body: SignCommitment, uow: UowFactoryDep,
                          engine: EngineDep) -> InstitutionView:
    """Record the institution's signed quality commitment letter."""
    with reported_as_field_error():
        await handlers.sign_commitment(uow, institution_id, **body.model_dump())
    return await _one(engine, institutions, institutions.c.institution_id, institution_id, InstitutionView,
                      "institution")


@registry.post("/institutions/{institution_id}/commitment/withdrawal", response_model=InstitutionView,
               dependencies=[allow(Role.agency_staff)])
async def withdraw_commitment(*, institution_id: Id, body: WithdrawCommitment, uow: UowFactoryDep,
                              engine: EngineDep) -> InstitutionView:
    """Record that the institution withdrew its quality commitment: from that day its handlers
    receive no case (R-PRV-3)."""
    with reported_as_field_error():
        await handlers.withdraw_commitment(uow, institution_id, **body.model_dump())
    return await _one(engine, institutions, institutions.c.institution_id, institution_id, InstitutionView,
                      "institution")


@registry.get("/institutions", response_model=Page[InstitutionView], dependencies=[allow(*REGISTRY_READERS)])
async def list_institutions(*, engine: EngineDep, agency_id: AgencyFilter = None, offset: Offset = 0,
                            limit: Limit = 50) -> dict:
    """List institutions in recruitment order."""
    where = [institutions.c.agency_id == agency_id] if agency_id else []
    return await _page(engine, institutions, institutions.c.recruited_at, where, InstitutionView, offset, limit)


@registry.get("/institutions/{institution_id}", response_model=InstitutionView,
              dependencies=[allow(*REGISTRY_READERS)])
async def get_institution(*, institution_id: Id, engine: EngineDep) -> InstitutionView:
    """One institution and its commitment."""
    return await _one(engine, institutions, institutions.c.institution_id, institution_id, InstitutionView,
                      "institution")


# --- handlers -------------------------------------------------------------------------------


@registry.post("/handlers", status_code=status.HTTP_201_CREATED, response_model=HandlerView,
               dependencies=[allow(Role.agency_staff)])
async def register_handler(*, body: RegisterHandler, uow: UowFactoryDep, engine: EngineDep,
                           response: Response) -> HandlerView:
    """Register a handler of an institution."""
    with reported_as_field_error():
        handler = await handlers.register_handler(uow, **body.model_dump())
    response.headers["Location"] = f"/api/v1/handlers/{handler.id}"
    return await _handler(engine, handler.id)


@registry.post("/handlers/{handler_id}/unavailability", response_model=HandlerView,
               dependencies=[allow(Role.agency_staff)])
async def record_unavailability(*, handler_id: Id, body: RecordUnavailability, uow: UowFactoryDep,
                                engine: EngineDep) -> HandlerView:
    """Record days on which the handler cannot take a case; the rotation passes them over then."""
    with reported_as_field_error():
        await handlers.record_unavailability(uow, handler_id, **body.model_dump())
    return await _handler(engine, handler_id)


@registry.post("/handlers/{handler_id}/commitment", response_model=HandlerView,
               dependencies=[allow(Role.agency_staff)])
async def sign_volunteer_commitment(*, handler_id: Id, body: SignCommitment, uow: UowFactoryDep,
                                    engine: EngineDep) -> HandlerView:
    """Record a volunteer's own signed quality commitment letter (R-PRV-3: "an institution, or
    a volunteer"); lawyers and legal workers are covered by their institution's."""
    with reported_as_field_error():
        await handlers.sign_volunteer_commitment(uow, handler_id, **body.model_dump())
    return await _handler(engine, handler_id)


class VolunteerEntry(BaseModel):
    """One line of the published list of volunteers (R-PRV-2): public facts only."""

    name: str
    institution_name: str
    agency_id: str
    registered_at: datetime


@registry.get("/volunteers", response_model=Page[VolunteerEntry], dependencies=[allow(*REGISTRY_READERS)])
async def list_volunteers(*, engine: EngineDep, agency_id: AgencyFilter = None, offset: Offset = 0,
                          limit: Limit = 50) -> dict:
    """The list of legal-aid volunteers, as the agency publishes it (R-PRV-2)."""
    where = [handler_rows.c.kind == "volunteer"] + ([handler_rows.c.agency_id == agency_id] if agency_id else [])
    query = (select(handler_rows.c.name, institutions.c.name.label("institution_name"), handler_rows.c.agency_id,
                    handler_rows.c.registered_at)
             .join(institutions, institutions.c.institution_id == handler_rows.c.institution_id).where(*where))
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(handler_rows).where(*where))).scalar_one()
        rows = (await conn.execute(query.order_by(handler_rows.c.registered_order).offset(offset).limit(limit)))
        items = [VolunteerEntry.model_validate(dict(r)) for r in rows.mappings()]
    return {"items": items, "total": total, "offset": offset, "limit": limit}


@registry.get("/handlers", response_model=Page[HandlerView], dependencies=[allow(*REGISTRY_READERS)])
async def list_handlers(*, engine: EngineDep, agency_id: AgencyFilter = None, offset: Offset = 0,
                        limit: Limit = 50) -> dict:
    """List handlers in registration order, each with whether suspended and their cases this month."""
    where = [handler_rows.c.agency_id == agency_id] if agency_id else []
    page = await _page(engine, handler_rows, handler_rows.c.registered_order, where, HandlerView, offset, limit)
    async with engine.connect() as conn:
        states = await handler_state(conn, [h.handler_id for h in page["items"]], now())
    page["items"] = [h.model_copy(update=states.get(h.handler_id, {})) for h in page["items"]]
    return page


async def _handler(engine, handler_id: str) -> HandlerView:
    view = await _one(engine, handler_rows, handler_rows.c.handler_id, handler_id, HandlerView, "handler")
    async with engine.connect() as conn:
        states = await handler_state(conn, [handler_id], now())
    return view.model_copy(update=states.get(handler_id, {}))


@registry.get("/handlers/{handler_id}", response_model=HandlerView)
async def get_handler(*, handler_id: Id, engine: EngineDep,
                      principal: Annotated[Principal, allow(*REGISTRY_READERS, Role.case_handler)]) -> HandlerView:
    """One handler: registry facts, whether suspended today, and their cases this month. A
    handler reads only their own record."""
    if principal.role is Role.case_handler and handler_id != principal.handler_id:
        raise NotFound("no handler with this handler_id")  # the same answer as for an unknown id
    return await _handler(engine, handler_id)


# --- assignments ----------------------------------------------------------------------------


async def _assignment_view(uow_factory, case_id: str) -> AssignmentView:
    async with uow_factory() as uow:
        assignment = await handlers.load_assignment(uow, case_id)
    case = assignment.case
    return AssignmentView(case_id=case.case_id, case_number=case.case_number, agency_id=case.agency_id,
                          status=assignment.status, handler=assignment.handler, source_system=case.source_system,
                          decisions=[_decision(d) for d in assignment.decisions])


# Unscoped roles first: a caller who is also a handler or an organ reads with the wider view.
ASSIGNMENT_READERS = (Role.agency_staff, Role.bureau_investigator, Role.auditor, Role.case_handler,
                      Role.judicial_organ)


@assignments.get("/cases/{case_id}/assignment", response_model=AssignmentView)
async def get_assignment(*, case_id: Id, uow: UowFactoryDep,
                         principal: Annotated[Principal, allow(*ASSIGNMENT_READERS)]) -> AssignmentView:
    """The case's decision record: each decision with the candidates considered. A handler reads
    the record of a case they handle; the judicial organ that notified the case reads its status
    and the assigned handler only (R-ASG-7), without the decisions."""
    view = await _assignment_view(uow, case_id)
    if principal.role is Role.case_handler:
        if principal.handler_id is None or view.handler is None or view.handler.handler_id != principal.handler_id:
            raise NotFound(handlers.NO_ASSIGNMENT)  # as for an unknown case: its existence is not theirs to know
    elif principal.role is Role.judicial_organ:
        if principal.institution_id is None or view.source_system != principal.institution_id:
            raise NotFound(handlers.NO_ASSIGNMENT)
        return view.model_copy(update={"decisions": []})
    return view


@assignments.post("/cases/{case_id}/assignment", response_model=AssignmentView,
                  dependencies=[allow(Role.agency_staff)])
async def choose_handler(*, case_id: Id, body: ChooseHandler, uow: UowFactoryDep) -> AssignmentView:
    """Assign the agency's chosen handler to a case awaiting its choice."""
    with reported_as_field_error():
        await handlers.choose_handler(uow, case_id, handler_id=body.handler_id, reason=body.reason)
    return await _assignment_view(uow, case_id)


@assignments.get("/assignments/blocked", response_model=Page[BlockedCase],
                 dependencies=[allow(Role.agency_staff, Role.auditor)])
async def list_blocked(*, engine: EngineDep, agency_id: AgencyFilter = None, offset: Offset = 0,
                       limit: Limit = 50) -> dict:
    """Cases no one in the pool may take, each candidate with why not."""
    where = [case_assignments.c.status == "blocked"]
    if agency_id:
        where.append(case_assignments.c.agency_id == agency_id)
    return await _page(engine, case_assignments, case_assignments.c.decided_at, where, BlockedCase, offset, limit)
