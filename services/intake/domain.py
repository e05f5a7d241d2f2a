"""The legal-aid case (pure: no I/O). Its stream is `case-<id>`.

A case is registered, assigned (assignment decides; intake folds the decision in) and closed.
The aided person's data lives only in this service's store, never in integration events.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.aggregate import Aggregate, DomainError, DomainEvent
from shared.contracts import CaseFlags, CaseKind, HandlerRef


class CaseStatus(StrEnum):
    registered = "registered"
    assigned = "assigned"
    closed = "closed"


class AidedPerson(BaseModel):
    """受援人. Personal data: stays in intake's store."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(pattern=r"^\d{17}[\dX]$", description="Resident ID number (18 characters)")
    phone: str | None = Field(default=None, pattern=r"^1\d{10}$")
    address: str | None = Field(default=None, max_length=200)


# --- events -------------------------------------------------------------------------------


class CaseRegistered(DomainEvent):
    case_id: str
    case_number: str
    case_kind: CaseKind
    cause: str
    district: str
    agency_id: str
    flags: CaseFlags
    aided_person: AidedPerson
    registered_at: datetime


class HandlerAssigned(DomainEvent):
    handler: HandlerRef
    method: str
    assigned_at: datetime


class CaseClosed(DomainEvent):
    outcome: str
    ended_on: date
    closed_at: datetime


# --- the aggregate ------------------------------------------------------------------------


class NotAssigned(DomainError):
    status = 409


class AlreadyClosed(DomainError):
    status = 409


class Case(Aggregate):
    stream_prefix = "case"

    def __init__(self, id: str):
        super().__init__(id)
        self.status: CaseStatus | None = None
        self.registration: CaseRegistered | None = None
        self.handler: HandlerRef | None = None
        self.closure: CaseClosed | None = None

    # commands

    def register(self, *, case_number: str, case_kind: CaseKind, cause: str, district: str, agency_id: str,
                 flags: CaseFlags, aided_person: AidedPerson, at: datetime) -> None:
        if self.exists:
            raise DomainError(f"case {self.id} is already registered")
        self.record(CaseRegistered(case_id=self.id, case_number=case_number, case_kind=case_kind, cause=cause,
                                   district=district, agency_id=agency_id, flags=flags, aided_person=aided_person,
                                   registered_at=at))

    def assign(self, *, handler: HandlerRef, method: str, at: datetime) -> None:
        if self.status == CaseStatus.closed:
            raise AlreadyClosed(f"case {self.id} is closed; it cannot be assigned")
        if self.handler == handler:
            return  # the same decision told twice changes nothing
        self.record(HandlerAssigned(handler=handler, method=method, assigned_at=at))

    def close(self, *, outcome: str, ended_on: date, at: datetime) -> None:
        if self.status == CaseStatus.closed:
            raise AlreadyClosed(f"case {self.id} is already closed")
        if self.handler is None:
            raise NotAssigned(f"case {self.id} has no handler yet; only an assigned case can be closed")
        self.record(CaseClosed(outcome=outcome, ended_on=ended_on, closed_at=at))

    # state changes

    def when_CaseRegistered(self, e: CaseRegistered) -> None:
        self.status = CaseStatus.registered
        self.registration = e

    def when_HandlerAssigned(self, e: HandlerAssigned) -> None:
        self.status = CaseStatus.assigned
        self.handler = e.handler

    def when_CaseClosed(self, e: CaseClosed) -> None:
        self.status = CaseStatus.closed
        self.closure = e


Case.handles(CaseRegistered, HandlerAssigned, CaseClosed)
