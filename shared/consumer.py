"""The consumer runner: integration events in, effects in the database, exactly once in effect.

For each message: parse the CloudEvent, find the handler for its type, and in one database
transaction record (consumer, event id) in the `inbox` and run the handler (its projection
writes, its appends, its outbox rows). The Kafka offset is committed only after that commit,
so a crash at any point either redoes the whole message (the inbox row was not committed) or
skips it as already handled (it was). Redelivery is normal and harmless.

A message that fails is retried a bounded number of times with backoff; then it goes to the
topic's dead-letter topic with the error in headers (and to the `dead_letters` table, so it
can be listed and replayed), and the partition moves on. A message that is not a valid event
at all goes there at once. Infrastructure failures (the database unreachable) are not the
message's fault: they restart the consumer without committing, so nothing is dead-lettered
for them.

A failed offset commit (the broker restarted and forgot the group) restarts the consumer,
never the service (design.md §5).

With tracing on, each message of ours is handled in a span (`process <topic>`), child of the
producer's span named by the message's `ce_traceparent`; what the handler emits carries it on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

# aiokafka ships no type information (no py.typed, no stubs): its objects are Any here.
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped]
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata, TopicPartition  # type: ignore[import-untyped]
from opentelemetry.trace import StatusCode, Tracer
from prometheus_client import Counter, Gauge
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import context, tracing
from shared.events import Envelope, IntegrationEvent
from shared.settings import ServiceSettings
from shared.store import driver
from shared.topics import dead_letter_topic, ensure_topics
from shared.uow import Projector, UnitOfWork, no_projection

log = logging.getLogger(__name__)

Handler = Callable[[Any, UnitOfWork], Awaitable[None]]

CONSUMED = Counter("fayuan_events_consumed_total", "Integration events handled",
                   ["consumer", "type", "outcome"])
DEAD_LETTERS = Counter("fayuan_dead_letters_total", "Messages sent to a dead-letter topic",
                       ["consumer", "topic"])
LAG = Gauge("fayuan_consumer_lag", "Messages behind the end of the partition",
            ["consumer", "topic", "partition"])


class Infrastructure(Exception):
    """The database or broker is unavailable: not the message's fault."""


class _Poison(Exception):
    """The message can never be handled (not an event, or data that fails its schema)."""


class _AlreadyHandled(Exception):
    """A concurrent delivery of the same event committed its inbox row before ours."""


def _validated(model: type[IntegrationEvent], envelope: Envelope) -> IntegrationEvent:
    try:
        return model.model_validate(envelope.data)
    except ValidationError as exc:
        raise _Poison(f"data does not match {envelope.type}: {exc}") from exc


