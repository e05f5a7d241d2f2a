"""The integration events of Fayuan: the contract between services (and with the bar
association). Importing this package registers every type, so any service can read any event
and the AsyncAPI document and JSON Schemas cover them all."""

from shared.contracts.assignment import AssignmentBlocked, CaseAssigned, HandlerDeclined, HandlerReleased
from shared.contracts.bar_association import BarOutcomeReported, DisciplineKind, OutcomeKind
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
    BarNoticeReminded,
    CommendationListConfirmed,
    DutyRecordPublished,
    HandlerReinstated,
    HandlerSuspended,
    InvestigationConcluded,
    InvestigationOpened,
)

__all__ = [
    "AssignmentBlocked",
    "BarNoticeIssued",
    "BarNoticeReminded",
    "BarOutcomeReported",
    "CommendationListConfirmed",
    "DisciplineKind",
    "DutyRecordPublished",
    "HandlerDeclined",
    "HandlerReleased",
    "OutcomeKind",
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
