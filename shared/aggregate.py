"""Aggregates as the fold of their events (pure: no I/O here).

A domain event is a frozen Pydantic model named in the past tense; an aggregate changes state
only by applying one, in a method named `when_<EventName>`. Commands are methods that check
the rules and call `self.record(event)`; the unit of work appends what was recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict


class DomainError(Exception):
    """A command broke a rule of the domain. The domain says which kind of refusal it is by the
    class it raises, never by an HTTP status: the API edge (shared/http.py) maps each kind to
    one. A plain `DomainError` is a conflict with the state (the case is already closed)."""

    rule: str | None = None

    def __init__(self, message: str, *, rule: str | None = None):
        super().__init__(message)
        self.rule = rule or self.rule


class Conflict(DomainError):
    """The command contradicts what has already happened (already assigned, already closed)."""


class Invalid(DomainError):
    """The command itself breaks a rule, whatever the state (dates out of order, a matter
    that is not of this case's kind)."""


class Forbidden(DomainError):
    """The caller may not do this, for who they are rather than for the state (a court notifying
    a case in another organ's name)."""


class NotFound(DomainError):
    """The command or read names something that does not exist (or that the caller may not see)."""


class DomainEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def event_type(cls) -> str:
        return cls.__name__


class Aggregate:
    """Base of every aggregate: an id, a version, and the events recorded but not yet saved."""

    stream_prefix: ClassVar[str]
    event_types: ClassVar[dict[str, type[DomainEvent]]] = {}

    def __init__(self, id: str):
        self.id = id
        self.version = 0
        self.pending: list[DomainEvent] = []
        self.recorded_at: datetime | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.event_types = {}

    @classmethod
    def handles(cls, *events: type[DomainEvent]) -> None:
        """Declare the domain events of this aggregate, so stored ones can be read back."""
        for event in events:
            cls.event_types[event.event_type()] = event

    @classmethod
    def stream_id(cls, id: str) -> str:
        return f"{cls.stream_prefix}-{id}"

    @property
    def exists(self) -> bool:
        return self.version > 0 or bool(self.pending)

    def record(self, event: DomainEvent) -> None:
        self.apply(event)
        self.pending.append(event)

    def apply(self, event: DomainEvent) -> None:
        handler = getattr(self, f"when_{event.event_type()}", None)
        if handler is None:
            raise TypeError(f"{type(self).__name__} cannot apply {event.event_type()}")
        handler(event)

    @classmethod
    def fold(cls, id: str, events: list[tuple[str, dict[str, Any], datetime]]) -> Self:
        """Rebuild from stored (type, data, recorded_at) triples, oldest first."""
        aggregate = cls(id)
        aggregate.fold_more(events)
        return aggregate

    def fold_more(self, events: list[tuple[str, dict[str, Any], datetime]]) -> None:
        """Apply stored (type, data, recorded_at) triples that follow the present version."""
        for type_, data, recorded_at in events:
            self.apply(self.event_types[type_].model_validate(data))
            self.version += 1
            self.recorded_at = recorded_at


class Snapshotted(Aggregate):
    """An aggregate whose stream grows without bound, loaded from its latest snapshot
    (shared/snapshot.py keeps them; the unit of work reads and writes them). Its `recorded_at`
    is of the last event folded after the snapshot (None when there is none): a snapshotted
    aggregate's decisions must not depend on it."""

    snapshot_every: ClassVar[int] = 500
    snapshot_schema: ClassVar[str] = "1"

    def snapshot_state(self) -> dict[str, Any]:
        """The aggregate's folded state as JSON (not its id, version nor pending events)."""
        raise NotImplementedError

    def restore_state(self, state: dict[str, Any]) -> None:
        """Set the folded state from what `snapshot_state` wrote."""
        raise NotImplementedError

    @classmethod
    def restored(cls, id: str, version: int, state: dict[str, Any]) -> Self:
        aggregate = cls(id)
        aggregate.restore_state(state)
        aggregate.version = version
        return aggregate

    @property
    def whole(self) -> bool:
        """Whether this is the whole fold (an aggregate may also be loaded in part, from a read
        model, for one decision: a part is never snapshotted)."""
        return True

    def due_for_snapshot(self, since: int) -> bool:
        """Whether a snapshot is due: the whole fold, and the present version crossed a multiple
        of `snapshot_every` since version `since` (the version loaded, or the last snapshot's)."""
        return self.whole and self.version // self.snapshot_every > since // self.snapshot_every
