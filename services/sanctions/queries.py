"""Every read of sanctions: its read models (projections.py) as typed views, one page at a time
(shared.paging). No role scoping here: whoever may read a list reads all of it (api/ says who
may)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.sanctions.domain import InvestigationStatus, SuspensionStatus
from services.sanctions.projections import bar_notices, investigations, suspensions
from shared.aggregate import NotFound
from shared.contracts import CaseKind, HandlerKind, HandlerRef
from shared.paging import Page, paginate

# --- views ----------------------------------------------------------------------------------


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


class SuspensionView(BaseModel):
    suspension_id: str
    handler_id: str
    agency_id: str | None
    investigation_id: str | None
    reason: str
    until: date | None
    status: SuspensionStatus
    decided_at: datetime
    reinstated_at: datetime | None
    reinstatement_reason: str | None


# --- investigations and the bar association's notices -------------------------------------

# An investigation and its notice, if any, in one row: the notice's columns under a prefix
# (both tables have case_id, licence_number, ...). At most one notice per investigation.
_NOTICE = "notice_"
_INVESTIGATIONS = (
    select(investigations, *(c.label(_NOTICE + c.name) for c in bar_notices.c))
    .outerjoin(bar_notices, bar_notices.c.investigation_id == investigations.c.investigation_id)
)


def _notice(row: Mapping[str, Any]) -> BarNoticeView:
    lawyer = HandlerRef(handler_id=row["lawyer_id"], name=row["lawyer_name"], kind=HandlerKind.lawyer,
                        licence_number=row["licence_number"], institution_id=row["institution_id"],
                        institution_name=row["institution_name"])
    return BarNoticeView.model_validate({**row, "lawyer": lawyer})


def _investigation(row: RowMapping) -> InvestigationView:
    handler = HandlerRef(handler_id=row["handler_id"], name=row["handler_name"], kind=row["handler_kind"],
                         licence_number=row["licence_number"], institution_id=row["institution_id"],
                         institution_name=row["institution_name"])
    notice = None
    if row[_NOTICE + "notice_id"] is not None:
        notice = _notice({c.name: row[_NOTICE + c.name] for c in bar_notices.c})
    return InvestigationView.model_validate({**row, "handler": handler, "bar_notice": notice})


async def list_investigations(engine: AsyncEngine, *, status: InvestigationStatus | None, offset: int,
                              limit: int) -> Page[InvestigationView]:
    """Investigations of failed cases, newest first, with their notices."""
    query: Select[Any] = _INVESTIGATIONS.order_by(investigations.c.opened_at.desc(),
                                                  investigations.c.investigation_id)
    if status is not None:
        query = query.where(investigations.c.status == status)
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_investigation)


async def investigation(engine: AsyncEngine, investigation_id: str) -> InvestigationView:
    """One investigation, with the bar association's notice when the handler is a lawyer."""
    async with engine.connect() as conn:
        query = _INVESTIGATIONS.where(investigations.c.investigation_id == investigation_id)
        row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound("no investigation with this investigation_id")
    return _investigation(row)


async def list_bar_notices(engine: AsyncEngine, *, offset: int, limit: int) -> Page[BarNoticeView]:
    """The notices sent to the bar association, newest first."""
    query = select(bar_notices).order_by(bar_notices.c.issued_at.desc(), bar_notices.c.notice_id)
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_notice)


# --- suspensions ----------------------------------------------------------------------------


def _suspension(row: RowMapping) -> SuspensionView:
    return SuspensionView.model_validate(dict(row))


async def list_suspensions(engine: AsyncEngine, *, handler_id: str | None, status: SuspensionStatus | None,
                           offset: int, limit: int) -> Page[SuspensionView]:
    """The suspensions, newest first; of one handler, or in one status, if given."""
    query = select(suspensions).order_by(suspensions.c.decided_at.desc(), suspensions.c.suspension_id)
    if handler_id:
        query = query.where(suspensions.c.handler_id == handler_id)
    if status:
        query = query.where(suspensions.c.status == status)
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_suspension)


async def suspension(engine: AsyncEngine, suspension_id: str) -> SuspensionView:
    """One suspension and, once reinstated, when and why."""
    async with engine.connect() as conn:
        return await suspension_in(conn, suspension_id)


async def suspension_in(conn: AsyncConnection, suspension_id: str) -> SuspensionView:
    """One suspension as read inside a transaction: a command's answer, read where it was
    written (handlers.py)."""
    row = (await conn.execute(select(suspensions).where(suspensions.c.suspension_id == suspension_id))
           ).mappings().first()
    if row is None:
        raise NotFound("no suspension with this suspension_id")
    return _suspension(row)
