"""The decision to stop assigning cases to a handler (pure: no I/O). Stream: `suspension-<id>`.

R-SAN-2 / R-ASG-6: the agency (or the bureau, after its investigation) may stop assigning cases
to a handler whose case failed. The decision names the handler, why, the case or investigation
behind it, its scope (the deciding agency's pool, or every agency of the city) and its period:
from the day of the decision to a last day. It ends by itself once that day has passed (the
service's sweep records the reinstatement at that moment) or earlier by decision. Assignment
applies it from its next decision on (HandlerSuspended / HandlerReinstated).
"""

from __future__ import annotations

import calendar
import uuid
from datetime import date, datetime, timedelta
from enum import StrEnum

from shared.aggregate import Aggregate, Conflict, DomainError, DomainEvent, Invalid
from shared.clock import local_date

MAX_MONTHS = 36
"""The longest period a suspension from assignment may be decided for at once."""

_SUSPENSION_NAMESPACE = uuid.UUID("0c6b8a51-2f4e-4b7d-9a63-5e1d7c2f8b90")


def suspension_id_for(investigation_id: str) -> str:
    """The suspension an investigation's decision creates: one per investigation, so a decision
    told twice creates one suspension."""
    return str(uuid.uuid5(_SUSPENSION_NAMESPACE, investigation_id))


class SuspensionStatus(StrEnum):
    in_force = "in_force"
    reinstated = "reinstated"


class SuspensionScope(StrEnum):
    """Where the handler gets no case: from the deciding agency, or from every agency of the city."""

    agency = "agency"
    city = "city"


class InvalidSuspension(Invalid):
    """A decision that names a wrong value; `field` is the request's field that carries it."""

    rule = "R-SAN-2"

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it has fewer days)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_day_after(start: date, months: int) -> date:
    """The last day of a period of `months` beginning on `start`: 2026-11-05 + 3 months ends
    on 2027-02-04."""
    return add_months(start, months) - timedelta(days=1)


class SuspensionDecided(DomainEvent):
    suspension_id: str
    handler_id: str
    agency_id: str | None
    investigation_id: str | None
    reason: str
    until: date | None
    decided_at: datetime
    # Added with scopes and periods (events decided before carry none: scope "agency" when an
    # agency is named, else "city"; from the decision's day).
    scope: SuspensionScope | None = None
    case_id: str | None = None
    starts_on: date | None = None
    decided_by: str | None = None


class HandlerReinstated(DomainEvent):
    reason: str
    reinstated_at: datetime
    # True when the period ended by itself (the sweep), False when decided.
    automatic: bool = False
    reinstated_by: str | None = None


class AlreadyReinstated(Conflict):
    rule = "R-SAN-2"


class PeriodNotOver(Conflict):
    rule = "R-SAN-2"


class Suspension(Aggregate):
    stream_prefix = "suspension"

    def __init__(self, id: str):
        super().__init__(id)
        self.decision: SuspensionDecided | None = None
        self.reinstatement: HandlerReinstated | None = None

    @property
    def scope(self) -> SuspensionScope | None:
        d = self.decision
        if d is None:
            return None
        return d.scope or (SuspensionScope.agency if d.agency_id else SuspensionScope.city)

    def decide(self, *, handler_id: str, agency_id: str | None, investigation_id: str | None, reason: str,
               until: date | None, at: datetime, scope: SuspensionScope | None = None,
               months: int | None = None, case_id: str | None = None, decided_by: str | None = None) -> None:
        """Linked to the case or the investigation behind it; the period is `until` (a last day) or
        `months` from the day of the decision, one of the two."""
        if self.exists:
            raise DomainError(f"suspension {self.id} is already decided")
        starts_on = local_date(at)
        if case_id is None and investigation_id is None:
            raise InvalidSuspension("case_id", "a suspension follows a case or an investigation: give "
                                               "case_id or investigation_id")
        if months is None and until is None:
            raise InvalidSuspension("months", "the period is required: months, or until (its last day)")
        if scope == SuspensionScope.agency and not agency_id:
            raise InvalidSuspension("agency_id", "required when the scope is one agency")
        if months is not None and until is not None:
            raise InvalidSuspension("months", "give the period as months or as until, not both")
        if months is not None:
            if not 1 <= months <= MAX_MONTHS:
                raise InvalidSuspension("months", f"must be between 1 and {MAX_MONTHS}")
            until = last_day_after(starts_on, months)
        if until is not None and until < starts_on:
            raise InvalidSuspension("until", "must not be before the day of the decision")
        self.record(SuspensionDecided(
            suspension_id=self.id, handler_id=handler_id, agency_id=agency_id,
            investigation_id=investigation_id, reason=reason, until=until, decided_at=at, scope=scope,
            case_id=case_id, starts_on=starts_on, decided_by=decided_by))

    def reinstate(self, *, reason: str, at: datetime, by: str | None = None) -> None:
        """Earlier than its last day, by decision."""
        if self.reinstatement is not None:
            raise AlreadyReinstated("the handler of this suspension was already reinstated")
        self.record(HandlerReinstated(reason=reason, reinstated_at=at, reinstated_by=by))

    def due_to_end(self, at: datetime) -> bool:
        """In force, and its last day is over on `at`'s (Beijing) day."""
        d = self.decision
        return (d is not None and self.reinstatement is None and d.until is not None
                and local_date(at) > d.until)

    def end_period(self, *, at: datetime) -> None:
        """The period ended: the handler is reinstated by itself, at this moment."""
        if self.reinstatement is not None:
            raise AlreadyReinstated("the handler of this suspension was already reinstated")
        if not self.due_to_end(at):
            raise PeriodNotOver("the suspension's last day is not over yet")
        assert self.decision is not None and self.decision.until is not None
        self.record(HandlerReinstated(reason=f"period ended on {self.decision.until.isoformat()}",
                                      reinstated_at=at, automatic=True))

    def when_SuspensionDecided(self, e: SuspensionDecided) -> None:
        self.decision = e

    def when_HandlerReinstated(self, e: HandlerReinstated) -> None:
        self.reinstatement = e


Suspension.handles(SuspensionDecided, HandlerReinstated)
