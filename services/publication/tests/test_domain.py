"""The disclosure's rules alone, without a database: the half-year of a moment, in Beijing's
calendar, and the rounding of the published percentages."""

from datetime import UTC, date, datetime

import pytest

from services.publication.domain import Disclosure, EvaluationResult, Period, percentage
from shared.contracts import CaseKind, Grade


@pytest.mark.parametrize(("moment", "period"), [
    (datetime(2026, 6, 30, 15, 59, tzinfo=UTC), "2026-H1"),  # 23:59 on 30 June in Beijing
    (datetime(2026, 6, 30, 16, 0, tzinfo=UTC), "2026-H2"),  # midnight, 1 July in Beijing
    (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), "2027-H1"),  # New Year in Beijing, still 2026 in UTC
    (datetime(2026, 6, 30, 16, 0), "2026-H2"),  # naive: taken as UTC, as the kernel writes it
])
def test_a_moment_belongs_to_the_half_year_of_its_beijing_day(moment, period):
    assert str(Period.of(moment)) == period


def test_a_period_reads_back_as_it_is_written_with_its_first_and_last_day():
    first, second = Period.parse("2026-H1"), Period.parse("2026-H2")
    assert (str(first), first.starts_on, first.ends_on) == ("2026-H1", date(2026, 1, 1), date(2026, 6, 30))
    assert (str(second), second.starts_on, second.ends_on) == (
        "2026-H2", date(2026, 7, 1), date(2026, 12, 31))
    assert first < second


def test_percentages_have_one_decimal_rounded_half_up_and_none_of_nothing():
    assert [percentage(1, 3), percentage(2, 3), percentage(1, 16), percentage(0, 5)] == [33.3, 66.7, 6.3, 0.0]
    assert percentage(0, 0) is None


def test_a_disclosure_is_dated_in_beijing_time():
    result = EvaluationResult(period="2026-H1", agency_id="a", case_number="FY-1", case_kind=CaseKind.civil,
                              grade=Grade.good, institution_name="所", handler_name="人")
    disclosure = Disclosure.of(Period.parse("2026-H1"), evaluations=[result], institutions=[], persons=[])
    assert disclosure.timezone == "Asia/Shanghai"
    assert (disclosure.summary.cases_evaluated, disclosure.summary.excellent_and_good_rate) == (1, 100.0)
