"""The legal-aid case (pure: no I/O). Its stream is `case-<id>`.

A case is registered, assigned (assignment decides; intake folds the decision in), its handling
recorded entry by entry, and closed. The aided person's data, and the adverse parties', live
only in this service's store, sealed (domain.people.SealedPerson), never in integration events (they
leave as keyed hashes).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from services.intake.domain.checklists import CaseEvidence, Checklist, verdict
from services.intake.domain.closing import ClosingChecklist, FollowUpChannel, Satisfaction, TerminationReason
from services.intake.domain.events import (
    AidTerminated,
    CaseArchived,
    CaseClosed,
    CaseRegistered,
    ClosingChecked,
    ClosingCheckSignedOff,
    ClosingFileSubmitted,
    DeadlineMissed,
    FollowUpRecorded,
    HandlerAssigned,
    NextStageRegistered,
    ReassignmentAccepted,
    ReassignmentRequested,
    WorkRecorded,
)
from services.intake.domain.people import SealedPerson, under_18
from services.intake.domain.record import WorkEntry
from shared.aggregate import Aggregate, Conflict, DomainError, Forbidden, Invalid, NotFound
from shared.clock import local_date
from shared.contracts import CaseFlags, CaseKind, HandlerRef
from shared.contracts.intake import CriminalRole, CriminalStage, Matter, ReassignmentReason

# The order of a criminal case's stages: a next stage must come later (R-HDL-7).
STAGE_ORDER: tuple[CriminalStage, ...] = tuple(CriminalStage)

# Which matters each kind of case may have (glossary: 民事 / 行政; the non-litigation ones are
# the matters settled outside a lawsuit).
MATTERS_BY_KIND: dict[CaseKind, frozenset[Matter]] = {
    CaseKind.criminal: frozenset(),
    CaseKind.civil: frozenset({Matter.civil_litigation, Matter.enforcement, Matter.labour_arbitration,
                               Matter.mediation}),
    CaseKind.administrative: frozenset({Matter.administrative_lawsuit, Matter.administrative_review,
                                        Matter.state_compensation}),
    CaseKind.non_litigation: frozenset({Matter.mediation, Matter.labour_arbitration,
                                        Matter.administrative_review, Matter.state_compensation}),
}


class CaseStatus(StrEnum):
    registered = "registered"
    assigned = "assigned"
    closed = "closed"
    terminated = "terminated"  # aid ended for a legal reason before the case did
    archived = "archived"  # the closing check passed and the file is archived

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
                raise Invalid("a criminal case has a stage and a role, not a matter")
        elif self.criminal_stage is not None or self.criminal_role is not None:
            raise Invalid(f"a {self.case_kind} case has no criminal stage or role")
        elif self.matter is not None and self.matter not in MATTERS_BY_KIND[self.case_kind]:
            raise Invalid(f"{self.matter} is not a matter of a {self.case_kind} case")

# --- the aggregate ------------------------------------------------------------------------


class NotAssigned(Conflict):
    pass


class ImplausibleEndDate(Invalid):
    """A closure's end date before the case was registered, or a day after today (a closure's
    end, a follow-up's visit)."""


class AlreadyClosed(Conflict):
    pass


class CaseNotClosed(Conflict):
    pass


class NotOpen(Conflict):
    pass


class ClosingCheckPending(Conflict):
    pass


class SignOffPending(Conflict):
    rule = "R-CHK-2"


class NotANextStage(Invalid):
    rule = "R-HDL-7"


class HandlerMayNotCheck(Forbidden):
    """The case's handler (now or before) checks nobody's work on it: not the file, not the sign-off."""

    rule = "R-CHK-1"


