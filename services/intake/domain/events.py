"""The domain events of a case (its stream `case-<id>`): facts in the past tense, private to
intake. The aided person and the adverse parties are in them only sealed (people.SealedPerson):
tokens of the vault, never values (docs/privacy.md); integration events carry neither."""

from __future__ import annotations

from datetime import date, datetime

from services.intake.domain.checklists import MissingItem
from services.intake.domain.closing import ClosingChecklist, FollowUpChannel, Satisfaction, TerminationReason
from services.intake.domain.people import SealedPerson
from services.intake.domain.record import WorkEntry
from shared.aggregate import DomainEvent
from shared.contracts import CaseFlags, CaseKind, HandlerRef
from shared.contracts.intake import CriminalRole, CriminalStage, Matter, ReassignmentReason


class CaseRegistered(DomainEvent):
    case_id: str
    case_number: str
    case_kind: CaseKind
    cause: str
    district: str
    agency_id: str
    flags: CaseFlags
    aided_person: SealedPerson
    registered_at: datetime
    criminal_stage: CriminalStage | None = None
    criminal_role: CriminalRole | None = None
    matter: Matter | None = None
    source_system: str | None = None
    external_reference: str | None = None
    registered_by: str | None = None
    adverse_parties: list[SealedPerson] = []
    previous_case_id: str | None = None  # R-HDL-7: the case of the previous stage
    # Keyed hashes (the adverse-party hash key) for assignment's conflict check, computed from
    # the values before sealing: a next stage tells them again without unsealing anyone.
    aided_person_hash: str | None = None
    adverse_party_hashes: list[str] = []


class NextStageRegistered(DomainEvent):
    """R-HDL-7: the case moved to a new stage, which is a new case with its own number and file."""

    next_case_id: str
    next_case_number: str
    criminal_stage: CriminalStage
    registered_at: datetime


class HandlerAssigned(DomainEvent):
    handler: HandlerRef
    method: str
    assigned_at: datetime
    previous_handler: HandlerRef | None = None  # set when this is a change of handler


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
    """The aided person asked for another handler (with their reason, which stays here)."""

    reason: str
    requested_by: str
    requested_at: datetime
    request_id: str | None = None
    category: ReassignmentReason = ReassignmentReason.other


class ReassignmentAccepted(DomainEvent):
    """The agency accepted the request: assignment picks another handler."""

    request_id: str
    accepted_by: str
    accepted_at: datetime


class AidTerminated(DomainEvent):
    reason: TerminationReason
    details: str | None = None
    terminated_by: str
    terminated_at: datetime


class ClosingChecked(DomainEvent):
    """结案收卷质量检查 (R-CHK-1): the agency's designated checker on the closing file: each item of
    the checklist's version, passed when the file and the record show its evidence and the checker
    finds it met. Checks recorded before checklists had versions used the seed (version 1) and
    the checker's answers alone."""

    checker_id: str  # the checker's token subject
    passed: bool
    remarks: str | None = None
    checked_at: datetime
    standard: str | None = None
    items: dict[str, bool] = {}  # the checklist's items and whether each passed
    failed_items: list[str] = []
    checklist_version: int = 1
    answers: dict[str, bool] = {}  # the checker's own answer per item
    missing: list[MissingItem] = []  # each failed item and why


class ClosingCheckSignedOff(DomainEvent):
    """质量审查负责人签字确认 (R-CHK-2): the quality lead confirms the passed check."""

    quality_lead_id: str
    quality_lead_name: str | None = None
    signed_off_at: datetime


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
