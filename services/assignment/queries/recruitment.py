"""An agency's recruitment call as it was announced (R-PUB-3), read from its own stream."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from services.assignment.domain import RecruitmentCall
from services.assignment.queries import scope
from services.assignment.queries.aggregates import current
from shared.aggregate import NotFound
from shared.auth import EVERY_AGENCY, AgencyScope

NO_AGENCY = "no such agency"
NO_CALL = "no such recruitment call"


class RecruitmentCallView(BaseModel):
    call_id: str
    agency_id: str
    title: str
    fields_sought: list[str]
    deadline: date
    how_to_apply: str
    announced_at: datetime


async def recruitment_call(engine: AsyncEngine, call_id: str, *, agency_id: str | None = None,
                           within: AgencyScope = EVERY_AGENCY) -> RecruitmentCallView:
    """The call (of `agency_id`, if given); not found for a caller of another agency (or
    district)."""
    async with engine.connect() as conn:
        call = await current(conn, RecruitmentCall, call_id)
        if call.announced is None or agency_id not in (None, call.announced.agency_id):
            raise NotFound(NO_CALL)
        await scope.check_agency(conn, within, call.announced.agency_id, NO_CALL)
    a = call.announced
    return RecruitmentCallView(call_id=call_id, agency_id=a.agency_id, title=a.title,
                               fields_sought=a.fields_sought, deadline=a.deadline,
                               how_to_apply=a.how_to_apply, announced_at=a.announced_at)
