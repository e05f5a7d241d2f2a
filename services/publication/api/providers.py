"""The public's view of the provider pool (/api/v1/providers, R-PRV-1, R-PRV-2, R-PUB-3). Public."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.publication.queries import providers as queries
from services.publication.queries.providers import PublicInstitution, PublicVolunteer
from shared.auth import Role, allow
from shared.deps import EngineDep
from shared.paging import MAX_LIMIT, Limit, Offset, Page

router = APIRouter(prefix="/api/v1/providers", tags=["providers"])
Agency = Annotated[str | None, Query(max_length=64)]


@router.get("/institutions", response_model=Page[PublicInstitution],
            summary="Institutions recruited for legal aid", dependencies=[allow(Role.public)])
async def list_institutions(*, engine: EngineDep, agency_id: Agency = None, offset: Offset = 0,
                            limit: Limit = MAX_LIMIT) -> Page[PublicInstitution]:
    """The results of recruitment (R-PRV-1, R-PUB-3): each institution serving legal aid, and how,
    when and by which agency it was recruited."""
    return await queries.institutions(engine, agency_id=agency_id, offset=offset, limit=limit)


@router.get("/volunteers", response_model=Page[PublicVolunteer], summary="The list of legal-aid volunteers",
            dependencies=[allow(Role.public)])
async def list_volunteers(*, engine: EngineDep, agency_id: Agency = None, offset: Offset = 0,
                          limit: Limit = MAX_LIMIT) -> Page[PublicVolunteer]:
    """The published list of volunteers (R-PRV-2, R-PUB-3): name, institution, agency."""
    return await queries.volunteers(engine, agency_id=agency_id, offset=offset, limit=limit)
