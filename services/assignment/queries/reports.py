"""The agency's reports: cases per handler and per institution in a month against the cap
(R-ASG-4), and how fair the rotation was against strict rotation (R-ASG-1). The files the agency
opens in Excel are written in adapters.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Integer, Text, column, func, literal, select, table, true
from sqlalchemy.dialects.postgresql import JSONB, JSONPATH
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.assignment.domain import CaseAssignment, HandlerAssigned
from services.assignment.projections import case_assignments, handler_month_counts, handlers, institutions
from services.assignment.queries import scope
from services.assignment.queries.rules import rules_of
from shared.auth import EVERY_AGENCY, AgencyScope
from shared.clock import local_date, local_month, month_bounds


class HandlerMonth(BaseModel):
    handler_id: str
    handler_name: str
    institution_id: str
    institution_name: str
    cases: int
    cap: int
    remaining: int


class InstitutionMonth(BaseModel):
    institution_id: str
    institution_name: str
    handlers: int
    cases: int


class MonthlyReport(BaseModel):
    month: str
    agency_id: str | None
    cap: int
    handlers: list[HandlerMonth]
    institutions: list[InstitutionMonth]


class FairnessRow(BaseModel):
    handler_id: str
    eligible_turns: int
    actual: int
    expected: float
    deviation: float


class FairnessReport(BaseModel):
    month: str
    agency_id: str | None
    decisions: int
    handlers: list[FairnessRow]


async def monthly_report(engine: AsyncEngine, *, month: str | None, agency_id: str | None, at: datetime,
                         default_cap: int, within: AgencyScope = EVERY_AGENCY) -> MonthlyReport:
    """Each handler's non-group cases in `month` (default: `at`'s month in Beijing) against the
    cap of the agency's rules in force on `at`'s day, else the service's `default_cap`; and each
    institution's total. Of the caller's agencies only (an agency's own by default)."""
    month = month or local_month(at)
    agency_id = agency_id or within.agency_id
    async with engine.connect() as conn:
        cap = (await rules_of(conn, agency_id or "")).cap_on(local_date(at), default_cap)
        rows = await _month_rows(conn, month, agency_id, await scope.agencies(conn, within))
    return monthly(month, agency_id, cap, rows)


async def fairness_report(engine: AsyncEngine, *, month: str | None, agency_id: str | None,
                          at: datetime, within: AgencyScope = EVERY_AGENCY) -> FairnessReport:
    """Per handler: the rotation decisions of `month` (default: `at`'s month in Beijing) they were
    eligible for, the cases they got, and what strict rotation would have given them. Of the
    caller's agencies only (an agency's own by default)."""
    month = month or local_month(at)
    start, end = month_bounds(month)
    agency_id = agency_id or within.agency_id
    async with engine.connect() as conn:
        decisions = await _rotation_decisions(conn, start, end, agency_id, await scope.agencies(conn, within))
    return fairness(month, agency_id, decisions)


async def _month_rows(conn: AsyncConnection, month: str, agency_id: str | None,
                      within: frozenset[str] | None) -> list[dict[str, Any]]:
    """Each handler (of the agency) with their non-group cases in `month`."""
    counts = select(handler_month_counts).where(handler_month_counts.c.month == month).subquery()
    query = (select(handlers.c.handler_id, handlers.c.name, handlers.c.institution_id,
                    institutions.c.name.label("institution_name"), counts.c.case_count.label("cases"))
             .join(institutions, institutions.c.institution_id == handlers.c.institution_id)
             .outerjoin(counts, counts.c.handler_id == handlers.c.handler_id)
             .order_by(handlers.c.registered_order))
    if agency_id:
        query = query.where(handlers.c.agency_id == agency_id)
    query = query.where(scope.of_agencies(handlers.c.agency_id, within))
    return [dict(r) for r in (await conn.execute(query)).mappings()]


_EVENTS = table("events", column("stream_id", Text), column("version", Integer), column("type", Text),
                column("data", JSONB))
_ELIGIBLE = "$[*] ? (@.eligible == true).handler_id"


def _eligible_when_assigned() -> Any:
    """The handlers the case's latest `HandlerAssigned` found eligible, in the order it considered
    them: from the event itself, as the read model keeps no decision's candidates (migration 0008)."""
    e = _EVENTS.c
    return (select(func.jsonb_path_query_array(e.data["candidates"], literal(_ELIGIBLE, JSONPATH),
                                               type_=JSONB).label("eligible"))
            .where(e.stream_id == literal(f"{CaseAssignment.stream_prefix}-") + case_assignments.c.case_id,
                   e.type == HandlerAssigned.event_type())
            .order_by(e.version.desc()).limit(1).lateral("decision"))


async def _rotation_decisions(conn: AsyncConnection, start: datetime, end: datetime,
                              agency_id: str | None, within: frozenset[str] | None) -> list[dict[str, Any]]:
    """The cases assigned by rotation in [start, end), with the handlers that decision found
    eligible (a case's row is assigned by rotation only while its latest decision is that)."""
    decision = _eligible_when_assigned()
    query = select(case_assignments.c.handler_id, decision.c.eligible).join(decision, true()).where(
        case_assignments.c.status == "assigned", case_assignments.c.method == "rotation",
        case_assignments.c.decided_at >= start, case_assignments.c.decided_at < end)
    if agency_id:
        query = query.where(case_assignments.c.agency_id == agency_id)
    query = query.where(scope.of_agencies(case_assignments.c.agency_id, within))
    return [dict(r) for r in (await conn.execute(query)).mappings()]


def monthly(month: str, agency_id: str | None, cap: int, rows: Iterable[Mapping[str, Any]]) -> MonthlyReport:
    """`rows`: one per handler of the pool with their non-group cases of the month (0 if none)."""
    handlers = [HandlerMonth(handler_id=r["handler_id"], handler_name=r["name"],
                             institution_id=r["institution_id"], institution_name=r["institution_name"],
                             cases=r["cases"] or 0, cap=cap, remaining=max(cap - (r["cases"] or 0), 0))
                for r in rows]
    per: dict[str, InstitutionMonth] = {}
    for h in handlers:
        row = per.setdefault(h.institution_id, InstitutionMonth(
            institution_id=h.institution_id, institution_name=h.institution_name, handlers=0, cases=0))
        row.handlers += 1
        row.cases += h.cases
    return MonthlyReport(month=month, agency_id=agency_id, cap=cap, handlers=handlers,
                         institutions=list(per.values()))


def fairness(month: str, agency_id: str | None, decisions: Sequence[Mapping[str, Any]]) -> FairnessReport:
    """`decisions`: each the handler assigned and those `eligible`. Strict rotation shares each
    rotation decision equally among those eligible for it: a
    handler's expected cases are the sum of 1/|eligible| over the decisions they were eligible
    for. Deviation = actual - expected; a fair rotation keeps it within about one case."""
    eligible_turns: dict[str, int] = defaultdict(int)
    expected: dict[str, float] = defaultdict(float)
    actual: dict[str, int] = defaultdict(int)
    for d in decisions:
        eligible = d["eligible"]
        for h in eligible:
            eligible_turns[h] += 1
            expected[h] += 1 / len(eligible)
        actual[d["handler_id"]] += 1
    ids = sorted(set(eligible_turns) | set(actual))
    return FairnessReport(month=month, agency_id=agency_id, decisions=len(decisions), handlers=[
        FairnessRow(handler_id=h, eligible_turns=eligible_turns[h], actual=actual[h],
                    expected=round(expected[h], 3), deviation=round(actual[h] - expected[h], 3))
        for h in ids])
