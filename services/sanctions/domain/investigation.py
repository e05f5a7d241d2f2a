"""Investigations of failed cases and of complaints (pure: no I/O). Stream `investigation-<id>`.

A fail in peer evaluation is followed up (R-SAN-1): the responsible justice bureau (the city's
or the district's) investigates the failed case in time (R-SAN-3) and, when the handler is a
lawyer, notifies the bar association in writing (R-SAN-4). The notice names the lawyer and the
firm, never the aided person. An aided person's complaint may open one the same way (Legal Aid
Law arts. 55-57).

The lifecycle, each step an event: opened (with its bureau and due date) -> assigned to an
investigator, notes and evidence references added -> findings recorded -> decided (no
violation, or a violation and its handling: an order to correct, a warning, a suspension from
assignment, and for lawyers a suspension from practice of one to three months, Legal Aid Law
arts. 61-63) -> closed; on closure the organ that notified the case is informed (通报).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from services.sanctions.domain.suspension import MAX_MONTHS, SuspensionScope
from shared.aggregate import Aggregate, Conflict, DomainError, DomainEvent, Invalid, NotFound
from shared.clock import local_date
from shared.contracts import CaseKind, HandlerKind, HandlerRef

# One investigation per failed evaluation: its id is derived from the evaluation's, so the same
# failure reported twice lands on the same stream.
_INVESTIGATION_NAMESPACE = uuid.UUID("6f1d2c1e-7a52-4d0e-9b1c-3f0a8e5d2b47")


def investigation_id_for(evaluation_id: str) -> str:
    return str(uuid.uuid5(_INVESTIGATION_NAMESPACE, evaluation_id))


def investigation_id_for_complaint(complaint_id: str) -> str:
    """One investigation per complaint, likewise."""
    return str(uuid.uuid5(_INVESTIGATION_NAMESPACE, f"complaint:{complaint_id}"))


CITY_BUREAU = "city"
"""The city bureau: responsible for an agency the bureau map does not name."""

PRACTICE_SUSPENSION_MONTHS = (1, 3)
"""Legal Aid Law arts. 61-63: a lawyer may be suspended from practice for one to three months."""


@dataclass(frozen=True)
class Policy:
    """Who investigates and by when (the service's settings: SanctionsSettings.policy())."""

    bureaus: Mapping[str, str] = field(default_factory=dict)  # agency id -> its district bureau
    investigation_days: int = 30
    complaint_answer_days: int = 30

    def bureau_of(self, agency_id: str) -> str:
        """The bureau responsible for an agency's cases: its district's, or the city's (R-SAN-3)."""
        return self.bureaus.get(agency_id, CITY_BUREAU)

    def investigation_due(self, opened_at: datetime) -> date:
        return local_date(opened_at) + timedelta(days=self.investigation_days)


class InvestigationStatus(StrEnum):
    open = "open"
    decided = "decided"
    closed = "closed"


class Origin(StrEnum):
    evaluation = "evaluation"  # a fail in peer evaluation (R-SAN-1)
    complaint = "complaint"  # an aided person's complaint (arts. 55-57)


class Measure(StrEnum):
    """The bureau's handling of a violation it found (R-SAN-3; arts. 61-63)."""

    order_to_correct = "order_to_correct"  # 责令改正
    warning = "warning"  # 警告
    suspension_from_assignment = "suspension_from_assignment"  # 停止指派 (R-SAN-2)
    practice_suspension = "practice_suspension"  # 停止执业, lawyers only, one to three months


# --- events -------------------------------------------------------------------------------


class InvestigationOpened(DomainEvent):
    investigation_id: str
    evaluation_id: str | None
    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    findings: str
    opened_at: datetime
    # Added with the lifecycle; investigations opened before carry none.
    origin: Origin = Origin.evaluation
    complaint_id: str | None = None
    bureau_id: str | None = None
    due_on: date | None = None


class BarNoticeIssued(DomainEvent):
    notice_id: str
    reason: str
    issued_at: datetime


class InvestigationAssigned(DomainEvent):
    assignee_id: str
    assigned_by: str
    assigned_at: datetime


class NoteAdded(DomainEvent):
    note_id: str
    text: str
    author: str
    added_at: datetime


class EvidenceAdded(DomainEvent):
    """A reference to evidence kept elsewhere (a document number, a file in the case's record)."""

    evidence_id: str
    reference: str
    description: str
    added_by: str
    added_at: datetime


class FindingsRecorded(DomainEvent):
    """The bureau's findings (recorded again, they replace the earlier ones until the decision)."""

    findings: str
    recorded_by: str
    recorded_at: datetime


class InvestigationDecided(DomainEvent):
    violation: bool
    measures: list[Measure]
    reasoning: str
    suspension_scope: SuspensionScope | None = None
    suspension_months: int | None = None
    practice_suspension_months: int | None = None
    decided_by: str
    decided_at: datetime


class InvestigationClosed(DomainEvent):
    closed_by: str
    closed_at: datetime


class OrganInformed(DomainEvent):
    """通报: the police, procuratorate or court that notified the case is told the conclusion."""

    organ_id: str
    informed_at: datetime


# --- the aggregate ------------------------------------------------------------------------


class NotALawyer(Conflict):
    rule = "R-SAN-4"


class InvalidDecision(Invalid):
    """A decision, or a step, that names a wrong value; `field` is the request field carrying it."""

    rule = "R-SAN-3"

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class NotInThisState(Conflict):
    """The step does not fit where the investigation is (decided twice, closed before a decision)."""

    rule = "R-SAN-3"


class PlannedSuspension:
    """The suspension from assignment a decision calls for: its scope and months."""

    def __init__(self, scope: SuspensionScope, months: int):
        self.scope, self.months = scope, months


class NoticeAlreadyIssued(Conflict):
    rule = "R-SAN-4"


class Investigation(Aggregate):
    stream_prefix = "investigation"

    def __init__(self, id: str):
        super().__init__(id)
        self.status: InvestigationStatus | None = None
        self.opening: InvestigationOpened | None = None
        self.bar_notice: BarNoticeIssued | None = None
        self.assignee_id: str | None = None
        self.findings: FindingsRecorded | None = None
        self.decision: InvestigationDecided | None = None
        self.closure: InvestigationClosed | None = None
        self.organ_informed: OrganInformed | None = None

    @property
    def handler_is_lawyer(self) -> bool:
        return self.opening is not None and self.opening.handler.kind == HandlerKind.lawyer

    # commands

    def open(self, *, evaluation_id: str | None, case_id: str, case_number: str, case_kind: CaseKind,
             agency_id: str, handler: HandlerRef, findings: str, at: datetime, bureau_id: str | None = None,
             due_on: date | None = None, complaint_id: str | None = None) -> None:
        if self.exists:
            raise DomainError(f"investigation {self.id} is already open")
        if (evaluation_id is None) == (complaint_id is None):
            raise DomainError("an investigation follows either a failed evaluation or a complaint")
        if due_on is not None and due_on < local_date(at):
            raise InvalidDecision("due_on", "must not be before the day the investigation opens")
        self.record(InvestigationOpened(
            investigation_id=self.id, evaluation_id=evaluation_id, case_id=case_id, case_number=case_number,
            case_kind=case_kind, agency_id=agency_id, handler=handler, findings=findings, opened_at=at,
            origin=Origin.complaint if complaint_id else Origin.evaluation, complaint_id=complaint_id,
            bureau_id=bureau_id, due_on=due_on,
        ))

    def _require_open(self, step: str) -> InvestigationOpened:
        if self.opening is None:
            raise NotFound("no investigation with this investigation_id")
        if self.status == InvestigationStatus.closed:
            raise NotInThisState(f"the investigation is closed: no {step} any more")
        return self.opening

    def assign(self, *, assignee_id: str, by: str, at: datetime) -> None:
        self._require_open("assignment")
        if self.assignee_id == assignee_id:
            return  # the same assignment told twice
        self.record(InvestigationAssigned(assignee_id=assignee_id, assigned_by=by, assigned_at=at))

    def add_note(self, *, note_id: str, text: str, by: str, at: datetime) -> None:
        self._require_open("note")
        self.record(NoteAdded(note_id=note_id, text=text, author=by, added_at=at))

    def add_evidence(self, *, evidence_id: str, reference: str, description: str, by: str,
                     at: datetime) -> None:
        self._require_open("evidence")
        self.record(EvidenceAdded(evidence_id=evidence_id, reference=reference, description=description,
                                  added_by=by, added_at=at))

    def record_findings(self, *, findings: str, by: str, at: datetime) -> None:
        self._require_open("findings")
        if self.decision is not None:
            raise NotInThisState("the investigation is decided: its findings are final")
        self.record(FindingsRecorded(findings=findings, recorded_by=by, recorded_at=at))

    def decide(self, *, violation: bool, measures: list[Measure], reasoning: str, by: str, at: datetime,
               suspension_scope: SuspensionScope | None = None, suspension_months: int | None = None,
               practice_suspension_months: int | None = None) -> None:
        """R-SAN-3: no violation, or a violation and its handling."""
        self._require_open("decision")
        if self.decision is not None:
            raise NotInThisState("the investigation is already decided")
        if self.findings is None:
            raise NotInThisState("record the findings before deciding")
        measures = list(dict.fromkeys(measures))
        if not violation and measures:
            raise InvalidDecision("measures", "no measure when no violation was found")
        if violation and not measures:
            raise InvalidDecision("measures", "a violation is handled by at least one measure")
        suspends = Measure.suspension_from_assignment in measures
        if suspends != (suspension_scope is not None and suspension_months is not None):
            raise InvalidDecision("suspension_months", "a suspension from assignment, and only it, "
                                  "takes a scope and a number of months")
        if suspension_months is not None and not 1 <= suspension_months <= MAX_MONTHS:
            raise InvalidDecision("suspension_months", f"must be between 1 and {MAX_MONTHS}")
        practice = Measure.practice_suspension in measures
        if practice != (practice_suspension_months is not None):
            raise InvalidDecision("practice_suspension_months",
                                  "a suspension from practice, and only it, takes a number of months")
        if practice:
            if not self.handler_is_lawyer:
                raise InvalidDecision("measures", "only a lawyer is suspended from practice (arts. 61-63)")
            low, high = PRACTICE_SUSPENSION_MONTHS
            assert practice_suspension_months is not None
            if not low <= practice_suspension_months <= high:
                raise InvalidDecision("practice_suspension_months",
                                      f"must be between {low} and {high} (Legal Aid Law arts. 61-63)")
        self.record(InvestigationDecided(
            violation=violation, measures=measures, reasoning=reasoning, suspension_scope=suspension_scope,
            suspension_months=suspension_months, practice_suspension_months=practice_suspension_months,
            decided_by=by, decided_at=at))

    @property
    def planned_suspension(self) -> PlannedSuspension | None:
        """The suspension from assignment the decision calls for: the one decided, or, for a lawyer
        suspended from practice, every agency of the city for those months."""
        d = self.decision
        if d is None:
            return None
        if d.suspension_scope is not None and d.suspension_months is not None:
            return PlannedSuspension(d.suspension_scope, d.suspension_months)
        if d.practice_suspension_months is not None:
            return PlannedSuspension(SuspensionScope.city, d.practice_suspension_months)
        return None

    def close(self, *, by: str, at: datetime, organ_id: str | None) -> None:
        """Closes a decided investigation; the organ that notified the case, if one did, is
        informed of the conclusion (通报)."""
        self._require_open("closure")
        if self.decision is None:
            raise NotInThisState("decide before closing")
        self.record(InvestigationClosed(closed_by=by, closed_at=at))
        if organ_id:
            self.record(OrganInformed(organ_id=organ_id, informed_at=at))

    def notify_bar_association(self, *, notice_id: str, at: datetime) -> None:
        opening = self.opening
        if opening is None:
            raise DomainError(f"investigation {self.id} is not open")
        if not self.handler_is_lawyer:
            raise NotALawyer(f"the handler of case {opening.case_number} is not a lawyer; the bar "
                             "association disciplines lawyers only")
        if self.bar_notice is not None:
            raise NoticeAlreadyIssued(
                f"the bar association was already notified of case {opening.case_number}")
        # The reason is composed here, not copied from the reviewer's free-text findings, which
        # could mention the aided person.
        reason = (f"Case {opening.case_number} ({opening.case_kind}) handled by lawyer "
                  f"{opening.handler.name} of {opening.handler.institution_name} failed peer evaluation "
                  f"{opening.evaluation_id}; the justice bureau has opened investigation {self.id} and "
                  "notifies the bar association (R-SAN-4).")
        self.record(BarNoticeIssued(notice_id=notice_id, reason=reason, issued_at=at))

    # state changes

    def when_InvestigationOpened(self, e: InvestigationOpened) -> None:
        self.status = InvestigationStatus.open
        self.opening = e

    def when_BarNoticeIssued(self, e: BarNoticeIssued) -> None:
        self.bar_notice = e

    def when_InvestigationAssigned(self, e: InvestigationAssigned) -> None:
        self.assignee_id = e.assignee_id

    def when_NoteAdded(self, e: NoteAdded) -> None:
        pass

    def when_EvidenceAdded(self, e: EvidenceAdded) -> None:
        pass

    def when_FindingsRecorded(self, e: FindingsRecorded) -> None:
        self.findings = e

    def when_InvestigationDecided(self, e: InvestigationDecided) -> None:
        self.decision = e
        self.status = InvestigationStatus.decided

    def when_InvestigationClosed(self, e: InvestigationClosed) -> None:
        self.closure = e
        self.status = InvestigationStatus.closed

    def when_OrganInformed(self, e: OrganInformed) -> None:
        self.organ_informed = e


Investigation.handles(InvestigationOpened, BarNoticeIssued, InvestigationAssigned, NoteAdded, EvidenceAdded,
                      FindingsRecorded, InvestigationDecided, InvestigationClosed, OrganInformed)
