"""The assignment of cases as read: one case's decision record, scoped to who asks (R-ASG-7), and
the cases no one in the pool may take."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.assignment.domain import CaseAssignment
from services.assignment.projections import case_assignments
from services.assignment.queries.aggregates import current
from shared.aggregate import DomainEvent, NotFound
from shared.auth import Principal, Role
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


class AssignmentView(BaseModel):
    case_id: str
    case_number: str
    agency_id: str
    status: str
    handler: HandlerRef | None
    source_system: str | None = Field(default=None,
                                      description="The notifying organ's system, if it notified the case")
    decisions: list[Decision]


class BlockedCase(BaseModel):
    case_id: str
    case_number: str
    agency_id: str
    decided_at: datetime
    candidates: list[dict[str, Any]]


def _decision(event: DomainEvent) -> Decision:
    data = event.model_dump(mode="json")
    at = next(data[k] for k in ("assigned_at", "blocked_at", "recorded_at", "released_at", "declined_at",
                                "ended_at") if data.get(k))
    handler = data.get("handler") or {}
    return Decision(decision=type(event).__name__, at=at, method=data.get("method") or data.get("cause"),
                    handler_id=handler.get("handler_id"),
                    reason=": ".join(r for r in (data.get("reason"), data.get("explanation")) if r) or None,
                    grounds=data.get("grounds", []), proposal=data.get("proposal"),
                    named_handler=data.get("named_handler"), candidates=data.get("candidates", []),
                    rules_version=data.get("rules_version"))


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
    if principal.role is Role.case_handler:
        handler = view.handler
        if principal.handler_id is None or handler is None or handler.handler_id != principal.handler_id:
            raise NotFound(NO_ASSIGNMENT)
    elif principal.role is Role.judicial_organ:
        if principal.institution_id is None or view.source_system != principal.institution_id:
            raise NotFound(NO_ASSIGNMENT)
        return view.model_copy(update={"decisions": []})
    return view


async def list_blocked(engine: AsyncEngine, *, agency_id: str | None, offset: int,
                       limit: int) -> Page[BlockedCase]:
    """Cases no one in the pool may take, each candidate with why not, oldest first."""
    query = select(case_assignments).where(case_assignments.c.status == "blocked").order_by(
        case_assignments.c.decided_at)
    if agency_id:
        query = query.where(case_assignments.c.agency_id == agency_id)
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda row: BlockedCase.model_validate(dict(row)))
