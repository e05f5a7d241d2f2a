"""The legal-aid case (pure: no I/O). Its stream is `case-<id>`.

A case is registered, assigned (assignment decides; intake folds the decision in), its handling
recorded entry by entry, and closed. The aided person's data, and the adverse parties', live
only in this service's store, never in integration events (adverse parties leave as keyed hashes).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from services.intake.closing import ClosingChecklist, FollowUpChannel, Satisfaction, TerminationReason
from services.intake.record import WorkEntry
from shared.aggregate import Aggregate, DomainError, DomainEvent
from shared.contracts import CaseFlags, CaseKind, HandlerRef
from shared.contracts.intake import CriminalRole, CriminalStage, Matter

# Which matters each kind of case may have (glossary: 民事 / 行政; the non-litigation ones are
# the matters settled outside a lawsuit).
MATTERS_BY_KIND: dict[CaseKind, frozenset[Matter]] = {
    CaseKind.criminal: frozenset(),
    CaseKind.civil: frozenset({Matter.civil_litigation, Matter.enforcement, Matter.labour_arbitration,
                               Matter.mediation}),
    CaseKind.administrative: frozenset({Matter.administrative_lawsuit, Matter.administrative_review,
                                        Matter.state_compensation}),
    CaseKind.non_litigation: frozenset({Matter.mediation, Matter.labour_arbitration, Matter.administrative_review,
                                        Matter.state_compensation}),
}


class CaseStatus(StrEnum):
    registered = "registered"
    assigned = "assigned"
    closed = "closed"
    terminated = "terminated"  # aid ended for a legal reason before the case did
    archived = "archived"  # the closing check passed and the file is archived


class AidedPerson(BaseModel):
    """受援人. Personal data: stays in intake's store."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(pattern=r"^\d{17}[\dX]$", description="Resident ID number (18 characters)")
    phone: str | None = Field(default=None, pattern=r"^1\d{10}$")
    address: str | None = Field(default=None, max_length=200)


class AdverseParty(BaseModel):
    """对方当事人. Personal data: stays in intake's store; others see only a keyed hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100)
    id_number: str | None = Field(default=None, min_length=1, max_length=50,
                                  description="ID number, or unified social credit code of an organisation")


class CaseType(BaseModel):
    """What kind of legal-aid case it is: criminal by stage and role, or the matter of a civil,
    administrative or non-litigation case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_kind: CaseKind
    criminal_stage: CriminalStage | None = None
    criminal_role: CriminalRole | None = None
    matter: Matter | None = None

    def check(self) -> None:
        if self.case_kind == CaseKind.criminal:
            if self.matter is not None:
                raise DomainError("a criminal case has a stage and a role, not a matter", status=422)
        elif self.criminal_stage is not None or self.criminal_role is not None:
            raise DomainError(f"a {self.case_kind} case has no criminal stage or role", status=422)
        elif self.matter is not None and self.matter not in MATTERS_BY_KIND[self.case_kind]:
            raise DomainError(f"{self.matter} is not a matter of a {self.case_kind} case", status=422)


# --- events -------------------------------------------------------------------------------


class CaseRegistered(DomainEvent):
    case_id: str
    case_number: str
    case_kind: CaseKind
    cause: str
    district: str
    agency_id: str
    flags: CaseFlags
    aided_person: AidedPerson
    registered_at: datetime
    criminal_stage: CriminalStage | None = None
    criminal_role: CriminalRole | None = None
    matter: Matter | None = None
    source_system: str | None = None
    external_reference: str | None = None
    registered_by: str | None = None
    adverse_parties: list[AdverseParty] = []


class HandlerAssigned(DomainEvent):
    handler: HandlerRef
    method: str
    assigned_at: datetime


class WorkRecorded(DomainEvent):
    """An entry of the handling record: what was done, when, and by whom."""

    entry_id: str
    author_id: str
    occurred_at: datetime
    entry: WorkEntry
    recorded_at: datetime


class ClosingFileSubmitted(DomainEvent):
    checklist: ClosingChecklist
    submitted_by: str
    submitted_at: datetime


class ReassignmentRequested(DomainEvent):
    """The aided person asked for another handler (with their reason)."""

    reason: str
    requested_by: str
    requested_at: datetime


class AidTerminated(DomainEvent):
    reason: TerminationReason
    details: str | None = None
    terminated_by: str
    terminated_at: datetime


class ClosingChecked(DomainEvent):
    """结案收卷质量检查 (R-CHK-1): the agency's designated checker on the closing file."""

    checker_id: str
    passed: bool
    remarks: str | None = None
    checked_at: datetime


class CaseArchived(DomainEvent):
    archived_by: str
    archived_at: datetime


