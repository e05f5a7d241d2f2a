"""Decisions to stop assigning cases to a handler (/api/v1/suspensions): R-SAN-2, R-ASG-6.
Assignment hears of each decision and applies it from its next assignment on; a suspension ends
by itself when its period is over, or earlier by decision."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.sanctions import handlers, queries
from services.sanctions.domain import SuspensionScope, SuspensionStatus
from services.sanctions.queries import SuspensionView
from shared.auth import Principal, Role, allow
from shared.deps import EngineDep, UowFactoryDep
from shared.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/suspensions", tags=["suspensions"])

SuspensionId = Annotated[str, Path(description="The suspension's id", max_length=64)]

# R-SAN-2: the agency decides a suspension, the bureau too (after its investigation); both and
# the auditor read them. A handler is told by their agency, not through this API.
DECIDERS = (Role.agency_staff, Role.bureau_investigator)
Decider = Annotated[Principal, allow(*DECIDERS)]
Reader = Annotated[Principal, allow(*DECIDERS, Role.auditor)]


class Suspend(BaseModel):
    """停止指派: the agency stops assigning cases to a handler (R-SAN-2)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"handler_id": "8d1f4a27-93c0-4b6e-a5d2-7e0c3b9f6a41",
         "reason": "同行评估不合格：未及时会见受援人（经调查属实）",
         "months": 3, "scope": "agency", "investigation_id": "c4e9a0d2-6b7f-5e13-8a4c-1f2d3e5b7a90",
         "agency_id": "chaoyang"},
        {"handler_id": "8d1f4a27-93c0-4b6e-a5d2-7e0c3b9f6a41", "reason": "承办案件同行评估不合格",
         "until": "2026-12-31", "scope": "city", "case_id": "5b0c8e7e-3f5d-4a59-9d0e-6f2b9c1d7a11"},
    ]})

    handler_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=5, max_length=1000,
                        description="Why, in the bureau's words (no personal data)")
    until: date | None = Field(default=None, description="Last day of the suspension (or give months)")
    months: int | None = Field(default=None, ge=1, le=36,
                               description="The period, from today: 3 ends the day before the same day "
                                           "three months on (or give until)")
    scope: SuspensionScope = Field(default=SuspensionScope.agency,
                                   description="agency: no case from agency_id's pool; city: from no agency "
                                               "of the city (the bureau only)")
    investigation_id: str | None = Field(
        default=None, min_length=1, max_length=64,
        description="The investigation of the failed case behind the decision (or give case_id)")
    case_id: str | None = Field(default=None, min_length=1, max_length=64,
                                description="The case behind the decision (or give investigation_id)")
    agency_id: str | None = Field(default=None, min_length=1, max_length=64,
                                  description="The agency whose pool the handler leaves (scope agency); "
                                              "agency staff: their own, by default")


class Reinstate(BaseModel):
    """恢复指派: the handler may receive cases again."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"reason": "已完成整改并通过律师协会组织的法律援助业务培训"},
    ]})

    reason: str = Field(min_length=5, max_length=1000)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SuspensionView,
             summary="Stop assigning cases to a handler")
async def suspend(*, body: Suspend, principal: Decider, uow: UowFactoryDep,
                  response: Response) -> SuspensionView:
    """The decision to stop assigning cases to a handler, typically one whose case failed peer
    evaluation (R-SAN-2, R-ASG-6), linked to the case or the investigation, for a period. In force
    from assignment's next decision; ends by itself after `until`, or earlier by reinstatement.
    Agency staff decide for their own agency's pool only (403 otherwise)."""
    deciding_agency = principal.agency_id if principal.role is Role.agency_staff else None
    suspension = await handlers.suspend_handler(uow, **body.model_dump(), by=principal.sub,
                                                deciding_agency=deciding_agency,
                                                within=queries.scope(principal))
    response.headers["Location"] = f"/api/v1/suspensions/{suspension.suspension_id}"
    return suspension


@router.post("/{suspension_id}/reinstatement", response_model=SuspensionView,
             summary="Reinstate a suspended handler")
async def reinstate(*, suspension_id: SuspensionId, body: Reinstate, principal: Decider,
                    uow: UowFactoryDep) -> SuspensionView:
    """End the suspension before its period is over: the handler may receive cases again from
    the next assignment."""
    return await handlers.reinstate_handler(uow, suspension_id, reason=body.reason, by=principal.sub,
                                            within=queries.scope(principal))


@router.get("", response_model=Page[SuspensionView], summary="List suspensions")
async def list_suspensions(*, principal: Reader, engine: EngineDep,
                           handler_id: Annotated[str | None, Query(max_length=64)] = None,
                           status: SuspensionStatus | None = None, offset: Offset = 0,
                           limit: Limit = 50) -> Page[SuspensionView]:
    """The suspensions, newest first; filter by handler or by status."""
    return await queries.list_suspensions(engine, principal, handler_id=handler_id, status=status,
                                          offset=offset, limit=limit)


@router.get("/{suspension_id}", response_model=SuspensionView, summary="One suspension")
async def get_suspension(*, suspension_id: SuspensionId, principal: Reader,
                         engine: EngineDep) -> SuspensionView:
    """One suspension and, once reinstated, when, why and whether by itself."""
    return await queries.suspension(engine, principal, suspension_id)
