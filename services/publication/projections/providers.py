"""The public's view of the provider pool (R-PUB-3): the institutions recruited and how (R-PRV-1),
and the list of legal-aid volunteers (R-PRV-2). Folded from assignment's InstitutionRecruited
and VolunteerRegistered; public facts only (queries/providers.py reads them)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, DateTime
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field

from services.publication.projections.base import PublicationTable
from shared.contracts.assignment import InstitutionRecruited, VolunteerRegistered


class RecruitedInstitutionRow(PublicationTable, table=True):
    __tablename__ = "recruited_institutions"

    institution_id: str = Field(primary_key=True)
    name: str
    kind: str
    agency_id: str = Field(index=True)
    district: str
    recruitment_method: str | None = None
    recruited_on: date | None = None
    recruiting_agency: str | None = None
    results_published_on: date | None = None
    recruited_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class VolunteerRow(PublicationTable, table=True):
    __tablename__ = "volunteers"

    handler_id: str = Field(primary_key=True)
    name: str
    institution_name: str
    agency_id: str = Field(index=True)
    registered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


recruited_institutions = RecruitedInstitutionRow.__table__
volunteers = VolunteerRow.__table__


async def record_institution(conn: AsyncConnection, event: InstitutionRecruited) -> None:
    record = event.recruitment
    await conn.execute(insert(recruited_institutions).values(
        institution_id=event.institution_id, name=event.name, kind=event.kind, agency_id=event.agency_id,
        district=event.district, recruitment_method=record and record.method,
        recruited_on=record and record.recruited_on, recruiting_agency=record and record.recruiting_agency,
        results_published_on=record and record.results_published_on, recruited_at=event.recruited_at,
    ).on_conflict_do_nothing())


async def record_volunteer(conn: AsyncConnection, event: VolunteerRegistered) -> None:
    await conn.execute(insert(volunteers).values(
        handler_id=event.handler_id, name=event.name, institution_name=event.institution_name,
        agency_id=event.agency_id, registered_at=event.registered_at,
    ).on_conflict_do_nothing())
