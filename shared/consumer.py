"""The consumer runner: integration events in, effects in the database, exactly once in effect.

Messages are handled in batches (what one `getmany` brought, up to `consumer_batch_size`), each
batch in ONE database transaction: the inbox is asked once which of the batch's events were
handled already, the handlers run for the others in the order the partitions gave them, the
batch's events are recorded in the `inbox` with one `INSERT ... ON CONFLICT DO NOTHING
RETURNING`, the transaction commits, and only then are the Kafka offsets committed. A crash at
any point either redoes the whole batch (nothing of it was committed) or skips its events as
already handled (all of it was). Redelivery is normal and harmless.

A message whose handler fails rolls the batch back; the batch is then handled again one message
at a time, so the others still commit. A failing message is retried a bounded number of times
with backoff (its try in the batch counts as the first); then it is dead-lettered: sent to its
topic's dead-letter topic with the error in headers, and kept in the `dead_letters` table.

Dead letters are sequenced per case (docs/reliability.md): the message's key is its case (the
case id for case events; the stream's id for the others). Once one of a case's events is dead-
lettered, the case is parked (`parked_cases`) and its later events wait in `parked_events`,
beside it, while other cases flow on; an operator re-drives or discards the dead letter
(`python -m services.<name> redrive|discard`), and this runner, which has the handlers, applies
the dead letter (unless discarded) and then the waiting events, in order, one transaction each.
A message that is not an event at all (no CloudEvent) is dead-lettered and holds nothing: it
belongs to no case. An event of a type no contract knows (a newer version than this build's)
is skipped and counted (`fayuan_events_unknown_type_total`): readers are tolerant (docs/adr/0001).

Infrastructure failures (the database unreachable) are not the message's fault: they restart
the consumer without committing, so nothing is dead-lettered for them. A failed offset commit
(the broker restarted and forgot the group) restarts the consumer, never the service
(design.md §5).

With tracing on, each message of ours is handled in a span (`process <topic>`), child of the
producer's span named by the message's `ce_traceparent`; what the handler emits carries it on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import traceback
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

# aiokafka ships no type information (no py.typed, no stubs): its objects are Any here.
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped]
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata, TopicPartition  # type: ignore[import-untyped]
from asgi_correlation_id import correlation_id
from opentelemetry.trace import StatusCode, Tracer
from prometheus_client import Counter, Gauge
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared import context, outbox, tracing
from shared.db import is_disconnect
from shared.events import Envelope, IntegrationEvent, event_model
from shared.settings import ServiceSettings
from shared.store import driver, from_jsonb
from shared.topics import dead_letter_topic, ensure_topics
from shared.uow import Projector, UnitOfWork, no_projection

log = logging.getLogger(__name__)

Handler = Callable[[Any, UnitOfWork], Awaitable[None]]

CONSUMED = Counter("fayuan_events_consumed_total", "Integration events handled",
                   ["consumer", "type", "outcome"])
DEAD_LETTERS = Counter("fayuan_dead_letters_total", "Messages sent to a dead-letter topic",
                       ["consumer", "topic"])
UNKNOWN_TYPES = Counter("fayuan_events_unknown_type_total",
                        "Events of a type no contract of this build knows, skipped",
                        ["service", "topic", "type"])
PARKED = Counter("fayuan_events_parked_total",
                 "Events set aside to wait behind their case's dead letter", ["consumer", "topic"])
LAG = Gauge("fayuan_consumer_lag", "Messages behind the end of the partition",
            ["consumer", "topic", "partition"])


class Infrastructure(Exception):
    """The database or broker is unavailable: not the message's fault."""


class _Poison(Exception):
    """The message can never be handled (not an event, or data that fails its schema)."""


class _AlreadyHandled(Exception):
    """A concurrent delivery of one of the batch's events committed its inbox row before ours."""


class _HandlerFailed(Exception):
    """A handler (or the projection it wrote through) raised on one message of a batch."""

    def __init__(self, item: _Item, error: BaseException):
        super().__init__(str(error))
        self.item = item
        self.error = error