def _is_infrastructure(exc: BaseException) -> bool:
    if isinstance(exc, (OperationalError, InterfaceError, OSError, ConnectionError, asyncio.TimeoutError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


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
        self._lag_reported: set[TopicPartition] = set()

    # --- one message ------------------------------------------------------------------------

    async def handle(self, message: ConsumerRecord, producer: AIOKafkaProducer) -> str:
        """Handle one message; returns the outcome. Raises Infrastructure to stop the batch."""
        try:
            envelope = Envelope.from_kafka(message.topic, message.key, message.value, message.headers)
        except ValueError as exc:
            await self._dead_letter(message, producer, exc, event_id=None, type_=None)
            return "dead-letter"
        route = self.handlers.get(envelope.type)
        if route is None:
            return "ignored"  # another consumer's type on a shared topic
        if self.tracer is None:
            return await self._handle(message, producer, envelope, *route)
        with tracing.process_span(self.tracer, envelope, consumer=self.name, group=self.group_id,
                                  partition=message.partition, offset=message.offset) as span:
            outcome = await self._handle(message, producer, envelope, *route)
            span.set_attribute("fayuan.outcome", outcome)
            if outcome == "dead-letter":
                span.set_status(StatusCode.ERROR, "dead-lettered")
            return outcome

    async def _handle(self, message: ConsumerRecord, producer: AIOKafkaProducer, envelope: Envelope,
                      model: type[IntegrationEvent], handler: Handler) -> str:
        try:
            event = _validated(model, envelope)
        except _Poison as exc:
            await self._dead_letter(message, producer, exc, event_id=None, type_=None)
            return "dead-letter"

        attempts = max(1, self.settings.consumer_max_retries + 1)
        for attempt in range(1, attempts + 1):
            try:
                outcome = await self._apply(envelope, event, handler)
                CONSUMED.labels(self.name, envelope.type, outcome).inc()
                return outcome
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if _is_infrastructure(exc):
                    raise Infrastructure(str(exc)) from exc
                if attempt == attempts:
                    log.exception("event failed after retries",
                                  extra={"consumer": self.name, "event_id": envelope.id})
                    await self._dead_letter(message, producer, exc, event_id=envelope.id, type_=envelope.type)
                    CONSUMED.labels(self.name, envelope.type, "dead-letter").inc()
                    return "dead-letter"
                tracing.note_retry("handler failed: running again", attempt, exc)
                await asyncio.sleep(self.settings.consumer_retry_backoff_seconds * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def _apply(self, envelope: Envelope, event: IntegrationEvent, handler: Handler) -> str:
        actor = context.actor.set(f"service:{self.name}")
        causation = context.causation_id.set(envelope.id)
        from asgi_correlation_id import correlation_id

        correlation = correlation_id.set(envelope.correlation_id)
        try:
            async with self.engine.begin() as conn:
                db = await driver(conn)
                if await db.fetchval(
                    "SELECT true FROM inbox WHERE consumer = $1 AND event_id = $2", self.name, envelope.id
                ):
                    return "duplicate"
                uow = UnitOfWork(conn, self.settings, self.projector)
                await handler(event, uow)
                await uow.flush()
                # Recorded last, not first: a transaction takes its id at its first write, and
                # an id taken before the handler reads would make the outbox refuse its keys
                # (shared.outbox.KeyOrderConflict) more often than needed.
                first_time = await db.fetchval(
                    "INSERT INTO inbox (consumer, event_id, type, topic) VALUES ($1, $2, $3, $4) "
                    "ON CONFLICT DO NOTHING RETURNING true",
                    self.name,
                    envelope.id,
                    envelope.type,
                    envelope.topic,
                )
                if not first_time:
                    raise _AlreadyHandled  # another delivery of it committed first: undo ours
            self.handled += 1
            return "handled"
        except _AlreadyHandled:
            return "duplicate"
        finally:
            correlation_id.reset(correlation)
            context.causation_id.reset(causation)
            context.actor.reset(actor)

    async def _dead_letter(
        self,
        message: ConsumerRecord,
        producer: AIOKafkaProducer,
        exc: BaseException,
        *,
        event_id: str | None,
        type_: str | None,
    ) -> None:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        headers = list(message.headers or ()) + [
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
        async with self.engine.begin() as conn:
            db = await driver(conn)
            await db.execute(
                'INSERT INTO dead_letters '
                '(consumer, topic, partition, "offset", event_id, type, key, value, headers, error) '
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                self.name,
                message.topic,
                message.partition,
                message.offset,
                event_id,
                type_,
                message.key,
                message.value,
                json.dumps([[k, v.decode(errors="replace")] for k, v in message.headers or ()]),
                error,
            )
        DEAD_LETTERS.labels(self.name, message.topic).inc()
        log.error("dead-lettered", extra={"consumer": self.name, "topic": message.topic,
                                          "offset": message.offset, "error": error})

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
                for client in (consumer, producer):
                    try:
                        await client.stop()
                    except Exception:
                        log.warning("kafka client did not stop cleanly", extra={"consumer": self.name})

    async def _consume(
        self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, stop: asyncio.Event
    ) -> None:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=200, max_records=self.settings.consumer_batch_size)
            # A partition handed to another replica is reported there: drop our last, stale value.
            for tp in self._lag_reported - consumer.assignment():
                LAG.remove(self.name, tp.topic, tp.partition)
                self._lag_reported.discard(tp)
            if not batch:
                continue
            offsets: dict[TopicPartition, OffsetAndMetadata] = {}
            try:
                for tp, messages in batch.items():
                    for message in messages:
                        if stop.is_set():
                            break  # shutting down: the rest is redelivered to the next owner
                        await self.handle(message, producer)
                        offsets[tp] = OffsetAndMetadata(message.offset + 1, "")
            finally:
                # Commit what was handled, even when the batch stopped part-way, so a restart
                # does not redo it (it would be a harmless duplicate, but a slow one).
                if offsets:
                    await consumer.commit(offsets)
            for tp in batch:
                highwater = consumer.highwater(tp)
                if highwater is not None and tp in offsets:
                    LAG.labels(self.name, tp.topic, tp.partition).set(max(0, highwater - offsets[tp].offset))
                    self._lag_reported.add(tp)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
