"""China's official working days: Monday to Friday, except the national holidays, plus the
make-up working days (调休) the State Council sets for each year in its annual notice.

One calendar, read from one place: the years loaded and their exceptional days (intake keeps
them in its `working_calendar_*` tables, which its SQL function reads as well). A year that was
never loaded is not guessed as Monday to Friday: counting into it raises `CalendarMissing`,
which the API answers with a 503 naming the year. Pure: no I/O, so `domain` modules may use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The SQLSTATE with which the SQL side refuses a year it does not have (intake's
# intake_add_working_days), so that the query layer can raise the same CalendarMissing.
MISSING_YEAR_SQLSTATE = "FYC01"


class CalendarMissing(LookupError):
    """A working day was asked of a year whose official arrangement is not loaded."""

    def __init__(self, year: int):
        super().__init__(f"China's official working days for {year} are not loaded")
        self.year = year


@dataclass(frozen=True)
class WorkingCalendar:
    """The years covered, and the days that are not what their weekday says: a holiday on a
    weekday (False) or a make-up working day on a weekend (True)."""

    years: frozenset[int]
    exceptions: Mapping[date, bool] = field(default_factory=dict)

    def is_working_day(self, day: date) -> bool:
        if day.year not in self.years:
            raise CalendarMissing(day.year)
        return self.exceptions.get(day, day.weekday() < 5)

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after `day` (`day` itself when n is 0)."""
        while n > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    @classmethod
    def of(cls, arrangements: Iterable[YearArrangement]) -> WorkingCalendar:
        years: set[int] = set()
        exceptions: dict[date, bool] = {}
        for arrangement in arrangements:
            years.add(arrangement.year)
            exceptions.update(arrangement.days())
        return cls(frozenset(years), exceptions)


class Holiday(BaseModel):
    """One holiday of the notice: its days off (both ends included, weekends among them) and the
    weekend days worked in exchange."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100, examples=["国庆节、中秋节"])
    first_day: date
    last_day: date
    make_up_working_days: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.last_day < self.first_day:
            raise ValueError("last_day is before first_day")
        if self.last_day - self.first_day > timedelta(days=31):
            raise ValueError("a holiday of more than a month")
        return self

    def days_off(self) -> list[date]:
        return [self.first_day + timedelta(days=d) for d in range((self.last_day - self.first_day).days + 1)]


class YearArrangement(BaseModel):
    """The State Council's arrangement of one year's holidays (国务院办公厅关于<year>年部分节假日安排
    的通知), the file an operator loads (docs/intake.md, Working days). Its days lie in that year
    or, for a holiday across the new year, in the days next to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    year: int = Field(ge=2000, le=2100)
    source: str = Field(min_length=1, max_length=500,
                        description="The notice it copies (title and number), or the library it came from")
    holidays: list[Holiday] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        off = [d for h in self.holidays for d in h.days_off()]
        worked = [d for h in self.holidays for d in h.make_up_working_days]
        days = off + worked
        if len(set(days)) != len(days):
            raise ValueError("a day is listed twice")
        if not all(self.covers(d) for d in days):
            raise ValueError(f"a day outside {self.year} (or the December before, the January after)")
        if any(d.weekday() < 5 for d in worked):
            raise ValueError("a make-up working day on a weekday")
        return self

    def covers(self, day: date) -> bool:
        return (day.year == self.year or (day.year == self.year - 1 and day.month == 12)
                or (day.year == self.year + 1 and day.month == 1))

    def days(self) -> dict[date, bool]:
        """Every day the arrangement names: False for a day off, True for a make-up working day."""
        named = {d: False for h in self.holidays for d in h.days_off()}
        named.update({d: True for h in self.holidays for d in h.make_up_working_days})
        return named


LIBRARY_NAMES = {  # chinese-calendar's names -> the names the State Council's notices use
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def library_arrangement(year: int) -> YearArrangement:
    """A year as chinese-calendar has it (the days of that year; a make-up working day goes with
    the holiday of its name), in the file format operators load; CalendarMissing if it lacks it."""
    import chinese_calendar  # type: ignore[import-untyped]  # the library ships no types
    from chinese_calendar import constants

    off = sorted((d, h) for d, h in constants.holidays.items() if d.year == year)
    worked = sorted((d, h) for d, h in constants.workdays.items() if d.year == year)
    if not off:
        raise CalendarMissing(year)
    runs: list[tuple[str, list[date]]] = []
    for day, name in off:
        if runs and runs[-1][0] == name and runs[-1][1][-1] == day - timedelta(days=1):
            runs[-1][1].append(day)
        else:
            runs.append((name, [day]))
    make_up: dict[int, list[date]] = {}
    for day, name in worked:
        same = [i for i, (run_name, _) in enumerate(runs) if run_name == name]
        if not same:
            raise ValueError(f"{day}: a make-up working day of {name} without its days off in {year}")
        nearest = min(same, key=lambda i: abs((runs[i][1][0] - day).days))
        make_up.setdefault(nearest, []).append(day)
    version = getattr(chinese_calendar, "__version__", "?")
    source = f"chinese-calendar {version} (the State Council's notice of {year})"
    return YearArrangement(year=year, source=source,
                           holidays=[Holiday(name=LIBRARY_NAMES[name], first_day=days[0], last_day=days[-1],
                                             make_up_working_days=make_up.get(i, []))
                                     for i, (name, days) in enumerate(runs)])
