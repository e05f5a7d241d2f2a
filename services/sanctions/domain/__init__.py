"""The sanctions domain (pure: no I/O), one module per concept of the domain:

- `investigation`: the bureau's investigation of a failed case or of a complaint, its steps to
  a decision and closure, and its notice to the bar association (R-SAN-1, R-SAN-3, R-SAN-4).
  Stream `investigation-<id>`.
- `complaint`: an aided person's complaint, its answer, and the investigation it may open
  (Legal Aid Law arts. 55-57). Stream `complaint-<id>`.
- `suspension`: the decision to stop assigning cases to a handler, its scope and period, and
  the reinstatement, by decision or when the period ends (R-SAN-2, R-ASG-6). Stream
  `suspension-<id>`.
- `bar_notice`: the bar association's answers to a notice and the bureau's reminders of an
  unanswered one (R-SAN-4). Stream `bar-notice-<notice_id>`.
- `duty_record`: what counts in a lawyer's and firm's yearly legal-aid duty record, and the
  bureau's publication of a finished year (R-SAN-5). Stream `duty-record-<year>`.
- `commendation`: the commendation priority list of a period, its ordering rule and the
  bureau's confirmation (R-SAN-6). Stream `commendation-list-<period>`.

A new concept (a bar-association outcome, a duty record, a commendation) gets a module of its
own here, with its aggregate, events and refusals, and is re-exported below, so the other rooms
import from `services.sanctions.domain` whichever module a name lives in.
"""

from services.sanctions.domain.bar_notice import (
    BarNotice,
    BarNoticeReminded,
    BarOutcomeRecorded,
    InvalidOutcomeField,
    NoticeConcluded,
    NoticeStatus,
    OutcomeChannel,
    status_after,
)
from services.sanctions.domain.commendation import (
    RULE,
    CommendationList,
    CommendationListConfirmed,
    Period,
    Tally,
    ranked,
)
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
from services.sanctions.domain.duty_record import (
    COUNTED,
    DutyFact,
    DutyYear,
    DutyYearPublished,
    year_of,
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

AGGREGATES = (Investigation, Complaint, Suspension, BarNotice, DutyYear, CommendationList)
"""Every aggregate of the service: what its projection reads back stored events through."""

__all__ = [
    "AGGREGATES",
    "CITY_BUREAU",
    "AlreadyAnswered",
    "AlreadyInvestigated",
    "COUNTED",
    "RULE",
    "AlreadyReinstated",
    "BarNotice",
    "BarNoticeIssued",
    "Complaint",
    "ComplaintAnswered",
    "ComplaintInvestigated",
    "ComplaintLodged",
    "ComplaintStatus",
    "EvidenceAdded",
    "FindingsRecorded",
    "BarNoticeReminded",
    "BarOutcomeRecorded",
    "CommendationList",
    "CommendationListConfirmed",
    "DutyFact",
    "DutyYear",
    "DutyYearPublished",
    "InvalidOutcomeField",
    "NoticeConcluded",
    "NoticeStatus",
    "OutcomeChannel",
    "Period",
    "Tally",
    "ranked",
    "status_after",
    "year_of",
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
