"""The rotation of one agency's pool (pure: no I/O). Stream: `rotation-<agency_id>`: whose turn
it is (R-ASG-1) and how many cases each handler took in each calendar month (R-ASG-4).

The rotation is an aggregate of its own so that two decisions for one agency, taken at the
same time, append to the same stream: one of them conflicts and decides again on fresh state,
and no handler is picked twice for one turn nor pushed over the monthly cap.
"""

from __future__ import annotations

from datetime import datetime

from shared.aggregate import Aggregate, DomainEvent
from shared.clock import local_month
from shared.contracts.assignment import AssignmentMethod


class TurnTaken(DomainEvent):
    case_id: str
    handler_id: str
    method: AssignmentMethod
    # The calendar month in Beijing: a case assigned at 07:00 on the 1st belongs to the new month.
    month: str
    counts_toward_cap: bool
    taken_at: datetime


class Rotation(Aggregate):
    """Whose turn it is in an agency's pool (R-ASG-1) and each handler's cases per month (R-ASG-4)."""

    stream_prefix = "rotation"

    def __init__(self, id: str):
        super().__init__(id)
        self.turns = 0
        self.last_turn: dict[str, int] = {}
        self.monthly: dict[tuple[str, str], int] = {}
        # A case may take several turns, one per handler: a reassignment's new turn is a turn.
        self.cases: set[tuple[str, str]] = set()

    def cases_in(self, handler_id: str, month: str) -> int:
        return self.monthly.get((handler_id, month), 0)

    def take_turn(self, *, case_id: str, handler_id: str, method: AssignmentMethod, group_case: bool,
                  at: datetime) -> None:
        if (case_id, handler_id) in self.cases:
            return  # one case, one turn per handler: a decision told twice is not a second case
        self.record(TurnTaken(case_id=case_id, handler_id=handler_id, method=method, month=local_month(at),
                              counts_toward_cap=not group_case, taken_at=at))

    def when_TurnTaken(self, e: TurnTaken) -> None:
        self.turns += 1
        self.last_turn[e.handler_id] = self.turns
        self.cases.add((e.case_id, e.handler_id))
        if e.counts_toward_cap:
            key = (e.handler_id, e.month)
            self.monthly[key] = self.monthly.get(key, 0) + 1


Rotation.handles(TurnTaken)
