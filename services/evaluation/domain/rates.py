"""The excellent-and-good rate (优良率) of a group of results, and the target it is measured
against (R-EVL-8); a group below the target is flagged, which is how agencies push handlers to
work to the excellent-and-good standard (R-EVL-3). Periods are half-years of Beijing dates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import MAXYEAR, date
from decimal import ROUND_HALF_UP, Decimal

from shared.aggregate import Invalid

PERIOD_PATTERN = r"^([1-9]\d{3})-H([12])$"
PERIOD = re.compile(PERIOD_PATTERN)


def period_bounds(period: str) -> tuple[date, date]:
    """The first day of the half-year and the first day after it (2026-H1: 1 January to 1 July)."""
    found = PERIOD.match(period)
    if found is None:
        raise Invalid(f"period: a half-year such as 2026-H1 or 2026-H2, not {period!r}", rule="R-EVL-8")
    year, half = int(found[1]), int(found[2])
    if year == MAXYEAR and half == 2:
        # Its end, 1 January 10000, is no date Python can hold.
        raise Invalid(f"period: {period} ends past the last representable day", rule="R-EVL-8")
    return (date(year, 1, 1), date(year, 7, 1)) if half == 1 else (date(year, 7, 1), date(year + 1, 1, 1))


@dataclass(frozen=True)
class RateTargets:
    """The target rate per year, in %; a year without one keeps the latest earlier year's."""

    by_year: Mapping[int, Decimal]

    def for_period(self, period: str) -> Decimal | None:
        year = period_bounds(period)[0].year
        earlier = [y for y in self.by_year if y <= year]
        return Decimal(self.by_year[max(earlier)]) if earlier else None


@dataclass(frozen=True)
class GradeCounts:
    excellent: int = 0
    good: int = 0
    pass_: int = 0
    fail: int = 0

    @property
    def evaluated(self) -> int:
        return self.excellent + self.good + self.pass_ + self.fail

    @property
    def rate(self) -> Decimal | None:
        """Excellent and good in % of those evaluated, one decimal, half up (as published); None
        when none was evaluated."""
        if not self.evaluated:
            return None
        exact = Decimal(100 * (self.excellent + self.good)) / Decimal(self.evaluated)
        return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def below(self, target: Decimal | None) -> bool:
        """Below the target, compared exactly (66.66...% is below 66.7%, though it rounds to it)."""
        if target is None or not self.evaluated:
            return False
        return Decimal(100 * (self.excellent + self.good)) < target * self.evaluated
