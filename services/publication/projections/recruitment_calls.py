"""The agencies' recruitment calls as the public reads them (R-PUB-3), folded from assignment's
RecruitmentCallAnnounced: the agency's announcement only, no personal data
(queries/recruitment_calls.py reads them)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime, Text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field

from services.publication.projections.base import PublicationTable
from shared.contracts.assignment import RecruitmentCallAnnounced


class RecruitmentCallRow(PublicationTable, table=True):
    __tablename__ = "recruitment_calls"

    call_id: str = Field(primary_key=True)
    agency_id: str = Field(index=True)
    title: str
    fields_sought: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    deadline: date
    how_to_apply: str
    announced_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


recruitment_calls = RecruitmentCallRow.__table__


async def record_call(conn: AsyncConnection, event: RecruitmentCallAnnounced) -> None:
    await conn.execute(insert(recruitment_calls).values(
        call_id=event.call_id, agency_id=event.agency_id, title=event.title,
        fields_sought=event.fields_sought, deadline=event.deadline, how_to_apply=event.how_to_apply,
        announced_at=event.announced_at,
    ).on_conflict_do_nothing())
