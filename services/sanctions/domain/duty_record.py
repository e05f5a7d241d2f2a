"""The legal-aid duty record of each lawyer and law firm, per calendar year (pure: no I/O).
Stream of a year's publication: `duty-record-<year>`.

R-SAN-5: the bar association counts legal-aid duty in its annual assessment. Sanctions keeps,
from the events it hears, one duty fact per thing that happened to a lawyer's case: assigned
(assignment's CaseAssigned), declined with a reason (HandlerDeclined), released on reassignment
or termination (HandlerReleased), completed (intake's CaseClosed), graded (evaluation's
EvaluationCompleted: excellent, good, pass or fail), sanctioned (a suspension from assignment,
or a discipline the bar association decided). A fact belongs to the Beijing calendar year of the
moment it names. The record of a year is the count of each kind per lawyer, and per firm (the
facts of its lawyers). Only lawyers and law firms have a duty record: the bar association's
members; volunteers' and grassroots workers' facts are kept for the commendation list.

The bureau publishes a finished year once (a command, not a year-end job: the last events of a
year may arrive days later, so the bureau chooses when the year is complete): each lawyer's and
firm's record then goes to the bar association as a DutyRecordPublished event.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from shared.aggregate import Aggregate, Conflict, DomainEvent, Invalid
from shared.clock import BEIJING
from shared.contracts import Grade


class DutyFact(StrEnum):
    assigned = "assigned"
    declined = "declined"
    released = "released"
    completed = "completed"
    graded = "graded"
    sanctioned = "sanctioned"


# The record's columns, in the order the files show them, and which fact (and grade) each counts.
COUNTED: dict[str, tuple[DutyFact, Grade | None]] = {
    "assigned": (DutyFact.assigned, None),
    "declined": (DutyFact.declined, None),
    "released": (DutyFact.released, None),
    "completed": (DutyFact.completed, None),
    "excellent": (DutyFact.graded, Grade.excellent),
    "good": (DutyFact.graded, Grade.good),
    "passed": (DutyFact.graded, Grade.pass_),
    "failed": (DutyFact.graded, Grade.fail),
    "sanctions": (DutyFact.sanctioned, None),
}

FIRST_YEAR = 2000


def year_of(moment: datetime) -> int:
    """The Beijing calendar year a fact belongs to."""
    return moment.astimezone(BEIJING).year


class DutyYearPublished(DomainEvent):
    year: int
    lawyers: int
    firms: int
    published_at: datetime


class YearNotOver(Invalid):
    rule = "R-SAN-5"


class YearAlreadyPublished(Conflict):
    rule = "R-SAN-5"


class DutyYear(Aggregate):
    """The publication of one year's duty records to the bar association."""

    stream_prefix = "duty-record"

    def __init__(self, id: str):
        super().__init__(id)
        self.publication: DutyYearPublished | None = None

    def publish(self, *, lawyers: int, firms: int, at: datetime) -> None:
        year = int(self.id)
        if year < FIRST_YEAR or year >= year_of(at):
            raise YearNotOver(f"year: {year} is not a finished year; publish a year after it ends")
        if self.publication is not None:
            raise YearAlreadyPublished(f"the duty records of {year} were already published")
        self.record(DutyYearPublished(year=year, lawyers=lawyers, firms=firms, published_at=at))

    def when_DutyYearPublished(self, e: DutyYearPublished) -> None:
        self.publication = e


DutyYear.handles(DutyYearPublished)
