"""The provider pool as the public reads it (R-PRV-1, R-PRV-2, R-PUB-3): the institutions
recruited and how, and the list of legal-aid volunteers; public facts only."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.publication.projections import providers as tables
from shared.paging import Page, paginate


class PublicInstitution(BaseModel):
    institution_id: str
    name: str
    kind: str
    agency_id: str
    district: str
    recruitment_method: str | None
    recruited_on: date | None
    recruiting_agency: str | None
    results_published_on: date | None


class PublicVolunteer(BaseModel):
    name: str
    institution_name: str
    agency_id: str


async def institutions(engine: AsyncEngine, *, agency_id: str | None = None, offset: int,
                       limit: int) -> Page[PublicInstitution]:
    """The institutions recruited (of one agency, if `agency_id` is given), in the order they joined."""
    t = tables.recruited_institutions
    query = (select(*(t.c[name] for name in PublicInstitution.model_fields))
             .order_by(t.c.recruited_at, t.c.institution_id))
    if agency_id:
        query = query.where(t.c.agency_id == agency_id)
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda row: PublicInstitution.model_validate(dict(row)))


async def volunteers(engine: AsyncEngine, *, agency_id: str | None = None, offset: int,
                     limit: int) -> Page[PublicVolunteer]:
    """The list of volunteers (of one agency, if `agency_id` is given), in the order they registered:
    name, institution and agency, nothing else."""
    t = tables.volunteers
    query = (select(*(t.c[name] for name in PublicVolunteer.model_fields))
             .order_by(t.c.registered_at, t.c.handler_id))
    if agency_id:
        query = query.where(t.c.agency_id == agency_id)
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda row: PublicVolunteer.model_validate(dict(row)))
