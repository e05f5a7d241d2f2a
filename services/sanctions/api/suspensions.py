"""The bureau's decisions to stop assigning cases to a handler (/api/v1/suspensions): R-SAN-2,
R-ASG-6. Assignment hears of each decision and applies it from its next assignment on."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.sanctions import handlers, queries
from services.sanctions.domain import SuspensionStatus
from services.sanctions.queries import SuspensionView
from shared.auth import Role, allow
from shared.deps import EngineDep, UowFactoryDep
from shared.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/suspensions", tags=["suspensions"])

SuspensionId = Annotated[str, Path(description="The suspension's id", max_length=64)]

# R-SAN-2: the agency decides a suspension, the bureau too (after its investigation); both and
# the auditor read them. A handler is told by their agency, not through this API.
DECIDERS = (Role.agency_staff, Role.bureau_investigator)


class Suspend(BaseModel):
    """停止指派: the agency stops assigning cases to a handler (R-SAN-2)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"handler_id": "8d1f4a27-93c0-4b6e-a5d2-7e0c3b9f6a41",
         "reason": "同行评估不合格：未及时会见受援人（经调查属实）",
         "until": "2026-12-31", "investigation_id": "c4e9a0d2-6b7f-5e13-8a4c-1f2d3e5b7a90",
         "agency_id": "chaoyang"},
    ]})

    handler_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=5, max_length=1000,
                        description="Why, in the bureau's words (no personal data)")
    until: date | None = Field(default=None, description="Last day of the suspension; none: until reinstated")
    investigation_id: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="The investigation of the failed case behind the decision")
    agency_id: str | None = Field(default=None, min_length=1, max_length=64)


class Reinstate(BaseModel):
    """恢复指派: the handler may receive cases again."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"reason": "已完成整改并通过律师协会组织的法律援助业务培训"},
    ]})

    reason: str = Field(min_length=5, max_length=1000)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SuspensionView,
             summary="Stop assigning cases to a handler", dependencies=[allow(*DECIDERS)])
async def suspend(*, body: Suspend, uow: UowFactoryDep, response: Response) -> SuspensionView:
    """The bureau's decision to stop assigning cases to a handler, typically one whose case failed
    peer evaluation (R-SAN-2, R-ASG-6). In force from assignment's next decision until `until`
    or until the handler is reinstated."""
    suspension = await handlers.suspend_handler(uow, **body.model_dump())
    response.headers["Location"] = f"/api/v1/suspensions/{suspension.suspension_id}"
    return suspension


@router.post("/{suspension_id}/reinstatement", response_model=SuspensionView,
             summary="Reinstate a suspended handler", dependencies=[allow(*DECIDERS)])
async def reinstate(*, suspension_id: SuspensionId, body: Reinstate, uow: UowFactoryDep) -> SuspensionView:
    """End the suspension: the handler may receive cases again from the next assignment."""
    return await handlers.reinstate_handler(uow, suspension_id, reason=body.reason)


@router.get("", response_model=Page[SuspensionView], summary="List suspensions",
            dependencies=[allow(*DECIDERS, Role.auditor)])
async def list_suspensions(*, engine: EngineDep,
                           handler_id: Annotated[str | None, Query(max_length=64)] = None,
                           status: SuspensionStatus | None = None, offset: Offset = 0,
                           limit: Limit = 50) -> Page[SuspensionView]:
    """The bureau's suspensions, newest first; filter by handler or by status."""
    return await queries.list_suspensions(engine, handler_id=handler_id, status=status, offset=offset,
                                          limit=limit)


@router.get("/{suspension_id}", response_model=SuspensionView, summary="One suspension",
            dependencies=[allow(*DECIDERS, Role.auditor)])
async def get_suspension(*, suspension_id: SuspensionId, engine: EngineDep) -> SuspensionView:
    """One suspension and, once reinstated, when and why."""
    return await queries.suspension(engine, suspension_id)
