"""Intake's read side: the case list with its filters, one case, the deadlines and the overdue
worklist (deadlines are computed at read time from the case list's rows and the policy)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake import handlers
from services.intake.clock import get_clock
from services.intake.deadlines import Deadline, DeadlinePolicy, deadlines
from services.intake.projections import cases, project
from services.intake.views import CaseView, view_of_row
from shared.aggregate import NotFound
from shared.uow import unit_of_work

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None
    case_kind: str | None = None
    district: str | None = None
    agency_id: str | None = None
    institution_id: str | None = None
    handler_id: str | None = None
    registered_from: datetime | None = None
    registered_before: datetime | None = None

    def where(self) -> list:
        c = cases.c
        where = [getattr(c, name) == value for name, value in (
            ("status", self.status), ("case_kind", self.case_kind), ("district", self.district),
            ("agency_id", self.agency_id), ("institution_id", self.institution_id), ("handler_id", self.handler_id),
        ) if value is not None]
        if self.registered_from is not None:
            where.append(c.registered_at >= self.registered_from)
        if self.registered_before is not None:
            where.append(c.registered_at < self.registered_before)
        return where


# Rows that may have a deadline still open: the rest cannot be overdue.
_OPEN = or_(cases.c.first_meeting_at.is_(None), cases.c.mandate_signed_at.is_(None),
            (cases.c.ended_on.is_not(None)) & cases.c.closing_file_at.is_(None))


async def case_view(engine: AsyncEngine, case_id: str) -> CaseView:
    async with engine.connect() as conn:
        row = (await conn.execute(select(cases).where(cases.c.case_id == case_id))).mappings().first()
    if row is None:
        raise NotFound(f"no case {case_id}")
    return view_of_row(row)


async def list_cases(engine: AsyncEngine, filters: CaseFilter, *, offset: int, limit: int, overdue: bool | None,
                     policy: DeadlinePolicy, now: datetime) -> tuple[list[CaseView], int]:
    where = filters.where()
    order = (cases.c.registered_at.desc(), cases.c.case_id)
    async with engine.connect() as conn:
        if overdue is None:
            total = (await conn.execute(select(func.count()).select_from(cases).where(*where))).scalar_one()
            rows = (await conn.execute(select(cases).where(*where).order_by(*order).offset(offset).limit(limit))
                    ).mappings().all()
            return [view_of_row(r) for r in rows], total
        # Overdue is decided by the policy at `now`, not by a column: filter the candidates here.
        narrowed = [*where, _OPEN] if overdue else where
        candidates = (await conn.execute(select(cases).where(*narrowed).order_by(*order))).mappings().all()
    rows = [r for r in candidates if _is_overdue(r, policy, now) == overdue]
    return [view_of_row(r) for r in rows[offset:offset + limit]], len(rows)


def _is_overdue(row, policy: DeadlinePolicy, now: datetime) -> bool:
    return any(d.open_overdue(now) for d in deadlines(_Row(row), policy))


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
    for row, deadline in await overdue_worklist(engine, CaseFilter(), policy, now):
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