class WrongChecklist(Invalid):
    rule = "R-CHK-1"


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
        self.missed: set[tuple[str, datetime]] = set()
        self.reassigned_at: datetime | None = None
        self.entries_before_change = 0  # the new handler's deadlines are met by work recorded after it
        self.accepted_request: ReassignmentAccepted | None = None  # until the new handler comes
        self.next_stage: NextStageRegistered | None = None
        self.sign_off: ClosingCheckSignedOff | None = None
        self.handler_ids: set[str] = set()  # every handler the case has had (R-CHK-1, R-CHK-2)

    # commands

    def register(self, *, case_number: str, case_type: CaseType, cause: str, district: str, agency_id: str,
                 flags: CaseFlags, aided_person: SealedPerson, at: datetime, born_on: date | None = None,
                 source_system: str | None = None, external_reference: str | None = None,
                 registered_by: str | None = None, adverse_parties: list[SealedPerson] | None = None,
                 previous_case_id: str | None = None, aided_person_hash: str | None = None,
                 adverse_party_hashes: list[str] | None = None) -> None:
        """`born_on`: the birth date the aided person's ID number carries, read before it was
        sealed; it decides the minor flag and is not recorded."""
        if self.exists:
            raise DomainError(f"case {self.id} is already registered")
        case_type.check()
        if flags.possible_death_penalty_or_life_imprisonment and case_type.case_kind != CaseKind.criminal:
            raise Invalid("only a criminal case can carry a possible death penalty or life imprisonment")
        # R-ASG-8: a minor is known from the ID number's birth date on the day of registration.
        flags = flags.model_copy(update={"minor": flags.minor or under_18(born_on, local_date(at))})
        if (source_system is None) != (external_reference is None):
            raise Invalid("a notification names both its source system and its external reference")
        self.record(CaseRegistered(case_id=self.id, case_number=case_number, cause=cause, district=district,
                                   agency_id=agency_id, flags=flags, aided_person=aided_person,
                                   registered_at=at, source_system=source_system,
                                   external_reference=external_reference, registered_by=registered_by,
                                   adverse_parties=adverse_parties or [], previous_case_id=previous_case_id,
                                   aided_person_hash=aided_person_hash,
                                   adverse_party_hashes=adverse_party_hashes or [], **case_type.model_dump()))

    def assign(self, *, handler: HandlerRef, method: str, at: datetime) -> None:
        if self.status in (CaseStatus.closed, CaseStatus.archived, CaseStatus.terminated):
            raise AlreadyClosed(f"case {self.id} is {self.status}; it cannot be assigned")
        if self.handler == handler:
            return  # the same decision told twice changes nothing
        if self.assigned_at is not None and at <= self.assigned_at:
            return  # an older decision than the one in force, told late
        self.record(HandlerAssigned(handler=handler, method=method, assigned_at=at,
                                    previous_handler=self.handler))

    def register_next_stage(self, *, next_case_id: str, next_case_number: str, stage: CriminalStage,
                            at: datetime) -> None:
        """R-HDL-7: link this case to the case of its next stage (registered beside it)."""
        r = self.registration
        assert r is not None
        if r.case_kind != CaseKind.criminal:
            raise NotANextStage(f"case {self.id} is a {r.case_kind} case; only criminal cases move to a next "
                                "stage")
        if self.next_stage is not None:
            raise DomainError(f"case {self.id} already moved to {self.next_stage.criminal_stage} as case "
                              f"{self.next_stage.next_case_number}", rule="R-HDL-7")
        if self.status not in (CaseStatus.closed, CaseStatus.archived):
            raise CaseNotClosed(f"case {self.id} is {self.status}; its stage must end (closure) before the "
                                "next one", rule="R-HDL-7")
        if r.criminal_stage is not None and STAGE_ORDER.index(stage) <= STAGE_ORDER.index(r.criminal_stage):
            raise NotANextStage(f"{stage} does not come after {r.criminal_stage}")
        self.record(NextStageRegistered(next_case_id=next_case_id, next_case_number=next_case_number,
                                        criminal_stage=stage, registered_at=at))

    def record_work(self, *, entry_id: str, author_id: str, occurred_at: datetime, entry: WorkEntry,
                    at: datetime) -> None:
        """Add an entry to the handling record: from assignment on (the file is kept after closure)."""
        if self.handler is None:
            raise NotAssigned(f"case {self.id} has no handler yet; its handling record opens at assignment")
        if self.status == CaseStatus.archived:
            raise NotOpen(f"case {self.id} is archived; its record is closed")
        if occurred_at > at:
            raise Invalid("occurred_at is in the future")
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
        registered_on = local_date(self.registration.registered_at) if self.registration else None
        if registered_on is not None and ended_on < registered_on:
            raise ImplausibleEndDate(f"ended_on: the case ended on {ended_on}, before it was registered "
                                     f"({registered_on}, Beijing time)")
        if ended_on > local_date(at):
            raise ImplausibleEndDate(f"ended_on: {ended_on} is in the future (today is {local_date(at)}, "
                                     "Beijing time); a case is closed once it has ended")
        self.record(CaseClosed(outcome=outcome, ended_on=ended_on, closed_at=at, closed_by=closed_by))

    def submit_closing_file(self, *, checklist: ClosingChecklist, submitted_by: str, at: datetime) -> None:
        """The handler hands in the closing file after the case ended (R-HDL-5, R-HDL-6)."""
        if self.status != CaseStatus.closed:
            raise CaseNotClosed(f"case {self.id} has not ended; the closing file follows closure")
        if self.closing_file is not None:
            raise DomainError(f"the closing file of case {self.id} was already submitted")
        self.record(ClosingFileSubmitted(checklist=checklist, submitted_by=submitted_by, submitted_at=at))

    def request_reassignment(self, *, request_id: str, reason: str, category: ReassignmentReason,
                             requested_by: str, at: datetime) -> None:
        if self.status != CaseStatus.assigned:
            raise NotOpen(f"case {self.id} is {self.status}; only a case with a handler can be reassigned")
        if any(r.request_id == request_id for r in self.reassignment_requests):
            return
        self.record(ReassignmentRequested(request_id=request_id, reason=reason, category=category,
                                          requested_by=requested_by, requested_at=at))

    def accept_reassignment(self, *, request_id: str, accepted_by: str,
                            at: datetime) -> ReassignmentRequested:
        """The agency accepts the aided person's request; the handler stays until assignment names
        the next one."""
        request = next((r for r in self.reassignment_requests if r.request_id == request_id), None)
        if request is None:
            raise NotFound(f"case {self.id} has no reassignment request {request_id}")
        if self.status != CaseStatus.assigned:
            raise NotOpen(f"case {self.id} is {self.status}; only a case with a handler can be reassigned")
        if self.accepted_request is not None:
            raise DomainError(f"a request for another handler of case {self.id} was already accepted; "
                              "assignment has not named the next handler yet")
        if request.requested_at < (self.reassigned_at or request.requested_at):
            raise DomainError(f"request {request_id} was made before the handler changed")
        self.record(ReassignmentAccepted(request_id=request_id, accepted_by=accepted_by, accepted_at=at))
        return request

    def terminate(self, *, reason: TerminationReason, details: str | None, terminated_by: str,
                  at: datetime) -> None:
        if self.status not in (CaseStatus.registered, CaseStatus.assigned):
            raise NotOpen(f"case {self.id} is {self.status}; only an open case's aid can be terminated")
        self.record(AidTerminated(reason=reason, details=details, terminated_by=terminated_by,
                                  terminated_at=at))

    def _refuse_a_handler(self, acting: str, ids: tuple[str | None, ...], rule: str) -> None:
        """The case's current or any past handler may not check or sign off its file."""
        if self.handler_ids & {i for i in ids if i}:
            raise HandlerMayNotCheck(f"the {acting} of case {self.id} is not one of its handlers (now or "
                                     "before): a handler never checks or signs off their own file", rule=rule)

    def check_closing_file(self, *, checklist: Checklist, checker_id: str, checker_handler_id: str | None,
                           answers: dict[str, bool], remarks: str | None, at: datetime) -> None:
        """R-CHK-1: a designated person of the agency, never a handler of the case, checks the closing
        file against the agency's current version of the checklist of the case's kind: each item
        passes when the file and the handling record show its evidence and the checker finds it
        met (R-HDL-1..5, R-ASG-9); the check passes when every item passes."""
        if self.closing_file is None:
            raise CaseNotClosed(f"case {self.id} has no closing file to check yet")
        if self.status == CaseStatus.archived:
            raise NotOpen(f"case {self.id} is archived")
        if self.sign_off is not None:
            raise NotOpen(f"case {self.id}'s closing check was signed off", rule="R-CHK-2")
        r = self.registration
        assert r is not None
        if checklist.case_kind != r.case_kind or checklist.agency_id not in (None, r.agency_id):
            whose = checklist.agency_id or "the seed"
            raise WrongChecklist(f"case {self.id} is a {r.case_kind} case of agency {r.agency_id}; the "
                                 f"checklist is {whose}'s {checklist.case_kind} one")
        self._refuse_a_handler("checker", (checker_id, checker_handler_id), "R-CHK-1")
        found = verdict(checklist, answers, CaseEvidence(
            closing_file=self.closing_file.checklist, entries=[e.entry for e in self.record_entries],
            criminal_role=r.criminal_role))
        self.record(ClosingChecked(checker_id=checker_id, passed=found.passed, remarks=remarks, checked_at=at,
                                   standard=checklist.standard, checklist_version=checklist.version,
                                   items=found.items, answers=answers, failed_items=found.failed_items,
                                   missing=found.missing))

    def sign_off_closing_check(self, *, quality_lead_id: str, quality_lead_handler_id: str | None,
                               quality_lead_name: str | None, at: datetime) -> None:
        """R-CHK-2: the agency's quality lead, never a handler of the case, signs the passed check off
        (the subsidy follows it)."""
        self._refuse_a_handler("quality lead", (quality_lead_id, quality_lead_handler_id), "R-CHK-2")
        if self.closing_check is None or not self.closing_check.passed:
            raise ClosingCheckPending(f"case {self.id}'s closing file has not passed its check",
                                      rule="R-CHK-2")
        if self.sign_off is not None:
            raise DomainError(f"case {self.id}'s closing check was already signed off", rule="R-CHK-2")
        self.record(ClosingCheckSignedOff(quality_lead_id=quality_lead_id,
                                          quality_lead_name=quality_lead_name, signed_off_at=at))

    def archive(self, *, archived_by: str, at: datetime) -> None:
        """归档: only after the closing check passed and the quality lead signed it off."""
        if self.status == CaseStatus.archived:
            return
        if self.closing_check is None or not self.closing_check.passed:
            raise ClosingCheckPending(f"case {self.id}'s closing file has not passed its check")
        if self.sign_off is None:
            raise SignOffPending(f"case {self.id}'s closing check awaits the quality lead's sign-off")
        self.record(CaseArchived(archived_by=archived_by, archived_at=at))

    def follow_up(self, *, follow_up_id: str, visited_on: date, channel: FollowUpChannel,
                  satisfaction: Satisfaction, remarks: str | None, visited_by: str, at: datetime) -> bool:
        """R-HDL-8: during or after the case, once it has a handler. False when already recorded."""
        if self.handler is None:
            raise NotAssigned(f"case {self.id} has no handler yet; there is no service to ask about")
        if any(f.follow_up_id == follow_up_id for f in self.follow_ups):
            return False
        if visited_on > local_date(at):
            raise ImplausibleEndDate(f"visited_on: {visited_on} is in the future (today is {local_date(at)}, "
                                     "Beijing time); a follow-up is recorded once it took place")
        self.record(FollowUpRecorded(follow_up_id=follow_up_id, visited_on=visited_on, channel=channel,
                                     satisfaction=satisfaction, remarks=remarks, visited_by=visited_by,
                                     recorded_at=at))
        return True

    def miss_deadline(self, *, deadline: str, rule: str, due_at: datetime, at: datetime) -> bool:
        """Record a missed time limit, once per deadline (a new handler's deadlines are new ones)."""
        if (deadline, due_at) in self.missed:
            return False
        self.record(DeadlineMissed(deadline=deadline, rule=rule, due_at=due_at, noticed_at=at))
        return True

    # state changes

    def when_CaseRegistered(self, e: CaseRegistered) -> None:
        self.status = CaseStatus.registered
        self.registration = e

    def when_HandlerAssigned(self, e: HandlerAssigned) -> None:
        self.status = CaseStatus.assigned
        self.handler = e.handler
        self.handler_ids.add(e.handler.handler_id)
        self.assigned_at = e.assigned_at
        if e.previous_handler is not None:
            self.reassigned_at = e.assigned_at
            self.entries_before_change = len(self.record_entries)
        self.accepted_request = None

    def when_ReassignmentAccepted(self, e: ReassignmentAccepted) -> None:
        self.accepted_request = e

    def when_NextStageRegistered(self, e: NextStageRegistered) -> None:
        self.next_stage = e

    def when_ClosingCheckSignedOff(self, e: ClosingCheckSignedOff) -> None:
        self.sign_off = e

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
        self.missed.add((e.deadline, e.due_at))

    def when_FollowUpRecorded(self, e: FollowUpRecorded) -> None:
        self.follow_ups.append(e)

    def when_CaseClosed(self, e: CaseClosed) -> None:
        self.status = CaseStatus.closed
        self.closure = e


Case.handles(CaseRegistered, HandlerAssigned, WorkRecorded, CaseClosed, ClosingFileSubmitted,
             ReassignmentRequested, AidTerminated, ClosingChecked, CaseArchived, FollowUpRecorded,
             DeadlineMissed, ReassignmentAccepted, NextStageRegistered, ClosingCheckSignedOff)
