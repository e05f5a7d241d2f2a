"""The disclosure's rules alone, without a database: the half-year of a moment, in Beijing's
calendar, and the rounding of the published percentages."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.publication.domain import (
    ClosureNoted,
    Disclosure,
    DisclosureWorkflow,
    EvaluationResult,
    Period,
    Texts,
    changes_between,
    compose,
    number_of,
    percentage,
    scope_of,
)
from shared.aggregate import Conflict, Forbidden
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


@pytest.mark.parametrize(("text", "first", "last"), [
    ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)), ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30)),
    ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30)), ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
    ("2028-H1", date(2028, 1, 1), date(2028, 6, 30)),
])
def test_quarters_and_half_years_read_back_with_their_first_and_last_day(text, first, last):
    period = Period.parse(text)
    assert (str(period), period.starts_on, period.ends_on) == (text, first, last)
    assert period.contains(first) and period.contains(last)
    assert not period.contains(first - timedelta(days=1)) and not period.contains(last + timedelta(days=1))


def test_a_number_names_the_period_the_scope_and_the_version():
    assert number_of(scope_of("city", None), Period.parse("2026-H1"), 1) == "FY-2026H1-CITY-01"
    assert number_of(scope_of("agency", "chaoyang-centre"), Period.parse("2026-Q3"), 2) == (
        "FY-2026Q3-A-CHAOYANG-CENTRE-02")
    assert number_of(scope_of("district", "朝阳区"), Period.parse("2026-H2"), 1) == "FY-2026H2-D-朝阳区-01"


def _closure(n: int, ended: date, *, recorded: datetime) -> ClosureNoted:
    return ClosureNoted(case_id=f"c{n}", case_number=f"FY-{n}", case_kind=CaseKind.civil, district="朝阳区",
                        agency_id="a", institution_id="i", institution_name="所", handler_id="h",
                        handler_name="人", handler_kind="lawyer", ended_on=ended, closed_at=recorded)


def test_the_end_day_places_a_case_not_the_day_its_closure_was_recorded():
    closures = [_closure(1, date(2026, 6, 30), recorded=datetime(2026, 7, 2, 1, tzinfo=UTC)),
                _closure(2, date(2026, 7, 1), recorded=datetime(2026, 7, 1, 1, tzinfo=UTC))]

    def closed_in(period: str) -> list[str]:
        d = compose(scope_of("city", None), Period.parse(period), closures=closures, grades=[], payments=[],
                    texts=Texts(), target=None)
        return [f"{r.institution_id}:{r.total}" for r in d.tables.cases_per_institution.rows]

    assert (closed_in("2026-H1"), closed_in("2026-H2"), closed_in("2026-Q3")) == (["i:1"], ["i:1"], ["i:1"])


def test_a_correction_says_what_changed_row_by_row():
    scope, period = scope_of("city", None), Period.parse("2026-H1")
    one = [_closure(1, date(2026, 3, 1), recorded=datetime(2026, 3, 1, tzinfo=UTC))]
    two = [*one, _closure(2, date(2026, 3, 2), recorded=datetime(2026, 3, 2, tzinfo=UTC))]
    before, after = (compose(scope, period, closures=c, grades=[], payments=[], texts=Texts(), target=None)
                     for c in (one, two))
    changes = changes_between(before, after)
    assert "结案数由1变为2。" in changes and "民事结案数由1变为2。" in changes
    assert any(c.startswith("附件5法律服务机构所（a）由") for c in changes)
    assert changes_between(after, after) == []


def test_the_four_eyes_rule_and_a_correction_that_changes_nothing():
    workflow = DisclosureWorkflow("city|2026-H1")
    at = datetime(2026, 8, 1, tzinfo=UTC)
    workflow.submit(scope=scope_of("city", None), period=Period.parse("2026-H1"), cut_off=at, texts=Texts(),
                    target=70.0, by="clerk", at=at)
    with pytest.raises(Forbidden):
        workflow.approve(by="clerk", at=at, changes=[])
    assert workflow.approve(by="chief", at=at, changes=[]).number == "FY-2026H1-CITY-01"
    later = at + timedelta(days=1)
    workflow.submit(scope=scope_of("city", None), period=Period.parse("2026-H1"), cut_off=later,
                    texts=Texts(), target=70.0, by="clerk", at=later)
    with pytest.raises(Conflict):
        workflow.approve(by="chief", at=later, changes=[])


def test_a_returned_submission_is_not_published_and_can_be_submitted_again():
    workflow = DisclosureWorkflow("city|2026-Q3")
    at = datetime(2026, 10, 8, tzinfo=UTC)
    submit = dict(scope=scope_of("city", None), period=Period.parse("2026-Q3"), cut_off=at, texts=Texts(),
                  target=70.0, by="clerk", at=at)
    workflow.submit(**submit)
    with pytest.raises(Conflict):
        workflow.submit(**submit)
    workflow.return_(by="chief", reason="补贴未录完", at=at)
    with pytest.raises(Conflict):
        workflow.approve(by="chief", at=at, changes=[])
    workflow.submit(**submit)
    assert workflow.approve(by="chief", at=at, changes=[]).number == "FY-2026Q3-CITY-01"


def test_rows_made_without_validation_are_the_validated_rows():
    """compose makes annexes 4 and 7's rows without validating them again (Row.made_of): they must
    equal, copy and serialise exactly as the validated rows do."""
    values = dict(period="2026-H1", agency_id="chaoyang-centre", case_number="FY-2026-0000001",
                  case_kind=CaseKind.civil, grade=Grade.pass_, institution_name="法援律师事务所",
                  handler_name="张律师")
    validated = EvaluationResult(**values)
    [made] = EvaluationResult.made_of([dict(values)])
    assert made == validated
    assert made.model_dump_json() == validated.model_dump_json()
    assert made.model_fields_set == validated.model_fields_set
    copied = made.model_copy(update=dict(grade=Grade.good))
    assert copied.grade == Grade.good and made.grade == Grade.pass_
    assert copied.model_fields_set == validated.model_fields_set