@dataclass(eq=False)
class _Item:
    """One message as read: its envelope (None: not a CloudEvent), its route to a handler, its
    typed event, or why it cannot be one (poison); `outcome` once decided."""

    message: ConsumerRecord
    envelope: Envelope | None = None
    route: tuple[type[IntegrationEvent], Handler] | None = None
    event: IntegrationEvent | None = None
    poison: BaseException | None = None
    outcome: str | None = None

    @property
    def case_key(self) -> str | None:
        """The case the event belongs to (its key): None for what is not an event at all."""
        return self.envelope.key if self.envelope is not None and self.envelope.key else None


@dataclass
class _Letter:
    """A dead letter decided in a transaction, sent to its topic once that commits."""

    message: ConsumerRecord
    error: BaseException
    extra: dict[str, Any] = field(default_factory=dict)


def _validated(model: type[IntegrationEvent], envelope: Envelope) -> IntegrationEvent:
    try:
        return model.model_validate(envelope.data)
    except ValidationError as exc:
        raise _Poison(f"data does not match {envelope.type}: {exc}") from exc


def _is_infrastructure(exc: BaseException) -> bool:
    # is_disconnect: raw asyncpg calls (shared.store.driver) raise asyncpg's own errors, which
    # SQLAlchemy never wraps; a PostgreSQL restart must restart the consumer, not dead-letter.
    if is_disconnect(exc):
        return True
    if isinstance(exc, (OperationalError, InterfaceError, OSError, ConnectionError, asyncio.TimeoutError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@dataclass(frozen=True)
class _Stored:
    """A message kept in the database (a dead letter or a waiting event), as a ConsumerRecord."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def _stored(row: Any) -> _Stored:
    headers = [(k, v.encode()) for k, v in from_jsonb(row["headers"]) if not k.startswith("x-dead-letter-")]
    return _Stored(row["topic"], row["partition"], row["offset"], row["key"], row["value"], headers)


def _headers_json(message: Any) -> str:
    return json.dumps([[k, v.decode(errors="replace")] for k, v in message.headers or ()])


class ConsumerRunner:
    def __init__(
        self,
        engine: AsyncEngine,
        settings: ServiceSettings,
        *,
        name: str,
        handlers: dict[type[IntegrationEvent], Handler],
        projector: Projector = no_projection,
        tracer: Tracer | None = None,
    ):
        self.projector = projector
        self.tracer = tracer
        self.engine = engine
        self.settings = settings
        self.name = f"{settings.service_name}.{name}"
        self.group_id = settings.group(f"fayuan.{self.name}")
        self.handlers = {model.type: (model, handler) for model, handler in handlers.items()}
        self.topics = sorted({settings.topic(model.topic) for model in handlers})
        self.handled = 0
        self.running = False
        # The partitions the group gave this runner at its last poll (empty while it joins or
        # rebalances): what replicas of one service split between them.
        self.assigned: frozenset[TopicPartition] = frozenset()
        self._lag_reported: set[TopicPartition] = set()
        self._redrive_checked = time.monotonic()

    # --- reading ----------------------------------------------------------------------------

    def _read(self, message: ConsumerRecord) -> _Item:
        item = _Item(message)
        try:
            item.envelope = Envelope.from_kafka(message.topic, message.key, message.value, message.headers)
        except ValueError as exc:
            item.poison = exc  # not an event at all: dead-lettered, holds no case
            return item
        route = self.handlers.get(item.envelope.type)
        if route is None:
            if event_model(item.envelope.type) is None:  # a newer version than this build knows
                UNKNOWN_TYPES.labels(self.settings.service_name, message.topic,
                                     item.envelope.type[:120]).inc()
                item.outcome = "unknown-type"
            else:
                item.outcome = "ignored"  # another consumer's type on a shared topic
            return item
        item.route = route
        try:
            item.event = _validated(route[0], item.envelope)
        except _Poison as exc:
            item.poison = exc  # one of the case's events that cannot be read: it holds the case
        return item

    # --- a batch ----------------------------------------------------------------------------

    async def handle(self, message: ConsumerRecord, producer: AIOKafkaProducer) -> str:
        """Handle one message; returns the outcome."""
        [outcome] = await self.handle_batch([message], producer)
        return outcome

    async def handle_batch(self, messages: Sequence[ConsumerRecord], producer: AIOKafkaProducer) -> list[str]:
        """Handle messages (each partition's in order) in one transaction; on a failing handler,
        one by one. Returns each message's outcome. Raises Infrastructure to stop the consumer."""
        items = [self._read(m) for m in messages]
        failed: _Item | None = None
        try:
            for attempt in range(3):
                try:
                    await self._transact(items, producer)
                    break
                except _AlreadyHandled:
                    if attempt == 2:
                        raise
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            cause = exc.error if isinstance(exc, _HandlerFailed) else exc
            if _is_infrastructure(cause):
                raise Infrastructure(str(cause)) from cause
            if isinstance(exc, _HandlerFailed):
                failed = exc.item
            if len(items) > 1:
                log.warning("batch failed: handling its messages one by one",
                            extra={"consumer": self.name, "messages": len(items), "error": str(cause)})
            for item in items:
                if item.outcome is None:
                    await self._one(item, producer, tried=1 if item is failed else 0, error=cause)
        tally = Tally((i.envelope.type if i.envelope else "-", i.outcome) for i in items)
        for (type_, outcome), count in tally.items():
            CONSUMED.labels(self.name, type_, outcome).inc(count)
        return [i.outcome or "dead-letter" for i in items]

    async def _one(self, item: _Item, producer: AIOKafkaProducer, *, tried: int,
                   error: BaseException) -> None:
        """One message in a transaction of its own, retried; dead-lettered after the last try."""
        attempts = max(1, self.settings.consumer_max_retries + 1)
        for attempt in range(tried + 1, attempts + 1):
            if attempt > 1:
                tracing.note_retry("handler failed: running again", attempt - 1, error)
                await asyncio.sleep(self.settings.consumer_retry_backoff_seconds * 2 ** (attempt - 2))
            try:
                await self._transact([item], producer)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = exc.error if isinstance(exc, _HandlerFailed) else exc
                if _is_infrastructure(error):
                    raise Infrastructure(str(error)) from error
        envelope = item.envelope
        log.error("event failed after retries", exc_info=error,
                  extra={"consumer": self.name, "event_id": envelope.id if envelope else None})
        item.poison = error
        await self._transact([item], producer)

    async def _transact(self, items: list[_Item], producer: AIOKafkaProducer) -> None:
        """The undecided items in one transaction; sets their outcomes once it committed."""
        todo = [i for i in items if i.outcome is None]
        if not todo:
            return
        outcomes: dict[int, str] = {}
        letters: list[_Letter] = []
        handled: list[Envelope] = []
        async with self.engine.begin() as conn:
            db = await driver(conn)
            ids = [i.envelope.id for i in todo if i.envelope is not None]
            done = {r["event_id"] for r in await db.fetch(
                "SELECT event_id FROM inbox WHERE consumer = $1 AND event_id = ANY($2::text[])",
                self.name, ids)} if ids else set()
            keys = sorted({k for i in todo if (k := i.case_key) is not None})
            # FOR SHARE: an operator's re-drive of one of these cases (which locks its row) ends
            # before this reads it, so an event either waits behind it or follows it, never both.
            held = {r["case_key"] for r in await db.fetch(
                "SELECT case_key FROM parked_cases WHERE consumer = $1 AND case_key = ANY($2::text[]) "
                "FOR SHARE", self.name, keys)} if keys else set()
            uow = UnitOfWork(conn, self.settings, self.projector)
            for n, item in enumerate(todo):
                envelope, key = item.envelope, item.case_key
                if envelope is not None and envelope.id in done:
                    outcomes[n] = "duplicate"
                elif key is not None and key in held:
                    await self._wait(db, item)
                    outcomes[n] = "parked"
                elif item.poison is not None:
                    letters.append(await self._record_dead_letter(db, item.message, item.poison,
                                                                  envelope=envelope, hold=key))
                    if key is not None:
                        held.add(key)
                    outcomes[n] = "dead-letter"
                elif envelope is not None:
                    await self._call(item, uow)
                    done.add(envelope.id)
                    handled.append(envelope)
                    outcomes[n] = "handled"
            await uow.flush()
            if handled:
                # Recorded last, not first: a transaction takes its id at its first write, and
                # an id taken before the handlers read would make the outbox refuse its keys
                # (shared.outbox.KeyOrderConflict) more often than needed.
                inserted = await db.fetch(
                    "INSERT INTO inbox (consumer, event_id, type, topic) "
                    "SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[]) "
                    "ON CONFLICT DO NOTHING RETURNING event_id",
                    self.name, [e.id for e in handled], [e.type for e in handled], [e.topic for e in handled])
                if len(inserted) != len(handled):
                    raise _AlreadyHandled  # another delivery committed first: undo ours, read again
        if uow.wrote_outbox:
            outbox.committed(self.engine)
        for n, item in enumerate(todo):
            item.outcome = outcomes[n]
        self.handled += len(handled)
        for letter in letters:
            await self._send_dead_letter(producer, letter)

    async def _call(self, item: _Item, uow: UnitOfWork) -> None:
        envelope, route, event = item.envelope, item.route, item.event
        assert envelope is not None and route is not None and event is not None
        actor = context.actor.set(f"service:{self.name}")
        causation = context.causation_id.set(envelope.id)
        correlation = correlation_id.set(envelope.correlation_id)
        try:
            if self.tracer is None:
                await route[1](event, uow)
                return
            message = item.message
            with tracing.process_span(self.tracer, envelope, consumer=self.name, group=self.group_id,
                                      partition=message.partition, offset=message.offset) as span:
                try:
                    await route[1](event, uow)
                except Exception:
                    span.set_status(StatusCode.ERROR, "handler failed")
                    raise
                span.set_attribute("fayuan.outcome", "handled")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise _HandlerFailed(item, exc) from exc
        finally:
            correlation_id.reset(correlation)
            context.causation_id.reset(causation)
            context.actor.reset(actor)

    # --- dead letters and waiting events ----------------------------------------------------

    async def _wait(self, db: Any, item: _Item) -> None:
        """Set one of a held case's later events aside, beside its dead letter."""
        message, envelope = item.message, item.envelope
        assert envelope is not None
        await db.execute(
            'INSERT INTO parked_events (consumer, case_key, topic, partition, "offset", event_id, type, '
            "key, value, headers) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
            "ON CONFLICT (consumer, event_id) DO NOTHING",
            self.name, item.case_key, message.topic, message.partition, message.offset, envelope.id,
            envelope.type, message.key, message.value, _headers_json(message))
        PARKED.labels(self.name, message.topic).inc()

    async def _record_dead_letter(self, db: Any, message: Any, error: BaseException, *,
                                  envelope: Envelope | None, hold: str | None) -> _Letter:
        """The dead letter's row (and, for a case's event, the hold on its case), in the caller's
        transaction; sent to the dead-letter topic once that commits."""
        dead_letter_id = await db.fetchval(
            'INSERT INTO dead_letters (consumer, topic, partition, "offset", event_id, type, key, value, '
            "headers, error, case_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            self.name, message.topic, message.partition, message.offset,
            envelope.id if envelope else None, envelope.type if envelope else None,
            message.key, message.value, _headers_json(message), _error_text(error), hold)
        if hold is not None:
            await db.execute(
                "INSERT INTO parked_cases (consumer, case_key, dead_letter_id) VALUES ($1, $2, $3) "
                "ON CONFLICT (consumer, case_key) DO UPDATE SET dead_letter_id = EXCLUDED.dead_letter_id, "
                "action = NULL, error = NULL",
                self.name, hold, dead_letter_id)
        return _Letter(message, error)

    async def _send_dead_letter(self, producer: AIOKafkaProducer, letter: _Letter) -> None:
        message, exc = letter.message, letter.error
        error = _error_text(exc)
        headers = [(k, v) for k, v in message.headers or () if not k.startswith("x-dead-letter-")] + [
            ("x-dead-letter-consumer", self.name.encode()),
            ("x-dead-letter-topic", message.topic.encode()),
            ("x-dead-letter-partition", str(message.partition).encode()),
            ("x-dead-letter-offset", str(message.offset).encode()),
            ("x-dead-letter-error-type", type(exc).__name__.encode()),
            ("x-dead-letter-error", error.encode()),
            ("x-dead-letter-stack", "".join(traceback.format_exception(exc))[-4000:].encode()),
        ]
        await producer.send_and_wait(dead_letter_topic(message.topic), message.value, key=message.key,
                                     headers=headers)
        DEAD_LETTERS.labels(self.name, message.topic).inc()
        log.error("dead-lettered", extra={"consumer": self.name, "topic": message.topic,
                                          "offset": message.offset, "error": error})

    # --- an operator's re-drive -------------------------------------------------------------

    async def redrive_requested(self, producer: AIOKafkaProducer, *, limit: int | None = None) -> int:
        """Carry out the re-drives and discards operators asked for (shared.deadletters): for
        each such case, its dead letter (applied, or thrown away), then its waiting events in
        order, one transaction each; the case flows again once none is left. At most `limit`
        steps (the rest at the next check, so the consumer keeps polling its group). Returns how
        many steps were taken."""
        limit = limit or max(1, self.settings.consumer_batch_size)
        async with self.engine.connect() as conn:
            db = await driver(conn)
            keys = [r["case_key"] for r in await db.fetch(
                "SELECT case_key FROM parked_cases WHERE consumer = $1 AND action IS NOT NULL "
                "ORDER BY requested_at", self.name)]
        steps = 0
        for key in keys:
            while steps < limit and await self._redrive_step(key, producer):
                steps += 1
        return steps

    async def _redrive_step(self, key: str, producer: AIOKafkaProducer) -> bool:
        """One step of a case's re-drive; False when there is nothing more to do for it now."""
        attempts = max(1, self.settings.consumer_max_retries + 1)
        for attempt in range(1, attempts + 1):
            try:
                return await self._redrive_once(key, producer)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                error = exc.error if isinstance(exc, _HandlerFailed) else exc
                if _is_infrastructure(error):
                    raise Infrastructure(str(error)) from error
                if attempt == attempts:
                    await self._redrive_failed(key, error, producer)
                    return False
                await asyncio.sleep(self.settings.consumer_retry_backoff_seconds * 2 ** (attempt - 1))
        return False

    async def _redrive_once(self, key: str, producer: AIOKafkaProducer) -> bool:
        async with self.engine.begin() as conn:
            db = await driver(conn)
            # SKIP LOCKED: another replica is on this case; it carries on.
            case = await db.fetchrow(
                "SELECT dead_letter_id, action FROM parked_cases WHERE consumer = $1 AND case_key = $2 "
                "AND action IS NOT NULL FOR UPDATE SKIP LOCKED", self.name, key)
            if case is None:
                return False
            head = await db.fetchrow(
                'SELECT id, topic, partition, "offset", key, value, headers FROM dead_letters '
                "WHERE id = $1 AND replayed_at IS NULL AND discarded_at IS NULL", case["dead_letter_id"])
            if head is not None:
                if case["action"] == "discard":
                    await db.execute("UPDATE dead_letters SET discarded_at = now() WHERE id = $1", head["id"])
                else:
                    await self._reapply(conn, _stored(head))
                    await db.execute("UPDATE dead_letters SET replayed_at = now() WHERE id = $1", head["id"])
                return True
            waiting = await db.fetchrow(
                'SELECT id, topic, partition, "offset", key, value, headers FROM parked_events '
                "WHERE consumer = $1 AND case_key = $2 ORDER BY id LIMIT 1", self.name, key)
            if waiting is None:
                await db.execute("DELETE FROM parked_cases WHERE consumer = $1 AND case_key = $2",
                                 self.name, key)
                log.info("case flows again", extra={"consumer": self.name, "case_key": key})
                return False
            await self._reapply(conn, _stored(waiting))
            await db.execute("DELETE FROM parked_events WHERE id = $1", waiting["id"])
            return True

    async def _reapply(self, conn: AsyncConnection, message: _Stored) -> None:
        """Apply a kept message in the caller's transaction, as a batch of one would."""
        item = self._read(message)
        if item.outcome is not None:
            return  # a type no longer ours, or unknown: nothing to apply
        if item.poison is not None:
            raise item.poison
        db = await driver(conn)
        envelope = item.envelope
        assert envelope is not None
        if await db.fetchval("SELECT true FROM inbox WHERE consumer = $1 AND event_id = $2",
                             self.name, envelope.id):
            return
        uow = UnitOfWork(conn, self.settings, self.projector)
        await self._call(item, uow)
        await uow.flush()
        await db.execute("INSERT INTO inbox (consumer, event_id, type, topic) VALUES ($1, $2, $3, $4)",
                         self.name, envelope.id, envelope.type, envelope.topic)
        self.handled += 1

    async def _redrive_failed(self, key: str, error: BaseException, producer: AIOKafkaProducer) -> None:
        """The re-drive stops at the event that failed again. A waiting event that fails becomes
        the case's dead letter (on the dead-letter topic too); the case stays held, for the
        operator to look at again."""
        letter: _Letter | None = None
        async with self.engine.begin() as conn:
            db = await driver(conn)
            case = await db.fetchrow(
                "SELECT dead_letter_id FROM parked_cases WHERE consumer = $1 AND case_key = $2 FOR UPDATE",
                self.name, key)
            if case is None:
                return
            head_open = await db.fetchval(
                "SELECT true FROM dead_letters WHERE id = $1 AND replayed_at IS NULL "
                "AND discarded_at IS NULL", case["dead_letter_id"])
            if not head_open:
                waiting = await db.fetchrow(
                    'SELECT id, topic, partition, "offset", event_id, type, key, value, headers '
                    "FROM parked_events WHERE consumer = $1 AND case_key = $2 ORDER BY id LIMIT 1",
                    self.name, key)
                if waiting is not None:
                    message = _stored(waiting)
                    item = self._read(message)
                    letter = await self._record_dead_letter(db, message, error, envelope=item.envelope,
                                                            hold=key)
                    await db.execute("DELETE FROM parked_events WHERE id = $1", waiting["id"])
            await db.execute(
                "UPDATE parked_cases SET action = NULL, error = $3 WHERE consumer = $1 AND case_key = $2",
                self.name, key, _error_text(error))
        log.error("re-drive stopped", exc_info=error, extra={"consumer": self.name, "case_key": key})
        if letter is not None:
            await self._send_dead_letter(producer, letter)

    # --- the loop ---------------------------------------------------------------------------

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=self.group_id,
            client_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=5000,
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
            **self.settings.kafka_security(),
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; finish the batch in hand, commit, leave the group."""
        while not stop.is_set():
            consumer = self._consumer()
            producer = AIOKafkaProducer(bootstrap_servers=self.settings.kafka_bootstrap_servers,
                                        **self.settings.kafka_security())
            try:
                await ensure_topics(self.settings, self.topics + [dead_letter_topic(t) for t in self.topics])
                await producer.start()
                await consumer.start()
                self.running = True
                await self._consume(consumer, producer, stop)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("consumer stopped; restarting", extra={"consumer": self.name})
                await _sleep(stop, 1.0)
            finally:
                self.running = False
                self.assigned = frozenset()
                # Bounded: leaving a group whose join is still in flight waits for the broker
                # (tens of seconds on a loaded one), past the shutdown's budget. What was handled
                # is committed already; the group rebalances without us. Both clients at once, so
                # a slow leave does not make the producer's stop wait its turn behind it.
                stopped = await asyncio.gather(*(asyncio.wait_for(client.stop(), CLIENT_STOP_SECONDS)
                                                 for client in (consumer, producer)), return_exceptions=True)
                for client, outcome in zip(("consumer", "producer"), stopped, strict=True):
                    if isinstance(outcome, Exception):
                        log.warning("kafka client did not stop cleanly", extra={
                            "consumer": self.name, "client": client, "error": _error_text(outcome)})

    async def _consume(
        self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, stop: asyncio.Event
    ) -> None:
        wait_ms = max(0, int(self.settings.consumer_batch_wait_seconds * 1000))
        every = self.settings.consumer_redrive_check_seconds
        while not stop.is_set():
            if every > 0 and time.monotonic() - self._redrive_checked >= every:
                self._redrive_checked = time.monotonic()
                await self.redrive_requested(producer)
            batch = await consumer.getmany(timeout_ms=wait_ms, max_records=self.settings.consumer_batch_size)
            self.assigned = frozenset(consumer.assignment())
            # A partition handed to another replica is reported there: drop our last, stale value.
            for tp in self._lag_reported - consumer.assignment():
                LAG.remove(self.name, tp.topic, tp.partition)
                self._lag_reported.discard(tp)
            if not batch or stop.is_set():
                continue  # shutting down: what was fetched is redelivered to the next owner
            messages = [message for records in batch.values() for message in records]
            await self.handle_batch(messages, producer)
            offsets = {tp: OffsetAndMetadata(records[-1].offset + 1, "")
                       for tp, records in batch.items() if records}
            if offsets:
                await consumer.commit(offsets)
            for tp in offsets:
                highwater = consumer.highwater(tp)
                if highwater is not None:
                    LAG.labels(self.name, tp.topic, tp.partition).set(max(0, highwater - offsets[tp].offset))
                    self._lag_reported.add(tp)


CLIENT_STOP_SECONDS = 5.0


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
