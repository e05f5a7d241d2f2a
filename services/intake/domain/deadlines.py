"""Deadlines of a case (pure): computed from its facts and a configurable policy, at a given
moment (the caller's clock), never stored, so a change of policy applies to every case at once.

- R-ASG-7 a handler assigned within N working days of registration (the agency's decision to
  grant aid, or the notification from a court, procuratorate or police; default 3);
- R-HDL-6 first meeting with the aided person within N working days of assignment (default 3,
  criminal cases; *to confirm*);
- R-ASG-9 mandate signed within 5 days of assignment;
- R-HDL-6 closing file submitted within 30 days of the case's end.

Working days are China's official ones (shared.calendar: Monday to Friday, less the national
holidays, plus the make-up working days), read from the calendar intake keeps; a deadline that
would run into a year not loaded raises shared.calendar.CalendarMissing, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from shared.calendar import WorkingCalendar
from shared.clock import end_of_day, local_date
from shared.contracts import CaseKind


class DeadlinePolicy(BaseModel):
    """The agency's time limits; defaults from domain.md, each one configurable."""

    model_config = ConfigDict(frozen=True)

    assignment_working_days: int = Field(default=3, ge=0)
    first_meeting_working_days: int = Field(default=3, ge=0)
    first_meeting_case_kinds: frozenset[CaseKind] = frozenset({CaseKind.criminal})
    mandate_days: int = Field(default=5, ge=0)
    closing_file_days: int = Field(default=30, ge=0)


@dataclass(frozen=True)
class Deadline:
    kind: str  # assignment | first_meeting | mandate | closing_file
    rule: str
    due_at: datetime
    met_at: datetime | None

    def overdue(self, now: datetime) -> bool:
        """Not met by its due moment (met late counts: it was overdue then)."""
        return (self.met_at or now) > self.due_at

    def open_overdue(self, now: datetime) -> bool:
        return self.met_at is None and now > self.due_at


class CaseFacts(Protocol):
    """What the deadlines of a case are computed from: the case list's row has these columns."""

    @property
    def status(self) -> str: ...
    @property
    def case_kind(self) -> str: ...
    @property
    def criminal_role(self) -> str | None: ...
    @property
    def registered_at(self) -> datetime: ...
    @property
    def first_assigned_at(self) -> datetime | None: ...
    @property
    def assigned_at(self) -> datetime | None: ...
    @property
    def first_meeting_at(self) -> datetime | None: ...
    @property
    def mandate_signed_at(self) -> datetime | None: ...
    @property
    def ended_on(self) -> date | None: ...
    @property
    def closing_file_at(self) -> datetime | None: ...


def deadlines(case: CaseFacts, policy: DeadlinePolicy, calendar: WorkingCalendar) -> list[Deadline]:
    """The deadlines of a case row (or anything with its fields): only those already running.
    Raises CalendarMissing when a working-day deadline runs into a year the calendar lacks."""
    found: list[Deadline] = []
    if case.status == "terminated":
        return found  # aid ended: nothing more is due
    registered_on = local_date(case.registered_at)
    due = end_of_day(calendar.add_working_days(registered_on, policy.assignment_working_days))
    found.append(Deadline("assignment", "R-ASG-7", due, case.first_assigned_at))
    assigned_at = case.assigned_at
    if assigned_at is not None:
        assigned_on = local_date(assigned_at)
        if case.case_kind in policy.first_meeting_case_kinds and case.criminal_role != "duty_lawyer_help":
            due = end_of_day(calendar.add_working_days(assigned_on, policy.first_meeting_working_days))
            found.append(Deadline("first_meeting", "R-HDL-6", due, case.first_meeting_at))
        if case.criminal_role != "duty_lawyer_help":  # duty-lawyer help is given without a mandate
            due = end_of_day(assigned_on + timedelta(days=policy.mandate_days))
            found.append(Deadline("mandate", "R-ASG-9", due, case.mandate_signed_at))
    if case.ended_on is not None:
        found.append(Deadline("closing_file", "R-HDL-6",
                              end_of_day(case.ended_on + timedelta(days=policy.closing_file_days)),
                              case.closing_file_at))
    return found
