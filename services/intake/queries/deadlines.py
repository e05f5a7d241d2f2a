"""The time limits of the cases, computed at read time from the case list's milestone columns
and the policy (domain.deadlines), so that a change of policy applies at once: one case's
deadlines, and the overdue worklist (what the deadline sweep records as missed)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.intake.domain.deadlines import DeadlinePolicy, deadlines
from services.intake.projections import cases
from services.intake.queries import access
from services.intake.queries.calendar import working_calendar
from services.intake.queries.cases import CaseFilter
from services.intake.queries.views import view_of_row
from shared.aggregate import NotFound
from shared.auth import Principal


class DeadlineView(BaseModel):
    """A time limit of the case: which rule, when due, when met, whether overdue now."""

    kind: str = Field(description="assignment, first_meeting, mandate or closing_file")
    rule: str = Field(description="The rule of domain.md that sets it")
    due_at: datetime
    met_at: datetime | None
    overdue: bool = Field(description="Missed: not met by its due moment")


class OverdueItem(BaseModel):
    """A deadline past due and not met: what the agency, institution or handler must chase."""

    case_id: str
    case_number: str
    case_kind: str
    agency_id: str
    district: str
    institution_id: str | None
    handler_id: str | None
    handler_name: str | None
    deadline: str
    rule: str
    due_at: datetime
    days_overdue: int


# Rows that may have a deadline still open: the rest cannot be overdue.
_OPEN = or_(cases.c.first_assigned_at.is_(None), cases.c.first_meeting_at.is_(None),
            cases.c.mandate_signed_at.is_(None),
            (cases.c.ended_on.is_not(None)) & cases.c.closing_file_at.is_(None))


async def deadlines_of(engine: AsyncEngine, case_id: str, principal: Principal, policy: DeadlinePolicy,
                       now: datetime) -> list[DeadlineView]:
    """The case's running time limits at `now`, if the caller may see the case (404 otherwise);
    CalendarMissing when one runs into a year whose working days are not loaded."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(cases).where(cases.c.case_id == case_id))).first()
        if row is None:
            raise NotFound(f"no case {case_id}")
        access.check(view_of_row(row._mapping), principal)
        calendar = await working_calendar(conn)
    return [DeadlineView(kind=d.kind, rule=d.rule, due_at=d.due_at, met_at=d.met_at, overdue=d.overdue(now))
            for d in deadlines(row, policy, calendar)]


async def overdue_items(conn: AsyncConnection, filters: CaseFilter, policy: DeadlinePolicy,
                        now: datetime) -> list[OverdueItem]:
    """Every open deadline past due at `now` of the filtered cases, most overdue first;
    CalendarMissing when one of them runs into a year whose working days are not loaded."""
    rows = (await conn.execute(select(cases).where(*filters.where(), _OPEN))).all()
    calendar = await working_calendar(conn)
    found = sorted(((r, d) for r in rows for d in deadlines(r, policy, calendar) if d.open_overdue(now)),
                   key=lambda item: (item[1].due_at, item[0].case_id))
    return [OverdueItem(case_id=r.case_id, case_number=r.case_number, case_kind=r.case_kind,
                        agency_id=r.agency_id, district=r.district, institution_id=r.institution_id,
                        handler_id=r.handler_id, handler_name=r.handler_name, deadline=d.kind, rule=d.rule,
                        due_at=d.due_at, days_overdue=(now - d.due_at).days) for r, d in found]


async def overdue_worklist(engine: AsyncEngine, filters: CaseFilter, principal: Principal,
                           policy: DeadlinePolicy, now: datetime) -> list[OverdueItem]:
    """The overdue worklist as the caller may see it: a handler's holds their own cases only."""
    async with engine.connect() as conn:
        return await overdue_items(conn, filters.seen_by(principal), policy, now)
