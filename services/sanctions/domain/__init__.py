"""The sanctions domain (pure: no I/O), one module per concept of the domain:

- `investigation`: the bureau's investigation of a failed case and its notice to the bar
  association (R-SAN-1, R-SAN-3, R-SAN-4). Stream `investigation-<id>`.
- `suspension`: the decision to stop assigning cases to a handler, and the reinstatement
  (R-SAN-2, R-ASG-6). Stream `suspension-<id>`.
- `bar_notice`: the bar association's answers to a notice and the bureau's reminders of an
  unanswered one (R-SAN-4). Stream `bar-notice-<notice_id>`.
- `duty_record`: what counts in a lawyer's and firm's yearly legal-aid duty record, and the
  bureau's publication of a finished year (R-SAN-5). Stream `duty-record-<year>`.
- `commendation`: the commendation priority list of a period, its ordering rule and the
  bureau's confirmation (R-SAN-6). Stream `commendation-list-<period>`.

A new concept (a complaint, a bar-association outcome, a duty record, a commendation) gets a
module of its own here, with its aggregate, events and refusals, and is re-exported below, so
the other rooms import from `services.sanctions.domain` whichever module a name lives in.
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
from services.sanctions.domain.duty_record import (
    COUNTED,
    DutyFact,
    DutyYear,
    DutyYearPublished,
    year_of,
)
from services.sanctions.domain.investigation import (
    BarNoticeIssued,
    Investigation,
    InvestigationOpened,
    InvestigationStatus,
    NotALawyer,
    NoticeAlreadyIssued,
    investigation_id_for,
)
from services.sanctions.domain.suspension import (
    AlreadyReinstated,
    HandlerReinstated,
    Suspension,
    SuspensionDecided,
    SuspensionStatus,
)

AGGREGATES = (Investigation, Suspension, BarNotice, DutyYear, CommendationList)
"""Every aggregate of the service: what its projection reads back stored events through."""

__all__ = [
    "AGGREGATES",
    "COUNTED",
    "RULE",
    "AlreadyReinstated",
    "BarNotice",
    "BarNoticeIssued",
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
    "Investigation",
    "InvestigationOpened",
    "InvestigationStatus",
    "NotALawyer",
    "NoticeAlreadyIssued",
    "Suspension",
    "SuspensionDecided",
    "SuspensionStatus",
    "investigation_id_for",
]
