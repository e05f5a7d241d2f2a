"""China's official working days as intake keeps them (the `working_calendar_*` tables): the one
calendar the Python deadlines and the SQL function `intake_add_working_days` both read."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Row, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.projections import working_calendar_days, working_calendar_years
from shared.calendar import MISSING_YEAR_SQLSTATE, CalendarMissing, WorkingCalendar


class LoadedYear(BaseModel):
    """A year of the calendar: where it came from, who loaded it and when."""

    year: int
    source: str
    sha256: str | None
    loaded_by: str
    loaded_at: datetime
    holidays: int
    make_up_working_days: int


async def working_calendar(conn: AsyncConnection) -> WorkingCalendar:
    """The calendar as loaded now (a few hundred rows: read at each use, so a year an operator
    loads counts at once in every replica)."""
    years = (await conn.execute(select(working_calendar_years.c.year))).scalars().all()
    days = (await conn.execute(select(working_calendar_days.c.day, working_calendar_days.c.working))).all()
    return WorkingCalendar(frozenset(years), {d.day: d.working for d in days})


async def loaded_years(conn: AsyncConnection) -> list[LoadedYear]:
    y, d = working_calendar_years.c, working_calendar_days.c
    rows = (await conn.execute(select(working_calendar_years).order_by(y.year))).all()
    days = (await conn.execute(select(d.year, d.working))).all()
    return [LoadedYear(year=r.year, source=r.source, sha256=r.sha256, loaded_by=r.loaded_by,
                       loaded_at=r.loaded_at,
                       holidays=sum(1 for day in days if day.year == r.year and not day.working),
                       make_up_working_days=sum(1 for day in days if day.year == r.year and day.working))
            for r in rows]


async def source_of(conn: AsyncConnection, year: int) -> str | None:
    """Where the year loaded came from; None when it is not loaded."""
    source: str | None = (await conn.execute(
        select(working_calendar_years.c.source).where(working_calendar_years.c.year == year))).scalar()
    return source


async def days_named(conn: AsyncConnection, days: Iterable[date]) -> dict[date, Row[Any]]:
    """Of these days, those an arrangement already loaded names: whether it made them working
    days, and of which year's arrangement."""
    d = working_calendar_days.c
    rows = (await conn.execute(select(d.day, d.working, d.year).where(d.day.in_(list(days))))).all()
    return {r.day: r for r in rows}


_YEAR = re.compile(r"working days for (\d{4})")


@contextmanager
def missing_year_raised() -> Iterator[None]:
    """The SQL side's refusal of a year not loaded (intake_add_working_days) as the Python side's
    CalendarMissing, so that both answer alike."""
    try:
        yield
    except DBAPIError as error:
        found = _YEAR.search(str(error.orig))
        if getattr(error.orig, "sqlstate", None) == MISSING_YEAR_SQLSTATE and found:
            raise CalendarMissing(int(found.group(1))) from error
        raise
