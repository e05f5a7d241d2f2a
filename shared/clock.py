"""The one clock and the one zone of the system.

Times are stored and carried in UTC; the people who read them, and the rules that count days
and months (working days, the monthly cap, half-years), are in Beijing. Pure: no I/O, so
`domain.py` modules may import it. Services read "now" through `now()`; an HTTP route that
must be testable at another moment takes `ClockDep` (shared/deps.py), which tests override.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
"""The zone of every calendar rule (China has one zone; its IANA name is Asia/Shanghai)."""

Clock = Callable[[], datetime]


def now() -> datetime:
    """The present moment, in UTC."""
    return datetime.now(UTC)


def local_date(moment: datetime) -> date:
    """The Beijing calendar day of a moment."""
    return moment.astimezone(BEIJING).date()


def local_month(moment: datetime) -> str:
    """The Beijing calendar month of a moment, as YYYY-MM."""
    return moment.astimezone(BEIJING).strftime("%Y-%m")


def start_of_day(day: date) -> datetime:
    """The first moment of a Beijing calendar day."""
    return datetime.combine(day, time.min, tzinfo=BEIJING)


def end_of_day(day: date) -> datetime:
    """The first moment after a Beijing calendar day (an exclusive bound)."""
    return start_of_day(day + timedelta(days=1))


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a Beijing calendar month given as YYYY-MM."""
    year, m = (int(part) for part in month.split("-"))
    start = datetime(year, m, 1, tzinfo=BEIJING)
    end = datetime(year + (m == 12), m % 12 + 1, 1, tzinfo=BEIJING)
    return start, end
