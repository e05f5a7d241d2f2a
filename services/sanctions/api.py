"""Sanctions' REST API: investigations of failed cases (/api/v1/investigations) and the notices
to the bar association (/api/v1/bar-notices)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from services.sanctions.domain import InvestigationStatus
from services.sanctions.projections import bar_notices, investigations
from shared.aggregate import NotFound
from shared.auth import Role, allow
from shared.contracts import CaseKind, HandlerRef
from shared.deps import EngineDep

router = APIRouter(prefix="/api/v1/investigations", tags=["investigations"])
notices_router = APIRouter(prefix="/api/v1/bar-notices", tags=["bar notices"])

InvestigationId = Annotated[str, Path(description="The investigation's id", max_length=64)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=200)]

# Investigations are the bureau's; the agency reads them too, since it decides suspensions on
# their findings (R-SAN-2). The bar association reads only the notices sent to it.
INVESTIGATION_READERS = (Role.bureau_investigator, Role.agency_staff, Role.auditor)


class BarNoticeView(BaseModel):
    notice_id: str
    investigation_id: str
    case_id: str
    case_number: str
    case_kind: CaseKind
    lawyer: HandlerRef
    reason: str
    issued_at: datetime


class InvestigationView(BaseModel):
    investigation_id: str
    evaluation_id: str
    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    findings: str
    status: InvestigationStatus
    opened_at: datetime
    bar_notice: BarNoticeView | None = None


class InvestigationPage(BaseModel):
    items: list[InvestigationView]
    total: int
    offset: int
    limit: int


class BarNoticePage(BaseModel):
    items: list[BarNoticeView]
    total: int
    offset: int
    limit: int


def _investigation(row, notice=None) -> InvestigationView:
    handler = HandlerRef(handler_id=row["handler_id"], name=row["handler_name"], kind=row["handler_kind"],
                         licence_number=row["licence_number"], institution_id=row["institution_id"],
                         institution_name=row["institution_name"])
    return InvestigationView.model_validate({**row, "handler": handler,
                                             "bar_notice": _notice(notice) if notice else None})


def _notice(row) -> BarNoticeView:
    lawyer = HandlerRef(handler_id=row["lawyer_id"], name=row["lawyer_name"], kind="lawyer",
                        licence_number=row["licence_number"], institution_id=row["institution_id"],
                        institution_name=row["institution_name"])
    return BarNoticeView.model_validate({**row, "lawyer": lawyer})


@router.get("", response_model=InvestigationPage, summary="Investigations of failed cases",
            dependencies=[allow(*INVESTIGATION_READERS)])
async def list_investigations(
    *, engine: EngineDep, status: InvestigationStatus | None = None, offset: Offset = 0, limit: Limit = 50,
) -> InvestigationPage:
    """List investigations of failed cases, newest first."""
    where = [investigations.c.status == status] if status else []
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(investigations).where(*where))).scalar_one()
        rows = (await conn.execute(
            select(investigations).where(*where)
            .order_by(investigations.c.opened_at.desc(), investigations.c.investigation_id)
            .offset(offset).limit(limit)
        )).mappings().all()
        notices = {n["investigation_id"]: n for n in (await conn.execute(
            select(bar_notices).where(bar_notices.c.investigation_id.in_([r["investigation_id"] for r in rows]))
        )).mappings().all()}
    items = [_investigation(r, notices.get(r["investigation_id"])) for r in rows]
    return InvestigationPage(items=items, total=total, offset=offset, limit=limit)


@router.get("/{investigation_id}", response_model=InvestigationView, summary="One investigation",
            dependencies=[allow(*INVESTIGATION_READERS)])
async def get_investigation(*, investigation_id: InvestigationId, engine: EngineDep) -> InvestigationView:
    """One investigation, with the bar association's notice when the handler is a lawyer."""
    async with engine.connect() as conn:
        row = (await conn.execute(
            select(investigations).where(investigations.c.investigation_id == investigation_id)
        )).mappings().first()
        notice = (await conn.execute(
            select(bar_notices).where(bar_notices.c.investigation_id == investigation_id)
        )).mappings().first()
    if row is None:
        raise NotFound("no investigation with this investigation_id")
    return _investigation(row, notice)


@notices_router.get("", response_model=BarNoticePage, summary="Notices to the bar association",
                    dependencies=[allow(Role.bar_association, Role.bureau_investigator, Role.auditor)])
async def list_bar_notices(*, engine: EngineDep, offset: Offset = 0, limit: Limit = 50) -> BarNoticePage:
    """List the notices sent to the bar association, newest first."""
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(bar_notices))).scalar_one()
        rows = (await conn.execute(
            select(bar_notices).order_by(bar_notices.c.issued_at.desc(), bar_notices.c.notice_id)
            .offset(offset).limit(limit)
        )).mappings().all()
    return BarNoticePage(items=[_notice(r) for r in rows], total=total, offset=offset, limit=limit)
