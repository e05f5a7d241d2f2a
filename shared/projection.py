"""Typed projections: each function folds one kind of domain event into a read model, and is
found by the event's class, never by comparing type strings over raw dicts.

A service declares one `Projection` over its aggregates in `projections.py`:

    projection = Projection(Investigation, Suspension)

    @projection.on(InvestigationOpened)
    async def investigation_opened(conn, event: InvestigationOpened, at: Recorded) -> None: ...

and hands `projection` to its `ServiceSpec` as the projector. A stored event is read back
through the aggregate that owns its stream (by the stream's prefix), so the same event class in
two aggregates (an institution's and a volunteer's `CommitmentSigned`) can be routed apart with
`on(..., of=Handler)`. Events no function is registered for are left alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.aggregate import Aggregate, DomainEvent
from shared.store import RecordedEvent

E = TypeVar("E", bound=DomainEvent)


@dataclass(frozen=True)
class Recorded:
    """Where and when a projected event was stored."""

    aggregate_id: str
    stream_id: str
    version: int
    position: int
    recorded_at: datetime


Fold = Callable[[AsyncConnection, Any, Recorded], Awaitable[None]]


class Projection:
    def __init__(self, *aggregates: type[Aggregate]):
        # Longest prefix first: "aided-person-1" belongs to "aided-person", not to "aided".
        self._aggregates = sorted(aggregates, key=lambda a: -len(a.stream_prefix))
        self._folds: dict[tuple[type[Aggregate] | None, type[DomainEvent]], list[Fold]] = defaultdict(list)

    def on(self, *events: type[E], of: type[Aggregate] | None = None) -> Callable[[Fold], Fold]:
        """Register the decorated function for these event classes (of one aggregate only, if
        `of` is given)."""
        for event in events:
            owners = [a for a in self._aggregates if event in a.event_types.values()]
            if not owners or (of is not None and of not in owners):
                raise ValueError(f"{event.__name__} is not an event of {of or 'the projected aggregates'}")

        def register(fold: Fold) -> Fold:
            for event in events:
                self._folds[(of, event)].append(fold)
            return fold

        return register

    def owner(self, stream_id: str) -> type[Aggregate] | None:
        return next((a for a in self._aggregates if stream_id.startswith(a.stream_prefix + "-")), None)

    async def __call__(self, conn: AsyncConnection, recorded: RecordedEvent) -> None:
        aggregate = self.owner(recorded.stream_id)
        if aggregate is None:
            return
        cls = aggregate.event_types.get(recorded.type)
        if cls is None:
            return
        folds = self._folds.get((aggregate, cls), []) + self._folds.get((None, cls), [])
        if not folds:
            return
        event = cls.model_validate(recorded.data)
        at = Recorded(aggregate_id=recorded.stream_id[len(aggregate.stream_prefix) + 1:],
                      stream_id=recorded.stream_id, version=recorded.version, position=recorded.position,
                      recorded_at=recorded.recorded_at)
        for fold in folds:
            await fold(conn, event, at)
