"""The commendation priority list of a period (pure: no I/O). Stream: `commendation-list-<period>`.

R-SAN-6: handlers of excellent cases, and their institutions, come first in commendations. The
list of a period names every handler, and every institution, with at least one case graded
excellent in peer evaluations completed in the period, ordered by this rule:

1. more cases graded excellent first;
2. then the higher excellent-and-good rate (excellent + good over all evaluated cases);
3. then fewer cases graded fail;
4. then by name, then by id (so the order is total and reproducible).

Until the bureau confirms it, the list is a draft computed from the evaluations received so
far; confirming freezes it as it then reads (CommendationListConfirmed), once per period, after
the period has ended. A period is a calendar year (`2026`) or half-year (`2026-H1`, `2026-H2`),
Beijing time, as the bureau's disclosures are (R-PUB-1).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.aggregate import Aggregate, Conflict, DomainEvent, Invalid
from shared.clock import BEIJING
from shared.contracts.sanctions import CommendedEntry

RULE = "excellent desc, excellent_and_good_rate desc, failed asc, name asc, id asc"
# The years a case can have (shared.input_guard's plausible dates).
FIRST_YEAR, LAST_YEAR = 1900, 2199
PERIOD = re.compile(r"^(\d{4})(?:-H([12]))?$")


class InvalidPeriod(Invalid):
    rule = "R-SAN-6"


class PeriodNotOver(Invalid):
    rule = "R-SAN-6"


class ListAlreadyConfirmed(Conflict):
    rule = "R-SAN-6"


@dataclass(frozen=True)
class Period:
    year: int
    half: int | None  # None: the whole year

    @classmethod
    def parse(cls, text: str) -> Period:
        match = PERIOD.match(text)
        if match is None:
            raise InvalidPeriod("period: a year (2026) or a half-year (2026-H1, 2026-H2)")
        if not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:  # year 0000 or 9999+1 has no calendar
            raise InvalidPeriod(f"period: a year from {FIRST_YEAR} to {LAST_YEAR}")
        return cls(int(match[1]), int(match[2]) if match[2] else None)

    def __str__(self) -> str:
        return f"{self.year}" if self.half is None else f"{self.year}-H{self.half}"

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in Beijing time."""
        if self.half is None:
            return datetime(self.year, 1, 1, tzinfo=BEIJING), datetime(self.year + 1, 1, 1, tzinfo=BEIJING)
        if self.half == 1:
            return datetime(self.year, 1, 1, tzinfo=BEIJING), datetime(self.year, 7, 1, tzinfo=BEIJING)
        return datetime(self.year, 7, 1, tzinfo=BEIJING), datetime(self.year + 1, 1, 1, tzinfo=BEIJING)


@dataclass(frozen=True)
class Tally:
    """One handler's or institution's evaluations in the period."""

    subject_id: str
    name: str
    institution_name: str | None
    excellent: int
    good: int
    evaluated: int
    failed: int

    @property
    def excellent_and_good_rate(self) -> float:
        return round((self.excellent + self.good) / self.evaluated, 4) if self.evaluated else 0.0


def ranked(tallies: Sequence[Tally]) -> list[CommendedEntry]:
    """The priority list by RULE: those with at least one excellent case, in order."""
    def order(t: Tally) -> tuple[int, float, int, str, str]:
        return -t.excellent, -t.excellent_and_good_rate, t.failed, t.name, t.subject_id

    eligible = sorted((t for t in tallies if t.excellent > 0), key=order)
    return [CommendedEntry(rank=n, subject_id=t.subject_id, name=t.name, institution_name=t.institution_name,
                           excellent=t.excellent, evaluated=t.evaluated,
                           excellent_and_good_rate=t.excellent_and_good_rate, failed=t.failed)
            for n, t in enumerate(eligible, start=1)]


class CommendationListConfirmed(DomainEvent):
    period: str
    rule: str
    handlers: list[CommendedEntry]
    institutions: list[CommendedEntry]
    confirmed_by: str
    confirmed_at: datetime


class CommendationList(Aggregate):
    stream_prefix = "commendation-list"

    def __init__(self, id: str):
        super().__init__(id)
        self.confirmation: CommendationListConfirmed | None = None

    def confirm(self, *, handlers: Sequence[Tally], institutions: Sequence[Tally], confirmed_by: str,
                at: datetime) -> None:
        period = Period.parse(self.id)
        if at < period.bounds()[1]:
            raise PeriodNotOver(f"period: {period} has not ended; confirm its list after it ends")
        if self.confirmation is not None:
            raise ListAlreadyConfirmed(f"the commendation list of {period} was already confirmed")
        self.record(CommendationListConfirmed(period=str(period), rule=RULE, handlers=ranked(handlers),
                                              institutions=ranked(institutions), confirmed_by=confirmed_by,
                                              confirmed_at=at))

    def when_CommendationListConfirmed(self, e: CommendationListConfirmed) -> None:
        self.confirmation = e


CommendationList.handles(CommendationListConfirmed)
