"""The assignment of cases as read: one case's decision record, scoped to who asks (R-ASG-7,
R-PRV-4), the cases no one in the pool may take, the cases given to institutions and awaiting
the person they arrange (their worklist), and the cases of an institution's handlers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.assignment.domain import AssignmentStatus, CaseAssignment
from services.assignment.projections import case_assignments, handlers
from services.assignment.queries import scope
from services.assignment.queries.aggregates import current
from shared.aggregate import DomainEvent, NotFound
from shared.auth import EVERY_AGENCY, AgencyScope, Principal, Role, agency_scope
from shared.contracts import HandlerRef
from shared.paging import Page, paginate

NO_ASSIGNMENT = "no assignment record for this case_id"


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
    rules_version: int | None = Field(default=None,
                                      description="The agency's published rules applied (R-ASG-5)")
    institution_id: str | None = Field(default=None, description="The institution the case was given to "
                                                                 "or taken back from (R-PRV-4)")
    due_at: datetime | None = Field(default=None, description="When the institution must have arranged "
                                                              "a person (R-PRV-4)")


class AssignmentView(BaseModel):
    case_id: str
    case_number: str
    agency_id: str
    status: str
    handler: HandlerRef | None
    source_system: str | None = Field(default=None,
                                      description="The notifying organ's system, if it notified the case")
    decisions: list[Decision]


class AwaitingInstitution(BaseModel):
    """A case given to an institution, awaiting the person it arranges (R-PRV-4)."""

    case_id: str
    case_number: str
    case_kind: str
    agency_id: str
    institution_id: str
    institution_name: str | None
    reason: str | None = Field(description="Why the agency gave the case to the institution")
    given_at: datetime
    due_at: datetime
    overdue: bool = Field(description="The time to arrange a person has passed (at the moment of the read)")


class InstitutionCase(BaseModel):
    """A case one of the institution's handlers handles now."""

    case_id: str
    case_number: str
    case_kind: str
    agency_id: str
    handler_id: str
    handler_name: str | None
    method: str | None
    assigned_at: datetime


class BlockedCase(BaseModel):
    case_id: str
    case_number: str
    agency_id: str
    decided_at: datetime
    candidates: list[dict[str, Any]]


def _decision(event: DomainEvent) -> Decision:
    data = event.model_dump(mode="json")
    at = next(data[k] for k in ("assigned_at", "blocked_at", "recorded_at", "released_at", "declined_at",
                                "ended_at", "given_at", "taken_back_at") if data.get(k))
    handler = data.get("handler") or {}
    return Decision(decision=type(event).__name__, at=at, method=data.get("method") or data.get("cause"),
                    handler_id=handler.get("handler_id"),
                    reason=": ".join(r for r in (data.get("reason"), data.get("explanation")) if r) or None,
                    grounds=data.get("grounds", []), proposal=data.get("proposal"),
                    named_handler=data.get("named_handler"), candidates=data.get("candidates", []),
                    rules_version=data.get("rules_version"), institution_id=data.get("institution_id"),
                    due_at=data.get("due_at"))


async def assignment(engine: AsyncEngine, case_id: str, *,
                     principal: Principal | None = None) -> AssignmentView:
    """The case's decision record: each decision with the candidates considered. A case handler
    reads the record of a case they handle; the judicial organ that notified the case reads its
    status and the assigned handler only (R-ASG-7), without the decisions. To anyone else the
    case is not found, as an unknown one is: its existence is not theirs to know."""
    async with engine.connect() as conn:
        record = await current(conn, CaseAssignment, case_id)
    case = record.case
    if not record.exists or case is None or record.status is None:
        raise NotFound(NO_ASSIGNMENT)
    view = AssignmentView(case_id=case.case_id, case_number=case.case_number, agency_id=case.agency_id,
                          status=record.status, handler=record.handler, source_system=case.source_system,
                          decisions=[_decision(d) for d in record.decisions])
    if principal is None:
        return view
    async with engine.connect() as conn:
        await scope.check_agency(conn, agency_scope(principal), case.agency_id, NO_ASSIGNMENT)
    if principal.role is Role.case_handler:
        handler = view.handler
        if principal.handler_id is None or handler is None or handler.handler_id != principal.handler_id:
            raise NotFound(NO_ASSIGNMENT)
    elif principal.role is Role.judicial_organ:
        if principal.institution_id is None or view.source_system != principal.institution_id:
            raise NotFound(NO_ASSIGNMENT)
        return view.model_copy(update={"decisions": []})
    elif principal.role is Role.institution:
        if principal.institution_id is None or not concerns_institution(record, principal.institution_id):
            raise NotFound(NO_ASSIGNMENT)
        return await _as_institution_sees_it(engine, view, principal.institution_id)
    return view


