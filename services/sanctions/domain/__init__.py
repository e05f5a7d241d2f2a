"""The sanctions domain (pure: no I/O), one module per concept of the domain:

- `investigation`: the bureau's investigation of a failed case or of a complaint, its steps to
  a decision and closure, and its notice to the bar association (R-SAN-1, R-SAN-3, R-SAN-4).
  Stream `investigation-<id>`.
- `complaint`: an aided person's complaint, its answer, and the investigation it may open
  (Legal Aid Law arts. 55-57). Stream `complaint-<id>`.
- `suspension`: the decision to stop assigning cases to a handler, its scope and period, and
  the reinstatement, by decision or when the period ends (R-SAN-2, R-ASG-6). Stream
  `suspension-<id>`.

A new concept (a bar-association outcome, a duty record, a commendation) gets a module of its
own here, with its aggregate, events and refusals, and is re-exported below, so the other rooms
import from `services.sanctions.domain` whichever module a name lives in.
"""

from services.sanctions.domain.complaint import (
    AlreadyAnswered,
    AlreadyInvestigated,
    Complaint,
    ComplaintAnswered,
    ComplaintInvestigated,
    ComplaintLodged,
    ComplaintStatus,
    InvalidComplaint,
)
from services.sanctions.domain.investigation import (
    CITY_BUREAU,
    BarNoticeIssued,
    EvidenceAdded,
    FindingsRecorded,
    InvalidDecision,
    Investigation,
    InvestigationAssigned,
    InvestigationClosed,
    InvestigationDecided,
    InvestigationOpened,
    InvestigationStatus,
    Measure,
    NotALawyer,
    NoteAdded,
    NoticeAlreadyIssued,
    NotInThisState,
    OrganInformed,
    Origin,
    Policy,
    investigation_id_for,
    investigation_id_for_complaint,
)
from services.sanctions.domain.suspension import (
    AlreadyReinstated,
    HandlerReinstated,
    InvalidSuspension,
    PeriodNotOver,
    Suspension,
    SuspensionDecided,
    SuspensionScope,
    SuspensionStatus,
    last_day_after,
    suspension_id_for,
)

AGGREGATES = (Investigation, Complaint, Suspension)
"""Every aggregate of the service: what its projection reads back stored events through."""

__all__ = [
    "AGGREGATES",
    "CITY_BUREAU",
    "AlreadyAnswered",
    "AlreadyInvestigated",
    "AlreadyReinstated",
    "BarNoticeIssued",
    "Complaint",
    "ComplaintAnswered",
    "ComplaintInvestigated",
    "ComplaintLodged",
    "ComplaintStatus",
    "EvidenceAdded",
    "FindingsRecorded",
    "HandlerReinstated",
    "InvalidComplaint",
    "InvalidDecision",
    "InvalidSuspension",
    "Investigation",
    "InvestigationAssigned",
    "InvestigationClosed",
    "InvestigationDecided",
    "InvestigationOpened",
    "InvestigationStatus",
    "Measure",
    "NotALawyer",
    "NotInThisState",
    "NoteAdded",
    "NoticeAlreadyIssued",
    "OrganInformed",
    "Origin",
    "Policy",
    "PeriodNotOver",
    "Suspension",
    "SuspensionDecided",
    "SuspensionScope",
    "SuspensionStatus",
    "investigation_id_for",
    "investigation_id_for_complaint",
    "last_day_after",
    "suspension_id_for",
]
