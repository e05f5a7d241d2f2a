"""The agencies' recruitment calls (/api/v1/recruitment-calls, R-PUB-3). Public."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.publication.queries import recruitment_calls as queries
from services.publication.queries.recruitment_calls import PublicRecruitmentCall
from shared.auth import Role, allow
from shared.clock import local_date
from shared.deps import ClockDep, EngineDep
from shared.paging import MAX_LIMIT, Limit, Offset, Page

router = APIRouter(prefix="/api/v1/recruitment-calls", tags=["recruitment calls"])


@router.get("", response_model=Page[PublicRecruitmentCall], summary="The agencies' recruitment calls",
            dependencies=[allow(Role.public)])
async def list_calls(
    *, engine: EngineDep, clock: ClockDep, agency_id: Annotated[str | None, Query(max_length=64)] = None,
    open_only: Annotated[bool, Query(alias="open", description="Only calls whose deadline (Beijing) has not "
                                                                "passed today")] = False,
    offset: Offset = 0, limit: Limit = MAX_LIMIT,
) -> Page[PublicRecruitmentCall]:
    """The calls the agencies announced for law firms, legal services and volunteers to join their
    pools (R-PUB-3), newest first: what is sought, the deadline and how to apply."""
    return await queries.recruitment_calls(engine, agency_id=agency_id,
                                           open_on=local_date(clock()) if open_only else None,
                                           offset=offset, limit=limit)
