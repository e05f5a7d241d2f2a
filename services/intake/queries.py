"""Intake's read side: the case list with its filters, one case, the deadlines and the overdue
worklist. Deadlines are computed at read time from the case list's milestone columns and the
policy (so a change of policy applies at once): in Python for one case (deadlines.py), and as the
same arithmetic in SQL for the list's `overdue` filter, so that it pages like any other filter."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from fastapi import FastAPI
from prometheus_client import Gauge
from sqlalchemy import ARRAY, DateTime, Integer, String, bindparam, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake import handlers
from services.intake.clock import get_clock
from services.intake.deadlines import Deadline, DeadlinePolicy, deadlines
from services.intake.projections import cases, project
from services.intake.views import CaseView, view_of_row
from shared.aggregate import NotFound
from shared.uow import unit_of_work

log = logging.getLogger(__name__)

OVERDUE = Gauge("fayuan_overdue_deadlines", "Deadlines past due and not met, at the last deadline sweep")


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

    def where(self) -> list:
        c = cases.c
        where = [getattr(c, name) == value for name, value in (
            ("status", self.status), ("case_kind", self.case_kind), ("district", self.district),
            ("agency_id", self.agency_id), ("institution_id", self.institution_id), ("handler_id", self.handler_id),
            ("source_system", self.source_system), ("external_reference", self.external_reference),
        ) if value is not None]
        if self.registered_from is not None:
            where.append(c.registered_at >= self.registered_from)
        if self.registered_before is not None:
            where.append(c.registered_at < self.registered_before)
        return where


# Rows that may have a deadline still open: the rest cannot be overdue.
_OPEN = or_(cases.c.first_assigned_at.is_(None), cases.c.first_meeting_at.is_(None), cases.c.mandate_signed_at.is_(None),
            (cases.c.ended_on.is_not(None)) & cases.c.closing_file_at.is_(None))


# A deadline on a day runs to the end of that day in Beijing (deadlines.end_of_day); the first
# meeting counts working days (intake_add_working_days, migration 0004, = add_working_days).
_OVERDUE_SQL = """(cases.status <> 'terminated' AND (
  (cases.first_assigned_at IS NULL
   AND :now > ((intake_add_working_days((cases.registered_at AT TIME ZONE 'Asia/Shanghai')::date, :asg_days) + 1)
               ::timestamp AT TIME ZONE 'Asia/Shanghai'))
  OR (cases.assigned_at IS NOT NULL AND cases.first_meeting_at IS NULL
   AND cases.case_kind = ANY(:fm_kinds) AND cases.criminal_role IS DISTINCT FROM 'duty_lawyer_help'
   AND :now > ((intake_add_working_days((cases.assigned_at AT TIME ZONE 'Asia/Shanghai')::date, :fm_days) + 1)
               ::timestamp AT TIME ZONE 'Asia/Shanghai'))
  OR (cases.assigned_at IS NOT NULL AND cases.mandate_signed_at IS NULL
   AND cases.criminal_role IS DISTINCT FROM 'duty_lawyer_help'
   AND :now > ((((cases.assigned_at AT TIME ZONE 'Asia/Shanghai')::date + :mandate_days) + 1)
               ::timestamp AT TIME ZONE 'Asia/Shanghai'))
  OR (cases.ended_on IS NOT NULL AND cases.closing_file_at IS NULL
   AND :now > (((cases.ended_on + :closing_days) + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'))
))"""


def overdue_clause(policy: DeadlinePolicy, now: datetime, *, overdue: bool = True):
    """A case with a deadline past due and still open at `now` (Deadline.open_overdue, in SQL), or
    with none (`overdue=False`)."""
    return text(_OVERDUE_SQL if overdue else f"NOT {_OVERDUE_SQL}").bindparams(
        bindparam("now", now, type_=DateTime(timezone=True)),
        bindparam("fm_kinds", [str(k) for k in policy.first_meeting_case_kinds], type_=ARRAY(String)),
        bindparam("asg_days", policy.assignment_working_days, type_=Integer),
        bindparam("fm_days", policy.first_meeting_working_days, type_=Integer),
        bindparam("mandate_days", policy.mandate_days, type_=Integer),
        bindparam("closing_days", policy.closing_file_days, type_=Integer))


async def case_view(engine: AsyncEngine, case_id: str) -> CaseView:
    async with engine.connect() as conn:
        row = (await conn.execute(select(cases).where(cases.c.case_id == case_id))).mappings().first()
    if row is None:
        raise NotFound(f"no case {case_id}")
    return view_of_row(row)


async def list_cases(engine: AsyncEngine, filters: CaseFilter, *, offset: int, limit: int, overdue: bool | None,
                     policy: DeadlinePolicy, now: datetime) -> tuple[list[CaseView], int]:
    where = filters.where()
    if overdue is not None:
        where.append(overdue_clause(policy, now, overdue=overdue))
    order = (cases.c.registered_at.desc(), cases.c.case_id)
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(cases).where(*where))).scalar_one()
        rows = (await conn.execute(select(cases).where(*where).order_by(*order).offset(offset).limit(limit))
                ).mappings().all()
    return [view_of_row(r) for r in rows], total


class _Row:
    """Attribute access to a row's mapping (what `deadlines` reads)."""

    def __init__(self, mapping):
        self._m = mapping

    def __getattr__(self, name):
        return self._m[name]


async def case_deadlines(engine: AsyncEngine, case_id: str, policy: DeadlinePolicy) -> list[Deadline]:
    async with engine.connect() as conn:
        row = (await conn.execute(select(cases).where(cases.c.case_id == case_id))).mappings().first()
    if row is None:
        raise NotFound(f"no case {case_id}")
    return deadlines(_Row(row), policy)


async def overdue_worklist(engine: AsyncEngine, filters: CaseFilter, policy: DeadlinePolicy,
                           now: datetime) -> list[tuple[dict, Deadline]]:
    """Every open deadline past due, with its case row, most overdue first."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(cases).where(*filters.where(), _OPEN))).mappings().all()
    found = [(dict(r), d) for r in rows for d in deadlines(_Row(r), policy) if d.open_overdue(now)]
    return sorted(found, key=lambda item: (item[1].due_at, item[0]["case_id"]))


async def sweep_deadlines(engine: AsyncEngine, uow_factory, policy: DeadlinePolicy, now: datetime) -> int:
    """Record a DeadlineMissed event on each case for each of its deadlines now past due and
    unmet (once: a second sweep records nothing). Run it as often as the agency wants to hear."""
    recorded = 0
    overdue = await overdue_worklist(engine, CaseFilter(), policy, now)
    OVERDUE.set(len(overdue))
    for row, deadline in overdue:
        recorded += await handlers.record_missed_deadline(uow_factory, row["case_id"], deadline=deadline.kind,
                                                          rule=deadline.rule, due_at=deadline.due_at, at=now)
    return recorded


async def sweep_periodically(app: FastAPI, stop: asyncio.Event) -> None:
    """Overdue items raise events without anyone asking (R-HDL-6, R-ASG-9): every
    `deadline_sweep_seconds` the service sweeps its own cases; 0 turns it off (operators then
    run `sweep-deadlines` from a scheduler). Replicas may sweep at once: each missed deadline is
    still recorded once (the case's stream serialises them)."""
    settings = app.state.settings
    interval = settings.deadline_sweep_seconds
    if interval <= 0:
        return
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
            return
        except TimeoutError:
            pass
        clock = app.dependency_overrides.get(get_clock, get_clock)()  # tests inject the time here too
        try:
            await sweep_deadlines(app.state.engine, lambda: unit_of_work(app.state.engine, settings, project),
                                  settings.deadline_policy(), clock())
        except Exception:  # the next sweep tries again; a request or event is never blocked by it
            log.exception("deadline sweep failed")
