"""The published assignment rules as the public reads them (R-ASG-5, R-PUB-3), each version
marked with whether it is the one its agency applies on the day asked."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import Subquery, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncEngine

from services.publication.projections.assignment_rules import assignment_rules
from shared.clock import local_date
from shared.paging import Page, paginate


class PublishedRules(BaseModel):
    agency_id: str
    version: int
    title: str
    text: str
    effective_from: date
    monthly_cap: int | None
    senior_years_of_practice: int | None
    filed_with: str
    published_at: datetime
    in_force: bool


def _in_force_on(day: date) -> Subquery:
    """Each agency's version in force on a Beijing calendar day: of the versions already
    effective that day, the latest to take effect, and of those the highest version."""
    r = assignment_rules
    return (select(r.c.agency_id, r.c.version).where(r.c.effective_from <= day)
            .ext(distinct_on(r.c.agency_id))
            .order_by(r.c.agency_id, r.c.effective_from.desc(), r.c.version.desc())
            .subquery("in_force"))


async def published_rules(engine: AsyncEngine, *, at: datetime, agency_id: str | None = None,
                          in_force_only: bool = False, offset: int, limit: int) -> Page[PublishedRules]:
    """Every published version (of one agency's, if `agency_id` is given), by agency and newest
    version first; `in_force` marks the version applied on the Beijing day of the moment `at`."""
    r = assignment_rules
    current = _in_force_on(local_date(at))
    in_force = current.c.version.is_not(None)
    query = (select(r, in_force.label("in_force"))
             .outerjoin(current, (current.c.agency_id == r.c.agency_id) & (current.c.version == r.c.version))
             .order_by(r.c.agency_id, r.c.version.desc()))
    if agency_id:
        query = query.where(r.c.agency_id == agency_id)
    if in_force_only:
        query = query.where(in_force)
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda row: PublishedRules.model_validate(dict(row)))
