"""The bar association's answers to a notice, and the bureau's reminders (pure: no I/O). Stream:
`bar-notice-<notice_id>`.

The notice itself is issued by the investigation (investigation.py, R-SAN-4); this aggregate
holds what follows it. The bar association answers as its procedure goes on (R-SAN-4, R-SAN-5):
received, investigation opened, then one decision: a discipline of one of the industry kinds, or
no violation found. Each kind of answer is recorded once (the same kind again, or the same
Idempotency-Key, is a replay and changes nothing); after a decision nothing else is recorded. A
notice with no answer at all `reminder_days` after it was issued is chased, and again every
`reminder_days` after the last reminder, until it is answered.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from shared.aggregate import Aggregate, Conflict, DomainEvent, Invalid
from shared.contracts.bar_association import DisciplineKind, OutcomeKind


class NoticeStatus(StrEnum):
    """Where the bar association's handling of a notice stands (its latest answer)."""

    awaiting_answer = "awaiting_answer"
    received = "received"
    investigating = "investigating"
    disciplined = "disciplined"
    no_violation = "no_violation"


STATUS_AFTER = {
    OutcomeKind.received: NoticeStatus.received,
    OutcomeKind.investigation_opened: NoticeStatus.investigating,
    OutcomeKind.discipline_decided: NoticeStatus.disciplined,
    OutcomeKind.no_violation_found: NoticeStatus.no_violation,
}


def status_after(outcome: OutcomeKind) -> NoticeStatus:
    return STATUS_AFTER[outcome]


class OutcomeChannel(StrEnum):
    event = "event"  # legalaid.bar-association.outcomes
    rest = "rest"  # POST /api/v1/bar-notices/{id}/outcomes


# --- events -------------------------------------------------------------------------------


class BarOutcomeRecorded(DomainEvent):
    notice_id: str
    outcome: OutcomeKind
    discipline: DisciplineKind | None
    decided_on: date | None
    reference: str | None
    channel: OutcomeChannel
    reported_by: str
    idempotency_key: str | None = None
    recorded_at: datetime


class BarNoticeReminded(DomainEvent):
    notice_id: str
    reminder: int
    reminded_at: datetime


# --- refusals -----------------------------------------------------------------------------


class InvalidOutcomeField(Invalid):
    """An answer that breaks the contract's rules; names the field (shared/http.py)."""

    rule = "R-SAN-4"

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class NoticeConcluded(Conflict):
    rule = "R-SAN-4"


class BarNotice(Aggregate):
    stream_prefix = "bar-notice"

    def __init__(self, id: str):
        super().__init__(id)
        self.outcomes: list[BarOutcomeRecorded] = []
        self.reminders: list[BarNoticeReminded] = []

    @property
    def answered(self) -> bool:
        return bool(self.outcomes)

    @property
    def status(self) -> NoticeStatus:
        return status_after(self.outcomes[-1].outcome) if self.outcomes else NoticeStatus.awaiting_answer

    @property
    def decision(self) -> BarOutcomeRecorded | None:
        return next((o for o in self.outcomes if o.outcome.concludes), None)

    def outcome_of(self, kind: OutcomeKind, idempotency_key: str | None = None) -> BarOutcomeRecorded | None:
        """The answer already recorded for this kind (or under this Idempotency-Key)."""
        return next((o for o in self.outcomes if o.outcome == kind
                     or (idempotency_key and o.idempotency_key == idempotency_key)), None)

    # commands

    def record_outcome(self, *, outcome: OutcomeKind, discipline: DisciplineKind | None,
                       decided_on: date | None, reference: str | None, channel: OutcomeChannel,
                       reported_by: str, at: datetime, idempotency_key: str | None = None) -> bool:
        """Record one answer; False when it is a replay (nothing recorded)."""
        if self.outcome_of(outcome, idempotency_key) is not None:
            return False
        if (discipline is not None) != (outcome == OutcomeKind.discipline_decided):
            raise InvalidOutcomeField("discipline", "give the discipline exactly when the outcome is "
                                                    "discipline_decided")
        if outcome.concludes and decided_on is None:
            raise InvalidOutcomeField("decided_on", f"required when the outcome is {outcome.value}")
        if decided_on is not None and decided_on > at.date() + timedelta(days=1):
            raise InvalidOutcomeField("decided_on", "a decision cannot be dated in the future")
        if (decision := self.decision) is not None:
            raise NoticeConcluded(f"the bar association already answered this notice with "
                                  f"{decision.outcome.value}; nothing follows a decision")
        self.record(BarOutcomeRecorded(notice_id=self.id, outcome=outcome, discipline=discipline,
                                       decided_on=decided_on, reference=reference, channel=channel,
                                       reported_by=reported_by, idempotency_key=idempotency_key,
                                       recorded_at=at))
        return True

    def reminder_due(self, *, issued_at: datetime, reminder_days: int, at: datetime) -> bool:
        """Unanswered `reminder_days` after the notice was issued, or after the last reminder."""
        if self.answered:
            return False
        since = self.reminders[-1].reminded_at if self.reminders else issued_at
        return at >= since + timedelta(days=reminder_days)

    def remind(self, *, issued_at: datetime, reminder_days: int, at: datetime) -> bool:
        """Chase the notice if a reminder is due; False when none is."""
        if not self.reminder_due(issued_at=issued_at, reminder_days=reminder_days, at=at):
            return False
        self.record(BarNoticeReminded(notice_id=self.id, reminder=len(self.reminders) + 1, reminded_at=at))
        return True

    # state changes

    def when_BarOutcomeRecorded(self, e: BarOutcomeRecorded) -> None:
        self.outcomes.append(e)

    def when_BarNoticeReminded(self, e: BarNoticeReminded) -> None:
        self.reminders.append(e)


BarNotice.handles(BarOutcomeRecorded, BarNoticeReminded)
