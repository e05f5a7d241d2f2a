"""Investigations of failed cases (pure: no I/O). Its stream is `investigation-<id>`.

A fail in peer evaluation is followed up (R-SAN-1): the justice bureau investigates the failed
case (R-SAN-3) and, when the handler is a lawyer, notifies the bar association in writing
(R-SAN-4). The notice names the lawyer and the firm, never the aided person.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from shared.aggregate import Aggregate, Conflict, DomainError, DomainEvent
from shared.contracts import CaseKind, HandlerKind, HandlerRef

# One investigation per failed evaluation: its id is derived from the evaluation's, so the same
# failure reported twice lands on the same stream.
_INVESTIGATION_NAMESPACE = uuid.UUID("6f1d2c1e-7a52-4d0e-9b1c-3f0a8e5d2b47")


def investigation_id_for(evaluation_id: str) -> str:
    return str(uuid.uuid5(_INVESTIGATION_NAMESPACE, evaluation_id))


class InvestigationStatus(StrEnum):
    open = "open"


# --- events -------------------------------------------------------------------------------


class InvestigationOpened(DomainEvent):
    investigation_id: str
    evaluation_id: str
    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    findings: str
    opened_at: datetime


class BarNoticeIssued(DomainEvent):
    notice_id: str
    reason: str
    issued_at: datetime


# --- the aggregate ------------------------------------------------------------------------


class NotALawyer(Conflict):
    rule = "R-SAN-4"


class NoticeAlreadyIssued(Conflict):
    rule = "R-SAN-4"


class Investigation(Aggregate):
    stream_prefix = "investigation"

    def __init__(self, id: str):
        super().__init__(id)
        self.status: InvestigationStatus | None = None
        self.opening: InvestigationOpened | None = None
        self.bar_notice: BarNoticeIssued | None = None

    @property
    def handler_is_lawyer(self) -> bool:
        return self.opening is not None and self.opening.handler.kind == HandlerKind.lawyer

    # commands

    def open(self, *, evaluation_id: str, case_id: str, case_number: str, case_kind: CaseKind, agency_id: str,
             handler: HandlerRef, findings: str, at: datetime) -> None:
        if self.exists:
            raise DomainError(f"investigation {self.id} is already open")
        self.record(InvestigationOpened(
            investigation_id=self.id, evaluation_id=evaluation_id, case_id=case_id, case_number=case_number,
            case_kind=case_kind, agency_id=agency_id, handler=handler, findings=findings, opened_at=at,
        ))

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


Investigation.handles(InvestigationOpened, BarNoticeIssued)
