"""The case list with its filters, and one case: now (its row in the case list) or as it stood at
a moment (folded from its stream), each as the caller may see it (queries.access).

The list's `overdue` filter is the arithmetic of domain.deadlines in SQL, so that it pages like
any other filter."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ARRAY, ColumnElement, DateTime, Integer, String, TextClause, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.domain.case import Case
from services.intake.domain.deadlines import DeadlinePolicy
from services.intake.projections import cases
from services.intake.queries import access
from services.intake.queries.calendar import missing_year_raised
from services.intake.queries.views import CaseView, NotifiedCaseView, view_of, view_of_row
from shared import store
from shared.aggregate import NotFound
from shared.auth import Principal
from shared.clock import BEIJING
from shared.paging import Page, paginate


@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None
    case_kind: str | None = None
    district: str | None = None
    agency_id: str | None = None
    institution_id: str | None = None
    handler_id: str | None = None
    source_system: str | None = None
    external_reference: str | None = None
    registered_from: datetime | None = None
    registered_before: datetime | None = None
    # The caller's scope (queries.access.scope), applied beside what the query asks.
    within_agency: str | None = None
    within_district: str | None = None

    def seen_by(self, principal: Principal) -> CaseFilter:
        """The filter as the caller may apply it: a handler's list holds only their own cases, an
        organ's only the cases it notified, an agency's only its own, a district bureau's only
        its district's (whatever the query says)."""
        scope = access.scope(principal)
        return replace(self, handler_id=access.handler_scope(principal) or self.handler_id,
                       source_system=access.organ_scope(principal) or self.source_system,
                       within_agency=scope.agency_id, within_district=scope.district)

    def where(self) -> list[ColumnElement[bool]]:
        c = cases.c
        where = [getattr(c, name) == value for name, value in (
            ("status", self.status), ("case_kind", self.case_kind), ("district", self.district),
            ("agency_id", self.agency_id), ("institution_id", self.institution_id),
            ("handler_id", self.handler_id), ("source_system", self.source_system),
            ("external_reference", self.external_reference),
        ) if value is not None]
        if self.within_agency is not None:
            where.append(c.agency_id == self.within_agency)
        if self.within_district is not None:
            where.append(c.district == self.within_district)
        if self.registered_from is not None:
            where.append(c.registered_at >= self.registered_from)
        if self.registered_before is not None:
            where.append(c.registered_at < self.registered_before)
        return where


# A deadline on a day runs to the end of that day in Beijing (shared.clock.end_of_day; :zone is
# shared.clock.BEIJING); the assignment and the first meeting count China's official working days
# (intake_add_working_days, migration 0007, = shared.calendar.WorkingCalendar.add_working_days,
# reading the same calendar tables), which refuses a year not loaded (CalendarMissing).
_OVERDUE_SQL = """(cases.status <> 'terminated' AND (
  (cases.first_assigned_at IS NULL
   AND :now > ((intake_add_working_days((cases.registered_at AT TIME ZONE :zone)::date,
                                        :asg_days) + 1)::timestamp AT TIME ZONE :zone))
  OR (cases.assigned_at IS NOT NULL AND cases.first_meeting_at IS NULL
   AND cases.case_kind = ANY(:fm_kinds) AND cases.criminal_role IS DISTINCT FROM 'duty_lawyer_help'
   AND :now > ((intake_add_working_days((cases.assigned_at AT TIME ZONE :zone)::date, :fm_days) + 1)
               ::timestamp AT TIME ZONE :zone))
  OR (cases.assigned_at IS NOT NULL AND cases.mandate_signed_at IS NULL
   AND cases.criminal_role IS DISTINCT FROM 'duty_lawyer_help'
   AND :now > ((((cases.assigned_at AT TIME ZONE :zone)::date + :mandate_days) + 1)
               ::timestamp AT TIME ZONE :zone))
  OR (cases.ended_on IS NOT NULL AND cases.closing_file_at IS NULL
   AND :now > (((cases.ended_on + :closing_days) + 1)::timestamp AT TIME ZONE :zone))
))"""


def overdue_clause(policy: DeadlinePolicy, now: datetime, *, overdue: bool = True) -> TextClause:
    """A case with a deadline past due and still open at `now` (Deadline.open_overdue, in SQL), or
    with none (`overdue=False`)."""
    return text(_OVERDUE_SQL if overdue else f"NOT {_OVERDUE_SQL}").bindparams(
        bindparam("now", now, type_=DateTime(timezone=True)), bindparam("zone", BEIJING.key, type_=String),
        bindparam("fm_kinds", [str(k) for k in policy.first_meeting_case_kinds], type_=ARRAY(String)),
        bindparam("asg_days", policy.assignment_working_days, type_=Integer),
        bindparam("fm_days", policy.first_meeting_working_days, type_=Integer),
        bindparam("mandate_days", policy.mandate_days, type_=Integer),
        bindparam("closing_days", policy.closing_file_days, type_=Integer))


async def case_view(engine: AsyncEngine, case_id: str) -> CaseView:
    """The case now, from its row in the case list."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(cases).where(cases.c.case_id == case_id))).mappings().first()
    if row is None:
        raise NotFound(f"no case {case_id}")
    return view_of_row(row)


async def visible_case(engine: AsyncEngine, case_id: str, principal: Principal) -> CaseView:
    """The case now, if the caller may see it (404 otherwise)."""
    view = await case_view(engine, case_id)
    access.check(view, principal)
    return view


async def shown_case(engine: AsyncEngine, case_id: str, principal: Principal, *,
                     as_of: datetime | None = None) -> CaseView | NotifiedCaseView:
    """What the caller is shown of a case it may see now; with `as_of`, as it stood at that
    moment (its history folded up to then)."""
    view = await visible_case(engine, case_id, principal)
    if as_of is not None:
        async with engine.connect() as conn:
            events = await store.load(conn, Case.stream_id(case_id), as_of=as_of)
        case = Case.fold(case_id, [(e.type, e.data, e.recorded_at) for e in events])
        if not case.exists:
            raise NotFound(f"no case {case_id} as of {as_of.isoformat()}")
        view = view_of(case)
    return access.shown(view, principal)


async def page_of_cases(engine: AsyncEngine, filters: CaseFilter, principal: Principal, *, offset: int,
                        limit: int, overdue: bool | None, policy: DeadlinePolicy,
                        now: datetime) -> Page[CaseView | NotifiedCaseView]:
    """One page of the cases the caller may see, newest first, as each is shown to them."""
    where: list[ColumnElement[bool] | TextClause] = [*filters.seen_by(principal).where()]
    if overdue is not None:
        where.append(overdue_clause(policy, now, overdue=overdue))
    query = select(cases).where(*where).order_by(cases.c.registered_at.desc(), cases.c.case_id)
    async with engine.connect() as conn:
        with missing_year_raised():
            return await paginate(conn, query, offset=offset, limit=limit,
                                  item=lambda row: access.shown(view_of_row(row), principal))
