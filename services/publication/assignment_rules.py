"""The assignment rules each agency published (R-ASG-5), shown to the public (R-PUB-3): folded
from assignment's AssignmentRulesPublished, one row per agency and version, and read at
GET /api/v1/assignment-rules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import Column, DateTime, Text, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field

from services.publication.projections import PublicationTable
from shared.auth import Role, allow
from shared.contracts.assignment import AssignmentRulesPublished
from shared.deps import EngineDep


class AssignmentRulesRow(PublicationTable, table=True):
    __tablename__ = "assignment_rules"

    agency_id: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    title: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    effective_from: date
    monthly_cap: int | None = None
    senior_years_of_practice: int | None = None
    filed_with: str
    published_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


assignment_rules = AssignmentRulesRow.__table__


async def record_rules(conn: AsyncConnection, event: AssignmentRulesPublished) -> None:
    values = event.model_dump(include={"agency_id", "version", "title", "text", "effective_from", "monthly_cap",
                                       "senior_years_of_practice", "filed_with", "published_at"})
    await conn.execute(insert(assignment_rules).values(**values).on_conflict_do_nothing())


router = APIRouter(prefix="/api/v1/assignment-rules", tags=["assignment rules"])


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


class PublishedRulesList(BaseModel):
    items: list[PublishedRules]


@router.get("", response_model=PublishedRulesList, summary="Assignment rules the agencies published",
            dependencies=[allow(Role.public)])
async def list_rules(*, engine: EngineDep, agency_id: Annotated[str | None, Query(max_length=64)] = None,
                     in_force: Annotated[bool, Query(description="Only the version each agency applies today")]
                     = False) -> PublishedRulesList:
    """The assignment rules each agency filed with the city bureau and published (R-ASG-5,
    R-PUB-3), newest version first; `in_force` marks the version applied today."""
    where = [assignment_rules.c.agency_id == agency_id] if agency_id else []
    async with engine.connect() as conn:
        rows = (await conn.execute(select(assignment_rules).where(*where)
                                   .order_by(assignment_rules.c.agency_id, assignment_rules.c.version.desc())
                                   )).mappings().all()
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    current: dict[str, tuple[date, int]] = {}
    for r in rows:
        if r["effective_from"] <= today:
            current[r["agency_id"]] = max(current.get(r["agency_id"], (date.min, 0)),
                                          (r["effective_from"], r["version"]))
    items = [PublishedRules(**r, in_force=current.get(r["agency_id"], (None, None))[1] == r["version"]) for r in rows]
    return PublishedRulesList(items=[i for i in items if i.in_force] if in_force else items)
