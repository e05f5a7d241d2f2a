"""The pure rules of the bar association's loop and of recognition: answers to a notice
(R-SAN-4), reminders once per period, a year published once when over (R-SAN-5), the
commendation order and periods (R-SAN-6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.sanctions.domain import (
    BarNotice,
    CommendationList,
    DutyYear,
    InvalidOutcomeField,
    NoticeConcluded,
    NoticeStatus,
    OutcomeChannel,
    Period,
    Tally,
    ranked,
)
from services.sanctions.domain.commendation import InvalidPeriod, ListAlreadyConfirmed, PeriodNotOver
from services.sanctions.domain.duty_record import YearAlreadyPublished, YearNotOver
from shared.contracts import DisciplineKind, OutcomeKind

AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def answer(notice: BarNotice, outcome: OutcomeKind, **kw) -> bool:
    return notice.record_outcome(outcome=outcome, discipline=kw.get("discipline"),
                                 decided_on=kw.get("decided_on"), reference=None,
                                 channel=OutcomeChannel.rest, reported_by="bar", at=AT,
                                 idempotency_key=kw.get("key"))


def test_each_kind_of_answer_is_recorded_once_and_nothing_follows_a_decision():
    notice = BarNotice("n1")
    assert notice.status == NoticeStatus.awaiting_answer
    assert answer(notice, OutcomeKind.received) and not answer(notice, OutcomeKind.received)
    assert answer(notice, OutcomeKind.investigation_opened, key="k1")
    assert not answer(notice, OutcomeKind.no_violation_found, key="k1", decided_on=date(2026, 11, 19))
    assert notice.status == NoticeStatus.investigating
    with pytest.raises(InvalidOutcomeField) as missing:
        answer(notice, OutcomeKind.discipline_decided, decided_on=date(2026, 11, 19))
    assert missing.value.field == "discipline"
    with pytest.raises(InvalidOutcomeField) as future:
        answer(notice, OutcomeKind.no_violation_found, decided_on=date(2026, 12, 30))
    assert future.value.field == "decided_on"
    assert answer(notice, OutcomeKind.discipline_decided, discipline=DisciplineKind.expulsion,
                  decided_on=date(2026, 11, 19))
    assert notice.status == NoticeStatus.disciplined
    with pytest.raises(NoticeConcluded):
        answer(notice, OutcomeKind.no_violation_found, decided_on=date(2026, 11, 19))
    assert [e.outcome for e in notice.pending] == ["received", "investigation_opened", "discipline_decided"]


def test_an_unanswered_notice_is_reminded_once_per_period_until_answered():
    notice, issued = BarNotice("n1"), AT
    assert not notice.remind(issued_at=issued, reminder_days=30, at=issued + timedelta(days=29))
    assert notice.remind(issued_at=issued, reminder_days=30, at=issued + timedelta(days=30))
    assert not notice.remind(issued_at=issued, reminder_days=30, at=issued + timedelta(days=59))
    assert notice.remind(issued_at=issued, reminder_days=30, at=issued + timedelta(days=61))
    assert [r.reminder for r in notice.reminders] == [1, 2]
    answer(notice, OutcomeKind.received)
    assert not notice.remind(issued_at=issued, reminder_days=30, at=issued + timedelta(days=400))


def test_a_year_is_published_once_and_only_when_over():
    year = DutyYear("2026")
    with pytest.raises(YearNotOver):
        year.publish(lawyers=1, firms=1, at=datetime(2026, 12, 31, 15, 59, tzinfo=UTC))  # 23:59 in Beijing
    year.publish(lawyers=1, firms=1, at=datetime(2026, 12, 31, 16, 0, tzinfo=UTC))  # 2027-01-01 in Beijing
    with pytest.raises(YearAlreadyPublished):
        year.publish(lawyers=1, firms=1, at=datetime(2027, 2, 1, tzinfo=UTC))


def tally(subject_id: str, name: str, excellent: int, good: int, evaluated: int, failed: int) -> Tally:
    return Tally(subject_id=subject_id, name=name, institution_name=None, excellent=excellent, good=good,
                 evaluated=evaluated, failed=failed)


def test_the_commendation_order_is_excellent_then_rate_then_fewest_fails_then_name():
    tallies = [tally("1", "Zhang", 2, 0, 2, 0), tally("2", "Li", 3, 0, 10, 5), tally("3", "Wang", 2, 0, 4, 2),
               tally("4", "Chen", 2, 1, 4, 1), tally("5", "Bai", 2, 0, 2, 0), tally("6", "Ma", 0, 4, 4, 0)]
    assert [(e.rank, e.subject_id) for e in ranked(tallies)] == [
        (1, "2"), (2, "5"), (3, "1"), (4, "4"), (5, "3")]
    # Equal excellent counts and rates: the fewer fails come first.
    assert ranked([tally("a", "A", 1, 0, 2, 0), tally("b", "B", 1, 0, 2, 1)])[0].subject_id == "a"


def test_periods_are_years_or_half_years_and_confirmed_once_after_they_end():
    assert Period.parse("2026-H2").bounds()[0].month == 7 and str(Period.parse("2026")) == "2026"
    with pytest.raises(InvalidPeriod):
        Period.parse("2026-Q1")
    commendations = CommendationList("2026-H1")
    with pytest.raises(PeriodNotOver):
        commendations.confirm(handlers=[], institutions=[], confirmed_by="b",
                              at=datetime(2026, 6, 30, tzinfo=UTC))
    commendations.confirm(handlers=[tally("1", "A", 1, 0, 1, 0)], institutions=[], confirmed_by="b",
                          at=datetime(2026, 7, 1, tzinfo=UTC))
    assert commendations.confirmation is not None and commendations.confirmation.handlers[0].rank == 1
    with pytest.raises(ListAlreadyConfirmed):
        commendations.confirm(handlers=[], institutions=[], confirmed_by="b",
                              at=datetime(2026, 8, 1, tzinfo=UTC))