class FollowUpRecorded(DomainEvent):
    """回访 (R-HDL-8). The remarks may be personal: they stay here."""

    follow_up_id: str
    visited_on: date
    channel: FollowUpChannel
    satisfaction: Satisfaction
    remarks: str | None = None
    visited_by: str
    recorded_at: datetime


class DeadlineMissed(DomainEvent):
    """A time limit of the case passed unmet (R-HDL-6, R-ASG-9), noticed by the deadline sweep."""

    deadline: str
    rule: str
    due_at: datetime
    noticed_at: datetime


class CaseClosed(DomainEvent):
    outcome: str
    ended_on: date
    closed_at: datetime
    closed_by: str | None = None


# --- the aggregate ------------------------------------------------------------------------


class NotAssigned(DomainError):
    status = 409


class AlreadyClosed(DomainError):
    status = 409


class CaseNotClosed(DomainError):
    status = 409


class NotOpen(DomainError):
    status = 409


class ClosingCheckPending(DomainError):
    status = 409


class Case(Aggregate):
    stream_prefix = "case"

    def __init__(self, id: str):
        super().__init__(id)
        self.status: CaseStatus | None = None
        self.registration: CaseRegistered | None = None
        self.handler: HandlerRef | None = None
        self.assigned_at: datetime | None = None
        self.closure: CaseClosed | None = None
        self.record_entries: list[WorkRecorded] = []
        self.closing_file: ClosingFileSubmitted | None = None
        self.closing_check: ClosingChecked | None = None
        self.termination: AidTerminated | None = None
        self.reassignment_requests: list[ReassignmentRequested] = []
        self.follow_ups: list[FollowUpRecorded] = []
        self.archived_at: datetime | None = None
        self.missed: set[str] = set()

    # commands

    def register(self, *, case_number: str, case_type: CaseType, cause: str, district: str, agency_id: str,
                 flags: CaseFlags, aided_person: AidedPerson, at: datetime, source_system: str | None = None,
                 external_reference: str | None = None, registered_by: str | None = None,
                 adverse_parties: list[AdverseParty] | None = None) -> None:
        if self.exists:
            raise DomainError(f"case {self.id} is already registered")
        case_type.check()
        if (source_system is None) != (external_reference is None):
            raise DomainError("a notification names both its source system and its external reference", status=422)
        self.record(CaseRegistered(case_id=self.id, case_number=case_number, cause=cause, district=district,
                                   agency_id=agency_id, flags=flags, aided_person=aided_person, registered_at=at,
                                   source_system=source_system, external_reference=external_reference,
                                   registered_by=registered_by, adverse_parties=adverse_parties or [],
                                   **case_type.model_dump()))

    def assign(self, *, handler: HandlerRef, method: str, at: datetime) -> None:
        if self.status in (CaseStatus.closed, CaseStatus.archived, CaseStatus.terminated):
            raise AlreadyClosed(f"case {self.id} is {self.status}; it cannot be assigned")
        if self.handler == handler:
            return  # the same decision told twice changes nothing
        self.record(HandlerAssigned(handler=handler, method=method, assigned_at=at))

    def record_work(self, *, entry_id: str, author_id: str, occurred_at: datetime, entry: WorkEntry,
                    at: datetime) -> None:
        """Add an entry to the handling record: from assignment on (the file is kept after closure)."""
        if self.handler is None:
            raise NotAssigned(f"case {self.id} has no handler yet; its handling record opens at assignment")
        if self.status == CaseStatus.archived:
            raise NotOpen(f"case {self.id} is archived; its record is closed")
        if occurred_at > at:
            raise DomainError("occurred_at is in the future", status=422)
        if any(e.entry_id == entry_id for e in self.record_entries):
            return  # the same entry sent twice is recorded once
        self.record(WorkRecorded(entry_id=entry_id, author_id=author_id, occurred_at=occurred_at, entry=entry,
                                 recorded_at=at))

    def close(self, *, outcome: str, ended_on: date, at: datetime, closed_by: str | None = None) -> None:
        if self.status in (CaseStatus.closed, CaseStatus.archived):
            raise AlreadyClosed(f"case {self.id} is already closed")
        if self.status == CaseStatus.terminated:
            raise NotOpen(f"case {self.id}'s aid was terminated; it cannot be closed")
        if self.handler is None:
            raise NotAssigned(f"case {self.id} has no handler yet; only an assigned case can be closed")
        self.record(CaseClosed(outcome=outcome, ended_on=ended_on, closed_at=at, closed_by=closed_by))

    def submit_closing_file(self, *, checklist: ClosingChecklist, submitted_by: str, at: datetime) -> None:
        """The handler hands in the closing file after the case ended (R-HDL-5, R-HDL-6)."""
        if self.status != CaseStatus.closed:
            raise CaseNotClosed(f"case {self.id} has not ended; the closing file follows closure")
        if self.closing_file is not None:
            raise DomainError(f"the closing file of case {self.id} was already submitted")
        self.record(ClosingFileSubmitted(checklist=checklist, submitted_by=submitted_by, submitted_at=at))

    def request_reassignment(self, *, reason: str, requested_by: str, at: datetime) -> None:
        if self.status != CaseStatus.assigned:
            raise NotOpen(f"case {self.id} is {self.status}; only a case with a handler can be reassigned")
        self.record(ReassignmentRequested(reason=reason, requested_by=requested_by, requested_at=at))

    def terminate(self, *, reason: TerminationReason, details: str | None, terminated_by: str, at: datetime) -> None:
        if self.status not in (CaseStatus.registered, CaseStatus.assigned):
            raise NotOpen(f"case {self.id} is {self.status}; only an open case's aid can be terminated")
        self.record(AidTerminated(reason=reason, details=details, terminated_by=terminated_by, terminated_at=at))

    def check_closing_file(self, *, checker_id: str, passed: bool, remarks: str | None, at: datetime) -> None:
        """R-CHK-1: a designated person of the agency checks the closing file."""
        if self.closing_file is None:
            raise CaseNotClosed(f"case {self.id} has no closing file to check yet")
        if self.status == CaseStatus.archived:
            raise NotOpen(f"case {self.id} is archived")
        self.record(ClosingChecked(checker_id=checker_id, passed=passed, remarks=remarks, checked_at=at))

    def archive(self, *, archived_by: str, at: datetime) -> None:
        """归档: only after the closing check passed."""
        if self.status == CaseStatus.archived:
            return
        if self.closing_check is None or not self.closing_check.passed:
            raise ClosingCheckPending(f"case {self.id}'s closing file has not passed its check")
        self.record(CaseArchived(archived_by=archived_by, archived_at=at))

    def follow_up(self, *, follow_up_id: str, visited_on: date, channel: FollowUpChannel, satisfaction: Satisfaction,
                  remarks: str | None, visited_by: str, at: datetime) -> bool:
        """R-HDL-8: during or after the case, once it has a handler. False when already recorded."""
        if self.handler is None:
            raise NotAssigned(f"case {self.id} has no handler yet; there is no service to ask about")
        if any(f.follow_up_id == follow_up_id for f in self.follow_ups):
            return False
        self.record(FollowUpRecorded(follow_up_id=follow_up_id, visited_on=visited_on, channel=channel,
                                     satisfaction=satisfaction, remarks=remarks, visited_by=visited_by,
                                     recorded_at=at))
        return True

    def miss_deadline(self, *, deadline: str, rule: str, due_at: datetime, at: datetime) -> None:
        """Record a missed time limit, once per deadline."""
        if deadline not in self.missed:
            self.record(DeadlineMissed(deadline=deadline, rule=rule, due_at=due_at, noticed_at=at))

    # state changes

    def when_CaseRegistered(self, e: CaseRegistered) -> None:
        self.status = CaseStatus.registered
        self.registration = e

    def when_HandlerAssigned(self, e: HandlerAssigned) -> None:
        self.status = CaseStatus.assigned
        self.handler = e.handler
        self.assigned_at = e.assigned_at

    def when_WorkRecorded(self, e: WorkRecorded) -> None:
        self.record_entries.append(e)

    def when_ClosingFileSubmitted(self, e: ClosingFileSubmitted) -> None:
        self.closing_file = e

    def when_ReassignmentRequested(self, e: ReassignmentRequested) -> None:
        self.reassignment_requests.append(e)

    def when_AidTerminated(self, e: AidTerminated) -> None:
        self.status = CaseStatus.terminated
        self.termination = e

    def when_ClosingChecked(self, e: ClosingChecked) -> None:
        self.closing_check = e

    def when_CaseArchived(self, e: CaseArchived) -> None:
        self.status = CaseStatus.archived
        self.archived_at = e.archived_at

    def when_DeadlineMissed(self, e: DeadlineMissed) -> None:
        self.missed.add(e.deadline)

    def when_FollowUpRecorded(self, e: FollowUpRecorded) -> None:
        self.follow_ups.append(e)

    def when_CaseClosed(self, e: CaseClosed) -> None:
        self.status = CaseStatus.closed
        self.closure = e

Case.handles(CaseRegistered, HandlerAssigned, WorkRecorded, CaseClosed, ClosingFileSubmitted, ReassignmentRequested,
             AidTerminated, ClosingChecked, CaseArchived, FollowUpRecorded, DeadlineMissed)
