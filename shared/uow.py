"""The unit of work: one transaction in which a command loads an aggregate, appends what it
decided to the store and queues the integration events that tell others.

The handler shape (cosmicpython's): open the unit of work, load one aggregate, call one domain
method, save, commit. A concurrent writer makes `save` raise `ConcurrencyError`; the handler is
wrapped in `retry_on_conflict`, which runs it again on fresh state, and, when tracing is on,
in a span named after the handler (shared/tracing.py): the events it emits carry that span's
context to the outbox and on through Kafka.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tenacity import (
    RetryCallState,
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from shared import context, outbox, snapshot, store, tracing
from shared.aggregate import Aggregate, Snapshotted
from shared.db import is_transaction_conflict
from shared.events import Envelope, IntegrationEvent
from shared.settings import ServiceSettings

A = TypeVar("A", bound=Aggregate)
S = TypeVar("S", bound=Snapshotted)
P = ParamSpec("P")
R = TypeVar("R")


Projector = Callable[[AsyncConnection, store.RecordedEvent], Awaitable[None]]


async def no_projection(conn: AsyncConnection, event: store.RecordedEvent) -> None:
    return None


class UnitOfWork:
    """One transaction. `save` appends and, in the same transaction, folds the new events into
    the service's read models through its projector, so what a command wrote is readable the
    moment it returns."""

    def __init__(
        self, conn: AsyncConnection, settings: ServiceSettings, projector: Projector = no_projection
    ):
        self.conn = conn
        self.settings = settings
        self.projector = projector
        self.source = f"/fayuan/{settings.service_name}"
        self._outbox: list[Envelope] = []
        self._writes: list[tuple[str, tuple[object, ...]]] = []
        self.wrote_outbox = False  # its commit wakes the relay (`outbox.committed`)

    async def get(self, cls: type[A], id: str, *, as_of: datetime | None = None) -> A:
        """The aggregate folded from its stream (empty, version 0, when the stream is new); one
        whose stream grows without bound (shared/snapshot.py) from its latest snapshot on."""
        stream_id = cls.stream_id(id)
        if as_of is None and issubclass(cls, Snapshotted):
            return await self._get_from_snapshot(cls, id)
        rows = await store.load(self.conn, stream_id, as_of=as_of)
        return cls.fold(id, [(r.type, r.data, r.recorded_at) for r in rows])

    async def _get_from_snapshot(self, cls: type[S], id: str) -> S:
        """Restore the latest snapshot and fold the events after it; when that tail reached
        `snapshot_every` events (the stream is written by decisions that read it in part, from a
        read model, and never snapshot), keep a fresh snapshot in this transaction."""
        stream_id = cls.stream_id(id)
        taken = await snapshot.load(self.conn, cls, stream_id)
        if taken is None:
            aggregate, since = cls(id), 0
        else:
            aggregate, since = cls.restored(id, taken.version, taken.state), taken.version
        rows = await store.load(self.conn, stream_id, after_version=since)
        aggregate.fold_more([(r.type, r.data, r.recorded_at) for r in rows])
        if aggregate.due_for_snapshot(since):
            await snapshot.save(self.conn, aggregate)
        return aggregate

    async def save(self, aggregate: Aggregate) -> list[store.RecordedEvent]:
        """Append the aggregate's pending events at the version it was loaded at."""
        pending, aggregate.pending = aggregate.pending, []
        loaded_at = aggregate.version
        meta = context.metadata()
        recorded = await store.append(
            self.conn,
            aggregate.stream_id(aggregate.id),
            loaded_at,
            [store.NewEvent(type=e.event_type(), data=e.model_dump(mode="json"), metadata=meta)
             for e in pending],
        )
        aggregate.version = loaded_at + len(recorded)
        for event in recorded:
            await self.projector(self.conn, event)
        if isinstance(aggregate, Snapshotted) and aggregate.due_for_snapshot(loaded_at):
            await snapshot.save(self.conn, aggregate)
        return recorded

    def emit(
        self, event: IntegrationEvent, *, event_id: str | None = None, time: datetime | None = None
    ) -> Envelope:
        """Queue an integration event; it is written to the outbox on commit. With tracing on, it
        carries the current span's context (the command's or the consumer's), which the relay
        publishes with it, later and elsewhere."""
        envelope = Envelope.wrap(
            event,
            source=self.source,
            event_id=event_id,
            time=time,
            correlation_id=context.metadata().get("correlation_id"),
            causation_id=context.causation_id.get(),
        )
        extensions = envelope.extensions
        if self.settings.tracing_enabled:
            extensions = {**extensions, **tracing.inject()}
        envelope = Envelope(**{**envelope.__dict__, "topic": self.settings.topic(event.topic),
                               "extensions": extensions})
        self._outbox.append(envelope)
        return envelope

    def write_later(self, sql: str, *args: object) -> None:
        """Queue a write that nothing later in this transaction reads (a projection's row
        inserted or counted, never read back by the next event's handler): `flush` sends the
        queued writes in the order queued, each run of one statement as one asyncpg
        `executemany`, pipelined in one round trip. So a consumer's batch (shared/consumer.py)
        writes such rows set-wise instead of one round trip per event. A write that a later
        handler of the same batch reads must be executed at once, as always: it would not see
        a queued one. `sql` is asyncpg's ($1, $2, ...)."""
        self._writes.append((sql, args))

    async def flush(self) -> None:
        """The queued writes, then the queued integration events into the outbox."""
        writes, self._writes = self._writes, []
        if writes:
            db = await store.driver(self.conn)
            for sql, run in itertools.groupby(writes, key=lambda write: write[0]):
                await db.executemany(sql, [args for _, args in run])
        queued, self._outbox = self._outbox, []
        await outbox.add(self.conn, queued)
        self.wrote_outbox = self.wrote_outbox or bool(queued)


