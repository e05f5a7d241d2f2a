"""An agency's call for institutions and volunteers to join its pool (招募公告, pure: no I/O).
Stream: `recruitment-call-<id>`.

R-PRV-1 recruits institutions "by public call" among other ways; R-PUB-3 shows the public the
recruitment calls as well as their results. A call names what is sought and how to apply: it is
the agency's announcement, and carries no personal data.
"""

from __future__ import annotations

from datetime import date, datetime

from services.assignment.domain.registry import InvalidField
from shared.aggregate import Aggregate, Conflict, DomainEvent


class RecruitmentCallAnnounced(DomainEvent):
    agency_id: str
    title: str
    fields_sought: list[str]
    deadline: date
    how_to_apply: str
    announced_at: datetime


class AlreadyAnnounced(Conflict):
    rule = "R-PUB-3"


class DeadlinePassed(InvalidField):
    def __init__(self, deadline: date, today: date):
        super().__init__("deadline", f"{deadline} is before today ({today}, Beijing)", rule="R-PUB-3")


class RecruitmentCall(Aggregate):
    stream_prefix = "recruitment-call"

    def __init__(self, id: str):
        super().__init__(id)
        self.announced: RecruitmentCallAnnounced | None = None

    def announce(self, *, agency_id: str, title: str, fields_sought: list[str], deadline: date,
                 how_to_apply: str, today: date, at: datetime) -> None:
        """A call is announced once; its deadline is not already past on the agency's day (Beijing)."""
        if self.announced is not None:
            raise AlreadyAnnounced("this recruitment call is already announced")
        if deadline < today:
            raise DeadlinePassed(deadline, today)
        self.record(RecruitmentCallAnnounced(
            agency_id=agency_id, title=title, fields_sought=list(dict.fromkeys(fields_sought)),
            deadline=deadline, how_to_apply=how_to_apply, announced_at=at))

    def when_RecruitmentCallAnnounced(self, e: RecruitmentCallAnnounced) -> None:
        self.announced = e


RecruitmentCall.handles(RecruitmentCallAnnounced)
