"""Complaints of aided persons (pure: no I/O). Stream `complaint-<id>`.

Legal Aid Law arts. 55-57: an aided person may complain about the agency or the handler of
their case; the justice bureau handles the complaint and answers it in time (the answer is due
a configurable number of days after the complaint was received), and a complaint it finds
founded may open an investigation, the same investigation a failed case opens (R-SAN-3).

The complaint refers to its case by id and names nobody: the aided person's identity stays in
intake. Its text and the answer may still mention them, so they live here only, in the
complaint's own stream and read model; no integration event carries them.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from shared.aggregate import Aggregate, Conflict, DomainError, DomainEvent, Invalid, NotFound
from shared.clock import local_date


class ComplaintStatus(StrEnum):
    lodged = "lodged"
    answered = "answered"


class ComplaintLodged(DomainEvent):
    complaint_id: str
    case_id: str
    case_number: str
    agency_id: str
    bureau_id: str
    handler_id: str | None
    text: str
    received_on: date
    answer_due_on: date
    recorded_by: str
    recorded_at: datetime


class ComplaintAnswered(DomainEvent):
    answer: str
    answered_by: str
    answered_at: datetime


class ComplaintInvestigated(DomainEvent):
    """The complaint opened an investigation (R-SAN-3)."""

    investigation_id: str
    referred_by: str
    referred_at: datetime


class InvalidComplaint(Invalid):
    """A complaint that names a wrong value; `field` is the request field carrying it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class AlreadyAnswered(Conflict):
    pass


class AlreadyInvestigated(Conflict):
    rule = "R-SAN-3"


class Complaint(Aggregate):
    stream_prefix = "complaint"

    def __init__(self, id: str):
        super().__init__(id)
        self.lodging: ComplaintLodged | None = None
        self.answer: ComplaintAnswered | None = None
        self.investigation_id: str | None = None

    def lodge(self, *, case_id: str, case_number: str, agency_id: str, bureau_id: str, handler_id: str | None,
              text: str, received_on: date, answer_days: int, by: str, at: datetime) -> None:
        if self.exists:
            raise DomainError(f"complaint {self.id} is already lodged")
        if received_on > local_date(at):
            raise InvalidComplaint("received_on", "must not be in the future")
        self.record(ComplaintLodged(
            complaint_id=self.id, case_id=case_id, case_number=case_number, agency_id=agency_id,
            bureau_id=bureau_id, handler_id=handler_id, text=text, received_on=received_on,
            answer_due_on=date.fromordinal(received_on.toordinal() + answer_days), recorded_by=by,
            recorded_at=at))

    def _lodged(self) -> ComplaintLodged:
        if self.lodging is None:
            raise NotFound("no complaint with this complaint_id")
        return self.lodging

    def answer_it(self, *, answer: str, by: str, at: datetime) -> None:
        self._lodged()
        if self.answer is not None:
            raise AlreadyAnswered("the complaint was already answered")
        self.record(ComplaintAnswered(answer=answer, answered_by=by, answered_at=at))

    def refer_to_investigation(self, *, investigation_id: str, by: str, at: datetime) -> None:
        self._lodged()
        if self.investigation_id is not None:
            raise AlreadyInvestigated("the complaint already opened an investigation")
        self.record(ComplaintInvestigated(investigation_id=investigation_id, referred_by=by, referred_at=at))

    def when_ComplaintLodged(self, e: ComplaintLodged) -> None:
        self.lodging = e

    def when_ComplaintAnswered(self, e: ComplaintAnswered) -> None:
        self.answer = e

    def when_ComplaintInvestigated(self, e: ComplaintInvestigated) -> None:
        self.investigation_id = e.investigation_id


Complaint.handles(ComplaintLodged, ComplaintAnswered, ComplaintInvestigated)