@asynccontextmanager
async def unit_of_work(
    engine: AsyncEngine, settings: ServiceSettings, projector: Projector = no_projection
) -> AsyncIterator[UnitOfWork]:
    """A transaction that commits when the block ends without error, and rolls back otherwise."""
    async with engine.begin() as conn:
        uow = UnitOfWork(conn, settings, projector)
        yield uow
        await uow.flush()
    if uow.wrote_outbox:
        outbox.committed(engine)


UnitOfWorkFactory = Callable[[], AbstractAsyncContextManager[UnitOfWork]]
"""What a command handler is given: it opens its own unit of work, so it can retry."""


def _note_conflict(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    # Tenacity counts from the second attempt: the first is a plain call (retry_on_conflict).
    tracing.note_retry("concurrency conflict: running again", state.attempt_number + 1, error)


ATTEMPTS = 5


def _conflict(exc: BaseException) -> bool:
    """Another writer got there first: it appended to the stream (ConcurrencyError), or
    PostgreSQL rolled this transaction back for another's sake (a deadlock, say with a rebuild
    locking the same tables; a serialization failure)."""
    return isinstance(exc, store.ConcurrencyError) or is_transaction_conflict(exc)


def retry_on_conflict(handler: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Run a command handler again when another writer appended to its stream first, or
    PostgreSQL aborted its transaction in a deadlock; with tracing on, in a span named after it
    (the retries inside it, as events).

    The first attempt is a plain call: tenacity's machinery (its state, its checks of the
    callables) cost registration a tenth of its time per request, for a conflict that almost
    never happens (docs/benchmarks.md). Only after a conflict does tenacity take over, with
    the same pause it would have made, for the remaining attempts."""
    retried = retry(
        retry=retry_if_exception(_conflict),
        stop=stop_after_attempt(ATTEMPTS - 1),
        wait=wait_random_exponential(multiplier=0.01, max=0.2),
        before_sleep=_note_conflict,
        reraise=True,
    )(handler)
    name = handler.__qualname__
    qualified_name = f"{handler.__module__}.{name}"

    async def attempts(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await handler(*args, **kwargs)
        except Exception as conflict:
            if not _conflict(conflict):
                raise
            tracing.note_retry("concurrency conflict: running again", 1, conflict)
            # The pause tenacity's wait_random_exponential makes after a first attempt.
            await asyncio.sleep(random.uniform(0, 0.02))  # noqa: S311  # nosec B311 - jitter, not a secret
            return await retried(*args, **kwargs)

    @functools.wraps(handler)
    async def command(*args: P.args, **kwargs: P.kwargs) -> R:
        tracer = tracing.current_tracer()
        if tracer is None:
            return await attempts(*args, **kwargs)
        with tracing.command_span(tracer, name, qualified_name):
            return await attempts(*args, **kwargs)

    return command
