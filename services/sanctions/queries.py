"""Every read of sanctions: its read models (projections.py) as typed views, one page at a time
(shared.paging). Reads take the caller (`Principal`) so that they can be scoped to it: the
organ reports are (a judicial organ reads only the cases it notified); otherwise whoever may
read a list reads all of it (api/ says who may)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, and_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.sanctions.domain import (
    ComplaintStatus,
    InvestigationStatus,
    Measure,
    Origin,
    SuspensionScope,
    SuspensionStatus,
)
from services.sanctions.projections import (
    bar_notices,
    complaints,
    evidence,
    investigations,
    known_cases,
    notes,
    suspensions,
)
from shared.aggregate import NotFound
from shared.auth import Principal
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
    evaluation_id: str | None
    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    findings: str
    status: InvestigationStatus
    opened_at: datetime
    bar_notice: BarNoticeView | None = None
    # The lifecycle (R-SAN-3)
    origin: Origin = Origin.evaluation
    complaint_id: str | None = None
    bureau_id: str | None = None
    due_on: date | None = None
    overdue: bool = False
    assignee_id: str | None = None
    bureau_findings: str | None = None
    violation: bool | None = None
    measures: list[Measure] = []
    reasoning: str | None = None
    suspension_id: str | None = None
    decided_at: datetime | None = None
    closed_at: datetime | None = None
    organ_id: str | None = None
    informed_at: datetime | None = None


class NoteView(BaseModel):
    note_id: str
    investigation_id: str
    text: str
    author: str
    added_at: datetime


class EvidenceView(BaseModel):
    evidence_id: str
    investigation_id: str
    reference: str
    description: str
    added_by: str
    added_at: datetime


class OrganReportView(BaseModel):
    """通报: what the police, procuratorate or court that notified a case learns when the
    bureau's investigation of it concludes (no free text of the bureau's, no aided-person data)."""

    investigation_id: str
    case_id: str
    case_number: str
    handler: HandlerRef
    violation: bool
    measures: list[Measure]
    decided_at: datetime
    concluded_at: datetime


class ComplaintView(BaseModel):
    complaint_id: str
    case_id: str
    case_number: str
    agency_id: str
    bureau_id: str
    handler_id: str | None
    text: str
    received_on: date
    answer_due_on: date
    overdue: bool
    status: ComplaintStatus
    recorded_by: str
    recorded_at: datetime
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None
    investigation_id: str | None


class KnownCase(BaseModel):
    """A case as sanctions heard of it from intake and assignment."""

    case_id: str
    case_number: str
    case_kind: CaseKind | None
    agency_id: str | None
    source_system: str | None
    handler: HandlerRef | None


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
    scope: SuspensionScope
    case_id: str | None = None
    starts_on: date | None = None
    decided_by: str | None = None
    automatic: bool = False


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


def _handler(row: Mapping[str, Any]) -> HandlerRef:
    return HandlerRef(handler_id=row["handler_id"], name=row["handler_name"], kind=row["handler_kind"],
                      licence_number=row["licence_number"], institution_id=row["institution_id"],
                      institution_name=row["institution_name"])


def _investigation_at(today: date | None) -> Any:
    def item(row: RowMapping) -> InvestigationView:
        notice = None
        if row[_NOTICE + "notice_id"] is not None:
            notice = _notice({c.name: row[_NOTICE + c.name] for c in bar_notices.c})
        overdue = (today is not None and row["due_on"] is not None and row["due_on"] < today
                   and row["status"] != InvestigationStatus.closed)
        return InvestigationView.model_validate({**row, "handler": _handler(row), "bar_notice": notice,
                                                 "overdue": overdue})
    return item


def _overdue_investigations(today: date) -> Any:
    return and_(investigations.c.due_on < today, investigations.c.status != InvestigationStatus.closed)


async def list_investigations(engine: AsyncEngine, principal: Principal, *,
                              status: InvestigationStatus | None, offset: int, limit: int,
                              today: date | None = None, overdue: bool = False, bureau_id: str | None = None,
                              assignee_id: str | None = None) -> Page[InvestigationView]:
    """Investigations of failed cases and complaints, newest first, with their notices; the
    bureau's worklist of overdue ones (past their due day on `today`, not closed), the most
    overdue first."""
    query: Select[Any] = _INVESTIGATIONS
    if overdue and today is not None:
        query = query.where(_overdue_investigations(today)).order_by(
            investigations.c.due_on, investigations.c.investigation_id)
    else:
        query = query.order_by(investigations.c.opened_at.desc(), investigations.c.investigation_id)
    if status is not None:
        query = query.where(investigations.c.status == status)
    if bureau_id is not None:
        query = query.where(investigations.c.bureau_id == bureau_id)
    if assignee_id is not None:
        query = query.where(investigations.c.assignee_id == assignee_id)
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_investigation_at(today))


async def investigation(engine: AsyncEngine, principal: Principal, investigation_id: str, *,
                        today: date | None = None) -> InvestigationView:
    """One investigation, with the bar association's notice when the handler is a lawyer."""
    async with engine.connect() as conn:
        return await investigation_in(conn, investigation_id, today=today)


