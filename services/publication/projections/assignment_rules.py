"""The assignment rules each agency published (R-ASG-5), shown to the public (R-PUB-3): folded
from assignment's AssignmentRulesPublished, one row per agency and version (queries/
assignment_rules.py reads them)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field

from services.publication.projections.base import PublicationTable
from shared.contracts.assignment import AssignmentRulesPublished


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
    values = event.model_dump(include={
        "agency_id", "version", "title", "text", "effective_from", "monthly_cap", "senior_years_of_practice",
        "filed_with", "published_at"})
    await conn.execute(insert(assignment_rules).values(**values).on_conflict_do_nothing())
