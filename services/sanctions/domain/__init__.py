"""The sanctions domain (pure: no I/O), one module per concept of the domain:

- `investigation`: the bureau's investigation of a failed case and its notice to the bar
  association (R-SAN-1, R-SAN-3, R-SAN-4). Stream `investigation-<id>`.
- `suspension`: the decision to stop assigning cases to a handler, and the reinstatement
  (R-SAN-2, R-ASG-6). Stream `suspension-<id>`.

A new concept (a complaint, a bar-association outcome, a duty record, a commendation) gets a
module of its own here, with its aggregate, events and refusals, and is re-exported below, so
the other rooms import from `services.sanctions.domain` whichever module a name lives in.
"""

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

AGGREGATES = (Investigation, Suspension)
"""Every aggregate of the service: what its projection reads back stored events through."""

__all__ = [
    "AGGREGATES",
    "AlreadyReinstated",
    "BarNoticeIssued",
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
