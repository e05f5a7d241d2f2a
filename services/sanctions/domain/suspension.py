"""The bureau's decision to stop assigning cases to a handler (pure: no I/O). Stream:
`suspension-<id>`.

R-SAN-2 / R-ASG-6: the agency may stop assigning cases to a handler whose case failed. The
decision names the handler, why, optionally the investigation behind it and a last day; it
lasts until that day or until the handler is reinstated. Assignment applies it from its next
decision on (it hears of it through HandlerSuspended / HandlerReinstated).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from shared.aggregate import Aggregate, Conflict, DomainError, DomainEvent


class SuspensionStatus(StrEnum):
    in_force = "in_force"
    reinstated = "reinstated"


class SuspensionDecided(DomainEvent):
    suspension_id: str
    handler_id: str
    agency_id: str | None
    investigation_id: str | None
    reason: str
    until: date | None
    decided_at: datetime


class HandlerReinstated(DomainEvent):
    reason: str
    reinstated_at: datetime


class AlreadyReinstated(Conflict):
    rule = "R-SAN-2"


class Suspension(Aggregate):
    stream_prefix = "suspension"

    def __init__(self, id: str):
        super().__init__(id)
        self.decision: SuspensionDecided | None = None
        self.reinstatement: HandlerReinstated | None = None

    def decide(self, *, handler_id: str, agency_id: str | None, investigation_id: str | None, reason: str,
               until: date | None, at: datetime) -> None:
        if self.exists:
            raise DomainError(f"suspension {self.id} is already decided")
        self.record(SuspensionDecided(suspension_id=self.id, handler_id=handler_id, agency_id=agency_id,
                                      investigation_id=investigation_id, reason=reason, until=until,
                                      decided_at=at))

    def reinstate(self, *, reason: str, at: datetime) -> None:
        if self.reinstatement is not None:
            raise AlreadyReinstated("the handler of this suspension was already reinstated")
        self.record(HandlerReinstated(reason=reason, reinstated_at=at))

    def when_SuspensionDecided(self, e: SuspensionDecided) -> None:
        self.decision = e

    def when_HandlerReinstated(self, e: HandlerReinstated) -> None:
        self.reinstatement = e


Suspension.handles(SuspensionDecided, HandlerReinstated)
