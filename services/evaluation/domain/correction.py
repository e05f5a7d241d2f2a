"""Improvement after a peer evaluation (R-EVL-7): the findings go to the handler with a deadline
to correct the file, and the handler records the correction. A result with every indicator good
or better has nothing to correct. The deadline counts calendar days from the Beijing day of the
result (evaluation does not hold the official working-day calendar: intake does). The stream is
`correction-<evaluation_id>`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shared.aggregate import Aggregate, Conflict, DomainEvent, NotFound
from shared.clock import local_date
from shared.contracts import Grade, HandlerRef

GOOD_OR_BETTER = {Grade.excellent, Grade.good}


@dataclass(frozen=True)
class CorrectionPolicy:
    """R-EVL-7's configurable part: the days the handler has to correct the file."""

    days: int = 15


def to_correct(grade: Grade, indicators: Mapping[str, Grade]) -> list[str]:
    """The indicators to correct: those graded below good (every indicator when only the case's
    grade is below good, as a vetoed or points result may be); empty when nothing is below good."""
    below = [key for key, g in indicators.items() if Grade(g) not in GOOD_OR_BETTER]
    if not below and Grade(grade) not in GOOD_OR_BETTER:
        return list(indicators)
    return below


class CorrectionRequested(DomainEvent):
    correction_id: str
    evaluation_id: str
    case_id: str
    case_number: str
    agency_id: str
    handler: HandlerRef
    grade: Grade
    indicators: list[str]
    findings: str
    due_on: date
    requested_at: datetime


class CorrectionRecorded(DomainEvent):
    correction_id: str
    case_id: str
    handler_id: str
    note: str
    on_time: bool
    corrected_at: datetime


class AlreadyCorrected(Conflict):
    rule = "R-EVL-7"


class Correction(Aggregate):
    """The correction a result asks of the handler. Its id is the evaluation's id."""

    stream_prefix = "correction"

    def __init__(self, id: str):
        super().__init__(id)
        self.requested: CorrectionRequested | None = None
        self.recorded: CorrectionRecorded | None = None

    def request(self, *, case_id: str, case_number: str, agency_id: str, handler: HandlerRef, grade: Grade,
                indicators: Mapping[str, Grade], findings: str, policy: CorrectionPolicy,
                at: datetime) -> bool:
        """Ask the handler to correct what the result found below good, by `policy.days` calendar
        days after the result's Beijing day; False when there is nothing to correct or it was asked."""
        keys = to_correct(grade, indicators)
        if self.exists or not keys:
            return False
        self.record(CorrectionRequested(
            correction_id=self.id, evaluation_id=self.id, case_id=case_id, case_number=case_number,
            agency_id=agency_id, handler=handler, grade=grade, indicators=keys, findings=findings,
            due_on=local_date(at) + timedelta(days=policy.days), requested_at=at))
        return True

    def correct(self, *, handler_id: str | None, note: str, at: datetime) -> None:
        """The handler records what they corrected, once; late when after the due day."""
        requested = self.requested
        # Another handler's correction is answered as if it did not exist (docs/evaluation.md).
        if requested is None or handler_id is None or requested.handler.handler_id != handler_id:
            raise NotFound(f"no correction {self.id} asked of you")
        if self.recorded is not None:
            raise AlreadyCorrected(
                f"correction {self.id} was recorded on {local_date(self.recorded.corrected_at)}")
        self.record(CorrectionRecorded(
            correction_id=self.id, case_id=requested.case_id, handler_id=handler_id, note=note,
            on_time=local_date(at) <= requested.due_on, corrected_at=at))

    def when_CorrectionRequested(self, e: CorrectionRequested) -> None:
        self.requested = e

    def when_CorrectionRecorded(self, e: CorrectionRecorded) -> None:
        self.recorded = e


Correction.handles(CorrectionRequested, CorrectionRecorded)
