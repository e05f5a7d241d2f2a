"""The bureau's decisions to stop assigning cases to a handler (/api/v1/suspensions): R-SAN-2,
R-ASG-6. Assignment hears of each decision and applies it from its next assignment on."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from services.sanctions import handlers
from services.sanctions.domain import SuspensionStatus
from services.sanctions.projections import suspensions
from shared.aggregate import NotFound
from shared.auth import Role, allow
from shared.deps import EngineDep, UowFactoryDep

router = APIRouter(prefix="/api/v1/suspensions", tags=["suspensions"])

SuspensionId = Annotated[str, Path(description="The suspension's id", max_length=64)]

# R-SAN-2: the agency decides a suspension, the bureau too (after its investigation); both and
# the auditor read them. A handler is told by their agency, not through this API.
DECIDERS = (Role.agency_staff, Role.bureau_investigator)


class Suspend(BaseModel):
    """停止指派: the agency stops assigning cases to a handler (R-SAN-2)."""

    model_config = ConfigDict(extra="forbid")

    handler_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=5, max_length=1000, description="Why, in the bureau's words (no personal data)")
    until: date | None = Field(default=None, description="Last day of the suspension; none: until reinstated")
    investigation_id: str | None = Field(default=None, min_length=1, max_length=64,
                                         description="The investigation of the failed case behind the decision")
    agency_id: str | None = Field(default=None, min_length=1, max_length=64)


class Reinstate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=5, max_length=1000)


class SuspensionView(BaseModel):
    suspension_id: str
    handler_id: str
    agency_id: str | None
    investigation_id: str | None
    reason: str
    until: date | None
    status: SuspensionStatus
    decided_at: datetime
    reinstated_at: datetime | None
    reinstatement_reason: str | None


class SuspensionPage(BaseModel):
    items: list[SuspensionView]
    total: int
    offset: int
    limit: int


async def _view(engine, suspension_id: str) -> SuspensionView:
    async with engine.connect() as conn:
        row = (await conn.execute(select(suspensions).where(suspensions.c.suspension_id == suspension_id))
               ).mappings().first()
    if row is None:
        raise NotFound("no suspension with this suspension_id")
    return SuspensionView.model_validate(dict(row))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SuspensionView,
             summary="Stop assigning cases to a handler", dependencies=[allow(*DECIDERS)])
async def suspend(*, body: Suspend, uow: UowFactoryDep, engine: EngineDep, response: Response) -> SuspensionView:
    """The bureau's decision to stop assigning cases to a handler, typically one whose case failed
    peer evaluation (R-SAN-2, R-ASG-6). In force from assignment's next decision until `until`
    or until the handler is reinstated."""
    suspension = await handlers.suspend_handler(uow, **body.model_dump())
    response.headers["Location"] = f"/api/v1/suspensions/{suspension.id}"
    return await _view(engine, suspension.id)


@router.post("/{suspension_id}/reinstatement", response_model=SuspensionView,
             summary="Reinstate a suspended handler", dependencies=[allow(*DECIDERS)])
async def reinstate(*, suspension_id: SuspensionId, body: Reinstate, uow: UowFactoryDep,
                    engine: EngineDep) -> SuspensionView:
    """End the suspension: the handler may receive cases again from the next assignment."""
    await handlers.reinstate_handler(uow, suspension_id, reason=body.reason)
    return await _view(engine, suspension_id)


@router.get("", response_model=SuspensionPage, summary="List suspensions",
            dependencies=[allow(*DECIDERS, Role.auditor)])
async def list_suspensions(*, engine: EngineDep,
                           handler_id: Annotated[str | None, Query(max_length=64)] = None,
                           status: SuspensionStatus | None = None,
                           offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
                           limit: Annotated[int, Query(ge=1, le=200)] = 50) -> SuspensionPage:
    """The bureau's suspensions, newest first; filter by handler or by status."""
    where = []
    if handler_id:
        where.append(suspensions.c.handler_id == handler_id)
    if status:
        where.append(suspensions.c.status == status)
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(suspensions).where(*where))).scalar_one()
        rows = (await conn.execute(select(suspensions).where(*where)
                                   .order_by(suspensions.c.decided_at.desc(), suspensions.c.suspension_id)
                                   .offset(offset).limit(limit))).mappings().all()
    return SuspensionPage(items=[SuspensionView.model_validate(dict(r)) for r in rows], total=total, offset=offset,
                          limit=limit)


@router.get("/{suspension_id}", response_model=SuspensionView, summary="One suspension",
            dependencies=[allow(*DECIDERS, Role.auditor)])
async def get_suspension(*, suspension_id: SuspensionId, engine: EngineDep) -> SuspensionView:
    """One suspension and, once reinstated, when and why."""
    return await _view(engine, suspension_id)
