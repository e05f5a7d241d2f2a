"""Each agency's assignment rules as a document (R-ASG-5): every filed version, which are
published, and which is in force on a day."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.assignment.domain import AssignmentRules
from services.assignment.queries import scope
from services.assignment.queries.aggregates import current
from shared.auth import EVERY_AGENCY, AgencyScope

NO_RULES = "no assignment rules of this agency"


class RulesVersion(BaseModel):
    version: int
    title: str
    text: str
    effective_from: date
    monthly_cap: int | None
    senior_years_of_practice: int | None
    filed_with: str
    filed_at: datetime
    published_at: datetime | None


class RulesDocument(BaseModel):
    agency_id: str
    in_force: int | None = Field(description="The version applied today, if any is published and effective")
    versions: list[RulesVersion]


async def rules_of(conn: AsyncConnection, agency_id: str) -> AssignmentRules:
    return await current(conn, AssignmentRules, agency_id)


async def rules_document(engine: AsyncEngine, agency_id: str, *, day: date,
                         within: AgencyScope = EVERY_AGENCY) -> RulesDocument:
    """The agency's rules, every version, and the one in force on `day`; not found for a caller
    of another agency (or district)."""
    async with engine.connect() as conn:
        await scope.check_agency(conn, within, agency_id, NO_RULES)
        document = await rules_of(conn, agency_id)
    in_force = document.in_force(day)
    versions = [RulesVersion(version=v.version, title=v.title, text=v.text, effective_from=v.effective_from,
                             monthly_cap=v.monthly_cap, senior_years_of_practice=v.senior_years,
                             filed_with=v.filed_with, filed_at=v.filed_at,
                             published_at=(p.published_at if (p := document.published.get(v.version))
                                           else None))
                for v in document.versions.values()]
    return RulesDocument(agency_id=agency_id, in_force=in_force and in_force.version, versions=versions)