async def investigation_in(conn: AsyncConnection, investigation_id: str, *,
                           today: date | None = None) -> InvestigationView:
    """One investigation as read inside a transaction (a command's answer: handlers.py)."""
    query = _INVESTIGATIONS.where(investigations.c.investigation_id == investigation_id)
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise NotFound("no investigation with this investigation_id")
    return _investigation_at(today)(row)


async def investigation_of_case(conn: AsyncConnection, case_id: str, origin: Origin) -> str | None:
    """The investigation already opened on this case from this origin, if any: one per failed case."""
    found = await conn.execute(select(investigations.c.investigation_id).where(
        investigations.c.case_id == case_id, investigations.c.origin == origin).limit(1))
    return found.scalar_one_or_none()


async def _exists(conn: AsyncConnection, investigation_id: str) -> None:
    found = await conn.execute(select(investigations.c.investigation_id)
                               .where(investigations.c.investigation_id == investigation_id))
    if found.first() is None:
        raise NotFound("no investigation with this investigation_id")


async def list_notes(engine: AsyncEngine, principal: Principal, investigation_id: str, *, offset: int,
                     limit: int) -> Page[NoteView]:
    """An investigation's notes, oldest first."""
    query = (select(notes).where(notes.c.investigation_id == investigation_id)
             .order_by(notes.c.added_at, notes.c.note_id))
    async with engine.connect() as conn:
        await _exists(conn, investigation_id)
        return await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda row: NoteView.model_validate(dict(row)))


async def note_in(conn: AsyncConnection, note_id: str) -> NoteView:
    row = (await conn.execute(select(notes).where(notes.c.note_id == note_id))).mappings().one()
    return NoteView.model_validate(dict(row))


async def list_evidence(engine: AsyncEngine, principal: Principal, investigation_id: str, *, offset: int,
                        limit: int) -> Page[EvidenceView]:
    """The references to the evidence an investigation relies on, oldest first."""
    query = (select(evidence).where(evidence.c.investigation_id == investigation_id)
             .order_by(evidence.c.added_at, evidence.c.evidence_id))
    async with engine.connect() as conn:
        await _exists(conn, investigation_id)
        return await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda row: EvidenceView.model_validate(dict(row)))


async def evidence_in(conn: AsyncConnection, evidence_id: str) -> EvidenceView:
    row = (await conn.execute(select(evidence).where(evidence.c.evidence_id == evidence_id))).mappings().one()
    return EvidenceView.model_validate(dict(row))


# --- information back to the notifying organ (通报) ----------------------------------------

_REPORTS = select(investigations).where(investigations.c.informed_at.is_not(None))


def _report(row: RowMapping) -> OrganReportView:
    return OrganReportView.model_validate({**row, "handler": _handler(row),
                                           "concluded_at": row["informed_at"]})


async def list_organ_reports(engine: AsyncEngine, principal: Principal, *, offset: int,
                             limit: int) -> Page[OrganReportView]:
    """The concluded investigations of the cases the caller's organ notified, newest first."""
    query = (_REPORTS.where(investigations.c.organ_id == principal.institution_id)
             .order_by(investigations.c.informed_at.desc(), investigations.c.investigation_id))
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_report)


