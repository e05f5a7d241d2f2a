"""The public's view of the provider pool (R-PUB-3): the institutions recruited and how (R-PRV-1),
and the list of legal-aid volunteers (R-PRV-2). Folded from assignment's InstitutionRecruited
and VolunteerRegistered; public facts only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import Column, DateTime, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field

from services.publication.projections import PublicationTable
from shared.auth import Role, allow
from shared.contracts.assignment import InstitutionRecruited, VolunteerRegistered
from shared.deps import EngineDep


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


router = APIRouter(prefix="/api/v1/providers", tags=["providers"])
Agency = Annotated[str | None, Query(max_length=64)]


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


class InstitutionList(BaseModel):
    items: list[PublicInstitution]


class VolunteerList(BaseModel):
    items: list[PublicVolunteer]


@router.get("/institutions", response_model=InstitutionList, summary="Institutions recruited for legal aid",
            dependencies=[allow(Role.public)])
async def list_institutions(*, engine: EngineDep, agency_id: Agency = None) -> InstitutionList:
    """The results of recruitment (R-PRV-1, R-PUB-3): each institution serving legal aid, and how,
    when and by which agency it was recruited."""
    where = [recruited_institutions.c.agency_id == agency_id] if agency_id else []
    async with engine.connect() as conn:
        rows = (await conn.execute(select(recruited_institutions).where(*where)
                                   .order_by(recruited_institutions.c.recruited_at))).mappings().all()
    return InstitutionList(items=[PublicInstitution.model_validate(dict(r)) for r in rows])


@router.get("/volunteers", response_model=VolunteerList, summary="The list of legal-aid volunteers",
            dependencies=[allow(Role.public)])
async def list_volunteers(*, engine: EngineDep, agency_id: Agency = None) -> VolunteerList:
    """The published list of volunteers (R-PRV-2, R-PUB-3): name, institution, agency."""
    where = [volunteers.c.agency_id == agency_id] if agency_id else []
    async with engine.connect() as conn:
        rows = (await conn.execute(select(volunteers).where(*where)
                                   .order_by(volunteers.c.registered_at))).mappings().all()
    return VolunteerList(items=[PublicVolunteer.model_validate(dict(r)) for r in rows])
