"""The bureau's investigations of failed cases (/api/v1/investigations): R-SAN-1, R-SAN-3."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from services.sanctions import queries
from services.sanctions.domain import InvestigationStatus
from services.sanctions.queries import InvestigationView
from shared.auth import Role, allow
from shared.deps import EngineDep
from shared.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/investigations", tags=["investigations"])

InvestigationId = Annotated[str, Path(description="The investigation's id", max_length=64)]

# Investigations are the bureau's; the agency reads them too, since it decides suspensions on
# their findings (R-SAN-2). The bar association reads only the notices sent to it (bar_notices.py).
INVESTIGATION_READERS = (Role.bureau_investigator, Role.agency_staff, Role.auditor)


@router.get("", response_model=Page[InvestigationView], summary="Investigations of failed cases",
            dependencies=[allow(*INVESTIGATION_READERS)])
async def list_investigations(
    *, engine: EngineDep, status: InvestigationStatus | None = None, offset: Offset = 0, limit: Limit = 50,
) -> Page[InvestigationView]:
    """List investigations of failed cases, newest first."""
    return await queries.list_investigations(engine, status=status, offset=offset, limit=limit)


@router.get("/{investigation_id}", response_model=InvestigationView, summary="One investigation",
            dependencies=[allow(*INVESTIGATION_READERS)])
async def get_investigation(*, investigation_id: InvestigationId, engine: EngineDep) -> InvestigationView:
    """One investigation, with the bar association's notice when the handler is a lawyer."""
    return await queries.investigation(engine, investigation_id)