async def organ_report(engine: AsyncEngine, principal: Principal, investigation_id: str) -> OrganReportView:
    """One conclusion, for the organ that notified the case only (any other caller: not found)."""
    query = _REPORTS.where(investigations.c.investigation_id == investigation_id,
                           investigations.c.organ_id == principal.institution_id)
    async with engine.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    if row is None or principal.institution_id is None:
        raise NotFound("no report with this investigation_id")
    return _report(row)


# --- the cases sanctions knows of -----------------------------------------------------------


async def known_case_in(conn: AsyncConnection, case_id: str) -> KnownCase | None:
    row = (await conn.execute(select(known_cases).where(known_cases.c.case_id == case_id))).mappings().first()
    if row is None:
        return None
    handler = _handler(row) if row["handler_id"] is not None else None
    return KnownCase.model_validate({**row, "handler": handler})


# --- complaints (arts. 55-57) ---------------------------------------------------------------


def _complaint_at(today: date | None) -> Any:
    def item(row: RowMapping) -> ComplaintView:
        overdue = (today is not None and row["status"] == ComplaintStatus.lodged
                   and row["answer_due_on"] < today)
        return ComplaintView.model_validate({**row, "overdue": overdue})
    return item


async def list_complaints(engine: AsyncEngine, principal: Principal, *, status: ComplaintStatus | None,
                          overdue: bool, today: date, bureau_id: str | None, case_id: str | None,
                          offset: int, limit: int) -> Page[ComplaintView]:
    """Complaints, newest first; or those past their answer's due day, the most overdue first."""
    query = select(complaints)
    if overdue:
        query = query.where(complaints.c.status == ComplaintStatus.lodged,
                            complaints.c.answer_due_on < today).order_by(
            complaints.c.answer_due_on, complaints.c.complaint_id)
    else:
        query = query.order_by(complaints.c.recorded_at.desc(), complaints.c.complaint_id)
    if status is not None:
        query = query.where(complaints.c.status == status)
    if bureau_id is not None:
        query = query.where(complaints.c.bureau_id == bureau_id)
    if case_id is not None:
        query = query.where(complaints.c.case_id == case_id)
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_complaint_at(today))


async def complaint(engine: AsyncEngine, principal: Principal, complaint_id: str, *,
                    today: date | None = None) -> ComplaintView:
    async with engine.connect() as conn:
        return await complaint_in(conn, complaint_id, today=today)


async def complaint_in(conn: AsyncConnection, complaint_id: str, *,
                       today: date | None = None) -> ComplaintView:
    row = (await conn.execute(select(complaints).where(complaints.c.complaint_id == complaint_id))
           ).mappings().first()
    if row is None:
        raise NotFound("no complaint with this complaint_id")
    return _complaint_at(today)(row)


async def list_bar_notices(engine: AsyncEngine, *, offset: int, limit: int) -> Page[BarNoticeView]:
    """The notices sent to the bar association, newest first."""
    query = select(bar_notices).order_by(bar_notices.c.issued_at.desc(), bar_notices.c.notice_id)
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_notice)


# --- suspensions ----------------------------------------------------------------------------


def _suspension(row: RowMapping) -> SuspensionView:
    scope = row["scope"] or (SuspensionScope.agency if row["agency_id"] else SuspensionScope.city)
    return SuspensionView.model_validate({**row, "scope": scope})


async def suspensions_due(conn: AsyncConnection, day: date) -> list[str]:
    """The suspensions in force whose last day is before `day`: due to end by themselves."""
    found = await conn.execute(select(suspensions.c.suspension_id).where(
        suspensions.c.status == SuspensionStatus.in_force, suspensions.c.until < day,
    ).order_by(suspensions.c.until, suspensions.c.suspension_id))
    return list(found.scalars())


async def list_suspensions(engine: AsyncEngine, principal: Principal, *, handler_id: str | None,
                           status: SuspensionStatus | None, offset: int, limit: int) -> Page[SuspensionView]:
    """The suspensions, newest first; of one handler, or in one status, if given."""
    query = select(suspensions).order_by(suspensions.c.decided_at.desc(), suspensions.c.suspension_id)
    if handler_id:
        query = query.where(suspensions.c.handler_id == handler_id)
    if status:
        query = query.where(suspensions.c.status == status)
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_suspension)


async def suspension(engine: AsyncEngine, principal: Principal, suspension_id: str) -> SuspensionView:
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
