"""The integration events of Fayuan: the contract between services (and with the bar
association). Importing this package registers every type, so any service can read any event
and the AsyncAPI document and JSON Schemas cover them all."""

from shared.contracts.assignment import AssignmentBlocked, CaseAssigned
from shared.contracts.common import CaseKind, Grade, HandlerKind, HandlerRef
from shared.contracts.evaluation import EvaluationCompleted, EvaluationFailed, SubsidyApproved, SubsidyPaid
from shared.contracts.intake import (
    CaseClosed,
    CaseFlags,
    CaseRegistered,
    CaseTerminated,
    ClosingCheckSignedOff,
    DeadlineMissed,
    FollowUpCompleted,
    ReassignmentRequested,
)
from shared.contracts.sanctions import (
    BarNoticeIssued,
    HandlerReinstated,
    HandlerSuspended,
    InvestigationConcluded,
    InvestigationOpened,
)

__all__ = [
    "AssignmentBlocked",
    "BarNoticeIssued",
    "CaseAssigned",
    "CaseClosed",
    "CaseFlags",
    "CaseKind",
    "CaseRegistered",
    "CaseTerminated",
    "ClosingCheckSignedOff",
    "DeadlineMissed",
    "FollowUpCompleted",
    "EvaluationCompleted",
    "EvaluationFailed",
    "Grade",
    "HandlerKind",
    "HandlerRef",
    "HandlerReinstated",
    "HandlerSuspended",
    "InvestigationConcluded",
    "InvestigationOpened",
    "ReassignmentRequested",
    "SubsidyApproved",
    "SubsidyPaid",
]
