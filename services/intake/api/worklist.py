"""The worklists (/api/v1/worklist): every deadline past due and not met, and the sweep that
records them as missed; the closing files awaiting review and sign-off (R-CHK-2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from services.intake import handlers
from services.intake.queries.cases import CaseFilter
from services.intake.queries.closing import ReviewItem, review_worklist
from services.intake.queries.deadlines import OverdueItem, overdue_worklist
from services.intake.settings import IntakeSettingsDep
from shared.auth import Principal, Role, allow
from shared.deps import ClockDep, EngineDep, UowFactoryDep
from shared.paging import Limit, Offset, Page

worklist = APIRouter(prefix="/api/v1/worklist", tags=["deadlines"])


class Sweep(BaseModel):
    recorded: int = Field(description="Missed deadlines recorded by this sweep (each is recorded once)")


@worklist.get("/overdue", summary="The overdue worklist", response_model=list[OverdueItem])
async def overdue(
    *, engine: EngineDep, settings: IntakeSettingsDep, clock: ClockDep,
    principal: Annotated[Principal, allow(Role.agency_staff, Role.quality_lead, Role.bureau_investigator,
                                          Role.auditor, Role.case_handler)],
    agency_id: Annotated[str | None, Query(max_length=64)] = None,
    institution_id: Annotated[str | None, Query(max_length=64)] = None,
    handler_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[OverdueItem]:
    """The overdue worklist: every deadline past due and not met, most overdue first, for an
    agency, an institution or a handler. A handler's worklist holds their own cases only."""
    filters = CaseFilter(agency_id=agency_id, institution_id=institution_id, handler_id=handler_id)
    return await overdue_worklist(engine, filters, principal, settings.deadline_policy(), clock())


@worklist.post("/sweep", summary="Record missed deadlines", response_model=Sweep,
               dependencies=[allow(Role.agency_staff)])
async def sweep(*, uow: UowFactoryDep, settings: IntakeSettingsDep, clock: ClockDep) -> Sweep:
    """Record a `DeadlineMissed` event in the history of each case for each deadline now past due
    and unmet; a scheduler calls it (a deadline is recorded missed once)."""
    return Sweep(recorded=await handlers.sweep_deadlines(uow, settings.deadline_policy(), clock()))


@worklist.get("/closing-reviews", summary="The closing files awaiting review (R-CHK-2)",
              response_model=Page[ReviewItem],
              dependencies=[allow(Role.agency_staff, Role.quality_lead, Role.closing_checker)])
async def closing_reviews(
    *, engine: EngineDep, settings: IntakeSettingsDep, clock: ClockDep,
    agency_id: Annotated[str | None, Query(max_length=64)] = None,
    overdue: Annotated[bool | None, Query(description="Only the files past their review limit (true), or "
                                                      "only those still within it (false)")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[ReviewItem]:
    """Every closing file handed in and not yet signed off, the longest waiting first, with its
    review limit: the agency reviews it within `FAYUAN_CLOSING_REVIEW_DAYS` (30) days of receipt,
    to the end of that day in Beijing (R-CHK-2)."""
    return await review_worklist(engine, agency_id=agency_id, overdue=overdue,
                                 days=settings.closing_review_days, now=clock(), offset=offset, limit=limit)
