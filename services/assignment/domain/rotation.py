"""The rotation of one agency's pool (pure: no I/O). Stream: `rotation-<agency_id>`: whose turn
it is (R-ASG-1) and how many cases each handler took in each calendar month (R-ASG-4).

The rotation is an aggregate of its own so that two decisions for one agency, taken at the
same time, append to the same stream: one of them conflicts and decides again on fresh state,
and no handler is picked twice for one turn nor pushed over the monthly cap.

The stream takes one event per case for as long as the agency works, so a decision never folds
it: it reads the part of the state it needs (`Rotation.part`: every handler's last turn, the
month's counts, the case's own turns) from the read model the append keeps in the same
transaction, at the stream's version, and appends at that version. A full load (an audit, a
rebuild) starts from the stream's latest snapshot (`Snapshotted`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from shared.aggregate import DomainEvent, Snapshotted
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


class MonthNotRead(LookupError):
    """A decision asked a part of the rotation for a month it was not read for: a defect of the
    caller (it reads the month of the decision's own time), never a refusal."""


class Rotation(Snapshotted):
    """Whose turn it is in an agency's pool (R-ASG-1) and each handler's cases per month (R-ASG-4)."""

    stream_prefix = "rotation"
    snapshot_every = 500

    def __init__(self, id: str):
        super().__init__(id)
        self.turns = 0
        self.last_turn: dict[str, int] = {}
        self.monthly: dict[tuple[str, str], int] = {}
        # A case may take several turns, one per handler: a reassignment's new turn is a turn.
        self.cases: set[tuple[str, str]] = set()
        # The months whose counts this state holds; None: all of them (the whole stream folded).
        self.months: frozenset[str] | None = None

    @classmethod
    def part(cls, id: str, *, version: int, turns: int, last_turn: Mapping[str, int],
             month: str, counts: Mapping[str, int], case_turns: Iterable[tuple[str, str]]) -> Rotation:
        """The state one decision reads, at the stream's `version`: every handler's last turn,
        the counts of `month` (the decision's), and the turns of the cases at hand. Deciding on
        it is deciding on the whole fold (test_rotation_state.py); appending at `version` keeps
        two decisions of one agency in turn."""
        rotation = cls(id)
        rotation.version, rotation.turns = version, turns
        rotation.last_turn = dict(last_turn)
        rotation.monthly = {(handler_id, month): n for handler_id, n in counts.items()}
        rotation.months = frozenset({month})
        rotation.cases = set(case_turns)
        return rotation

    @property
    def whole(self) -> bool:
        return self.months is None

    def cases_in(self, handler_id: str, month: str) -> int:
        if self.months is not None and month not in self.months:
            raise MonthNotRead(f"the rotation was read for {sorted(self.months)}, not {month}")
        return self.monthly.get((handler_id, month), 0)

    # snapshots (shared/snapshot.py): the whole state, as JSON

    def snapshot_state(self) -> dict[str, Any]:
        assert self.whole, "only a whole fold is snapshotted"
        return {"turns": self.turns, "last_turn": self.last_turn,
                "monthly": [[h, m, n] for (h, m), n in sorted(self.monthly.items())],
                "cases": sorted([c, h] for c, h in self.cases)}

    def restore_state(self, state: dict[str, Any]) -> None:
        self.turns = state["turns"]
        self.last_turn = dict(state["last_turn"])
        self.monthly = {(h, m): n for h, m, n in state["monthly"]}
        self.cases = {(c, h) for c, h in state["cases"]}

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
        if e.counts_toward_cap and (self.months is None or e.month in self.months):
            key = (e.handler_id, e.month)
            self.monthly[key] = self.monthly.get(key, 0) + 1


Rotation.handles(TurnTaken)
