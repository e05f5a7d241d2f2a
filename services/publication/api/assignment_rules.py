"""The assignment rules the agencies published (/api/v1/assignment-rules, R-ASG-5, R-PUB-3).
Public."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.publication.queries import assignment_rules as queries
from services.publication.queries.assignment_rules import PublishedRules
from shared.auth import Role, allow
from shared.deps import ClockDep, EngineDep
from shared.paging import MAX_LIMIT, Limit, Offset, Page

router = APIRouter(prefix="/api/v1/assignment-rules", tags=["assignment rules"])


@router.get("", response_model=Page[PublishedRules], summary="Assignment rules the agencies published",
            dependencies=[allow(Role.public)])
async def list_rules(
    *, engine: EngineDep, clock: ClockDep, agency_id: Annotated[str | None, Query(max_length=64)] = None,
    in_force: Annotated[bool, Query(description="Only the version each agency applies today")] = False,
    offset: Offset = 0, limit: Limit = MAX_LIMIT,
) -> Page[PublishedRules]:
    """The assignment rules each agency filed with the city bureau and published (R-ASG-5,
    R-PUB-3), newest version first; `in_force` marks the version applied today."""
    return await queries.published_rules(engine, at=clock(), agency_id=agency_id, in_force_only=in_force,
                                         offset=offset, limit=limit)
