"""The agencies' recruitment calls as the public reads them (R-PUB-3), newest first."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.publication.projections import recruitment_calls as tables
from shared.paging import Page, paginate


class PublicRecruitmentCall(BaseModel):
    call_id: str
    agency_id: str
    title: str
    fields_sought: list[str]
    deadline: date = Field(description="The last day to apply (Beijing)")
    how_to_apply: str
    announced_at: datetime


async def recruitment_calls(engine: AsyncEngine, *, agency_id: str | None = None, open_on: date | None = None,
                            offset: int, limit: int) -> Page[PublicRecruitmentCall]:
    """The calls (of one agency, if `agency_id` is given; still open on `open_on`, if given: the
    deadline not passed), newest first."""
    t = tables.recruitment_calls
    query = (select(*(t.c[name] for name in PublicRecruitmentCall.model_fields))
             .order_by(t.c.announced_at.desc(), t.c.call_id))
    if agency_id:
        query = query.where(t.c.agency_id == agency_id)
    if open_on is not None:
        query = query.where(t.c.deadline >= open_on)
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda row: PublicRecruitmentCall.model_validate(dict(row)))