def concerns_institution(record: CaseAssignment, institution_id: str) -> bool:
    """The case awaits a person from this institution, or one of its handlers handles it now."""
    if record.status == AssignmentStatus.awaiting_institution:
        return record.institution_id == institution_id
    return record.handler is not None and record.handler.institution_id == institution_id


async def _as_institution_sees_it(engine: AsyncEngine, view: AssignmentView,
                                  institution_id: str) -> AssignmentView:
    """The record as the institution reads it: its own handlers among the candidates, and the
    decisions about it; other institutions' handlers and other institutions are not its to know."""
    async with engine.connect() as conn:
        own = set((await conn.execute(select(handlers.c.handler_id)
                                      .where(handlers.c.institution_id == institution_id))).scalars())
    decisions = []
    for d in view.decisions:
        if d.institution_id is not None and d.institution_id != institution_id:
            continue
        if d.handler_id is not None and d.handler_id not in own:
            continue
        named = d.named_handler if d.named_handler and d.named_handler.get("handler_id") in own else None
        decisions.append(d.model_copy(update={
            "candidates": [c for c in d.candidates if c.get("handler_id") in own], "named_handler": named,
            "proposal": d.proposal if d.proposal in own else None}))
    return view.model_copy(update={"decisions": decisions})


async def list_blocked(engine: AsyncEngine, *, agency_id: str | None, offset: int,
                       limit: int, within: AgencyScope = EVERY_AGENCY) -> Page[BlockedCase]:
    """Cases no one in the pool may take, each candidate with why not, oldest first; of the
    caller's agencies only."""
    query = select(case_assignments).where(case_assignments.c.status == "blocked").order_by(
        case_assignments.c.decided_at)
    if agency_id:
        query = query.where(case_assignments.c.agency_id == agency_id)
    async with engine.connect() as conn:
        query = query.where(scope.of_agencies(case_assignments.c.agency_id,
                                              await scope.agencies(conn, within)))
        return await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda row: BlockedCase.model_validate(dict(row)))


async def list_awaiting_institution(engine: AsyncEngine, *, institution_id: str | None, agency_id: str | None,
                                    overdue: bool | None, at: datetime, offset: int, limit: int,
                                    within: AgencyScope = EVERY_AGENCY) -> Page[AwaitingInstitution]:
    """Cases given to institutions and awaiting the person they arrange, the earliest due first;
    `overdue` at the moment `at` (R-PRV-4); of the caller's agencies only."""
    c = case_assignments.c
    query = select(c.case_id, c.case_number, c.case_kind, c.agency_id, c.institution_id, c.institution_name,
                   c.reason, c.decided_at.label("given_at"), c.due_at).where(
        c.status == AssignmentStatus.awaiting_institution.value).order_by(c.due_at, c.case_id)
    if institution_id is not None:
        query = query.where(c.institution_id == institution_id)
    if agency_id:
        query = query.where(c.agency_id == agency_id)
    if overdue is True:
        query = query.where(c.due_at <= at)
    elif overdue is False:
        query = query.where(c.due_at > at)
    async with engine.connect() as conn:
        query = query.where(scope.of_agencies(c.agency_id, await scope.agencies(conn, within)))
        return await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda row: AwaitingInstitution.model_validate(
                                  dict(row) | {"overdue": row["due_at"] <= at}))


async def list_institution_cases(engine: AsyncEngine, *, institution_id: str, offset: int, limit: int,
                                 within: AgencyScope = EVERY_AGENCY) -> Page[InstitutionCase]:
    """The cases the institution's handlers handle now, the latest assigned first; of the
    caller's agencies only."""
    c = case_assignments.c
    query = (select(c.case_id, c.case_number, c.case_kind, c.agency_id, c.handler_id, c.handler_name,
                    c.method, c.decided_at.label("assigned_at"))
             .where(c.status == AssignmentStatus.assigned.value, c.institution_id == institution_id)
             .order_by(c.decided_at.desc(), c.case_id))
    async with engine.connect() as conn:
        query = query.where(scope.of_agencies(c.agency_id, await scope.agencies(conn, within)))
        return await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda row: InstitutionCase.model_validate(dict(row)))
