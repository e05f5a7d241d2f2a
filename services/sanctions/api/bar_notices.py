"""The bureau's notices to the bar association about lawyers whose case failed
(/api/v1/bar-notices): R-SAN-4."""

from __future__ import annotations

from fastapi import APIRouter

from services.sanctions import queries
from services.sanctions.queries import BarNoticeView
from shared.auth import Role, allow
from shared.deps import EngineDep
from shared.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/bar-notices", tags=["bar notices"])


@router.get("", response_model=Page[BarNoticeView], summary="Notices to the bar association",
            dependencies=[allow(Role.bar_association, Role.bureau_investigator, Role.auditor)])
async def list_bar_notices(*, engine: EngineDep, offset: Offset = 0,
                           limit: Limit = 50) -> Page[BarNoticeView]:
    """List the notices sent to the bar association, newest first."""
    return await queries.list_bar_notices(engine, offset=offset, limit=limit)
