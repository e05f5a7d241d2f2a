"""Intake's REST API: legal-aid cases (/api/v1/cases)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from services.intake import handlers
from services.intake.domain import AidedPerson, Case
from services.intake.projections import cases
from shared.aggregate import NotFound
from shared.contracts import CaseFlags, CaseKind
from shared.service import EngineDep, UowFactoryDep

router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

CaseId = Annotated[str, Path(description="The case's id", max_length=64)]


class RegisterCase(BaseModel):
    """登记法律援助案件: what the agency (or a notifying court) knows at registration."""

    model_config = ConfigDict(extra="forbid")

    case_kind: CaseKind
    cause: str = Field(min_length=1, max_length=200, description="Cause of action (案由)")
    district: str = Field(min_length=1, max_length=50)
    agency_id: str = Field(min_length=1, max_length=64, description="The legal-aid agency that registers it")
    flags: CaseFlags = CaseFlags()
    aided_person: AidedPerson


class CloseCase(BaseModel):
    """结案: the handler reports the outcome and the day the case ended."""

    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(min_length=1, max_length=500)
    ended_on: date


class CaseView(BaseModel):
    case_id: str
    case_number: str
    case_kind: CaseKind
    cause: str
    district: str
    agency_id: str
    status: str
    handler_id: str | None
    handler_name: str | None
    institution_name: str | None
    registered_at: datetime
    assigned_at: datetime | None
    closed_at: datetime | None
    outcome: str | None


class CasePage(BaseModel):
    items: list[CaseView]
    total: int
    offset: int
    limit: int


async def _view(engine, case_id: str) -> CaseView:
    async with engine.connect() as conn:
        row = (await conn.execute(select(cases).where(cases.c.case_id == case_id))).mappings().first()
    if row is None:
        raise NotFound(f"no case {case_id}")
    return CaseView.model_validate(dict(row))


def _registered_view(case: Case) -> CaseView:
    """What the case list holds for a case just registered, from the case itself: the row was
    written in the same transaction, so reading it back would cost a second checkout for
    nothing."""
    r = case.registration
    assert r is not None
    return CaseView(case_id=case.id, case_number=r.case_number, case_kind=r.case_kind, cause=r.cause,
                    district=r.district, agency_id=r.agency_id, status=str(case.status), handler_id=None,
                    handler_name=None, institution_name=None, registered_at=r.registered_at, assigned_at=None,
                    closed_at=None, outcome=None)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CaseView)
async def register_case(*, body: RegisterCase, uow: UowFactoryDep) -> Response:
    """Register a legal-aid case; assignment picks its handler."""
    case = await handlers.register_case(uow, **body.model_dump(exclude={"flags", "aided_person"}),
                                        flags=body.flags, aided_person=body.aided_person)
    # Registration is the hot path: the view is built by us and typed, so FastAPI's second
    # validation and serialisation of it (response_model) is skipped; the schema still documents it.
    return Response(_registered_view(case).model_dump_json(), status_code=status.HTTP_201_CREATED,
                    media_type="application/json", headers={"Location": f"{router.prefix}/{case.id}"})


@router.get("", response_model=CasePage)
async def list_cases(
    *, engine: EngineDep,
    status_: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasePage:
    """List cases, newest first."""
    where = [cases.c.status == status_] if status_ else []
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(cases).where(*where))).scalar_one()
        rows = (await conn.execute(select(cases).where(*where).order_by(cases.c.registered_at.desc())
                                   .offset(offset).limit(limit))).mappings().all()
    return CasePage(items=[CaseView.model_validate(dict(r)) for r in rows], total=total, offset=offset, limit=limit)


@router.get("/{case_id}", response_model=CaseView)
async def get_case(*, case_id: CaseId, engine: EngineDep) -> CaseView:
    """The case's status and handler."""
    return await _view(engine, case_id)


@router.post("/{case_id}/closure", response_model=CaseView)
async def close_case(*, case_id: CaseId, body: CloseCase, uow: UowFactoryDep, engine: EngineDep) -> CaseView:
    """Close an assigned case; evaluation then sees it."""
    await handlers.close_case(uow, case_id, outcome=body.outcome, ended_on=body.ended_on)
    return await _view(engine, case_id)
