"""Transactional outbox and its relay.

`add()` writes integration events into the `outbox` table on the caller's connection, inside
the same transaction as the events they come from: nothing is published that was not
committed, and nothing committed is left unpublished.

The relay publishes outbox rows to Kafka in order. Rows are read in (txid, position) order and
only when their transaction id is below the oldest transaction still running
(`pg_snapshot_xmin(pg_current_snapshot())`): a transaction that inserted a lower position but
commits later is still running, so its rows are not yet eligible, and the cursor cannot pass
them (docs/adr/0002-outbox-order.md). The cursor (txid, position) is stored after each batch is
acknowledged by the broker, so a relay that dies re-sends at most one batch; consumers dedupe.

Only one relay per service publishes (a PostgreSQL advisory lock elects it), so one case's
events reach its partition in order even with several replicas. The lock is a session's, so the
relay reads and moves its cursor on the very connection that holds it: if that connection dies
(PostgreSQL restarted, the lock went with it), nothing more can be read for publication on it,
and the relay takes a fresh connection and waits for the lock again before it publishes.

When the broker comes back empty (the embedded broker keeps everything in memory), the relay
notices that its epoch marker is gone and re-sends the whole outbox from the beginning.

Nothing grows without bound: `purge()` deletes the outbox rows every relay has published and
that are older than `outbox_retention_days`, and the inbox rows older than
`inbox_retention_days` (docs/reliability.md, "Purging the outbox and the inbox").

With tracing on, each row's publication is a span of its own (`send <topic>`), child of the
context stored with the row (its `traceparent` extension, written by the command that emitted
it), and the message carries that span's context to the consumers. One span per row rather than
one per batch with links: a batch holds the rows of many cases, and a per-batch span could sit
in one trace only, leaving the relay hop out of every other case's trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
import zlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

# asyncpg ships no type information (no py.typed, no stubs): its objects are Any here.
import asyncpg  # type: ignore[import-untyped]

# aiokafka ships no type information (no py.typed, no stubs): its objects are Any here.
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped]
from aiokafka.structs import TopicPartition  # type: ignore[import-untyped]
from opentelemetry.trace import Span, Tracer
from prometheus_client import Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared import clock, tracing
from shared.db import is_disconnect
from shared.events import Envelope
from shared.settings import ServiceSettings
from shared.store import ConcurrencyError, driver, from_jsonb
from shared.topics import catalog_topics, ensure_topics, relay_epoch_topic

log = logging.getLogger(__name__)

PUBLISHED = Counter("fayuan_events_published_total", "Integration events published", ["topic"])
BACKLOG = Gauge("fayuan_relay_backlog", "Outbox rows not yet published")
RESENDS = Counter("fayuan_relay_full_resends_total", "Times the relay re-sent the whole outbox")
BACKLOG_AGE = Gauge("fayuan_relay_backlog_age_seconds", "Age of the oldest outbox row not yet published")

# One round trip: insert, and look for a younger transaction that already committed one of the
# same keys (only rows of transactions younger than ours: a short range of the (txid, position)
# index). The statement's snapshot does not see its own inserted rows, only others' committed ones.
# The ORDER BY is the index's, so the planner reads that range whatever it knows of the table: with
# no statistics yet (a new database, an outbox autovacuum has not analysed), it guessed a third of
# the rows younger and scanned the whole outbox instead, on every command (30 days of a national
# year's rows, kept for a broker that comes back empty).
_INSERT = """
WITH added AS (
    INSERT INTO outbox (event_id, topic, key, type, source, subject, time, data, extensions)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::timestamptz[], $8::jsonb[], $9::jsonb[])
    RETURNING key
)
SELECT key FROM outbox
WHERE txid > pg_current_xact_id() AND key IN (SELECT key FROM added WHERE key IS NOT NULL)
ORDER BY txid, position
LIMIT 1
"""


class KeyOrderConflict(ConcurrencyError):
    """A transaction with a newer id already committed an event with one of our keys.

    The relay publishes in (txid, position) order. A transaction whose id was assigned early
    (it wrote something before it read) but which commits after a younger one that wrote the
    same key would be published *before* it, reversing that key's order on its partition. So
    it must not commit: run it again, in a new transaction with a newer id (retry_on_conflict
    and the consumer runner's retries do)."""

    def __init__(self, key: str):
        super().__init__(key, -1)
        self.args = (f"a newer transaction already wrote an event keyed {key}: run again",)
        self.key = key


async def add(conn: AsyncConnection, envelopes: list[Envelope]) -> None:
    """Queue integration events for publication, in the caller's transaction.

    Raises KeyOrderConflict (a ConcurrencyError) when committing would publish one of these
    keys out of commit order; the caller retries in a new transaction."""
    if not envelopes:
        return
    db = await driver(conn)
    later = await db.fetchval(
        _INSERT,
        [e.id for e in envelopes],
        [e.topic for e in envelopes],
        [e.key for e in envelopes],
        [e.type for e in envelopes],
        [e.source for e in envelopes],
        [e.subject for e in envelopes],
        [e.time for e in envelopes],
        [json.dumps(e.data, ensure_ascii=False) for e in envelopes],
        [json.dumps(e.extensions) for e in envelopes],
    )
    if later is not None:
        raise KeyOrderConflict(later)


# The relay's cursor and the rows after it in one round trip (no cursor yet: from the start).
_ELIGIBLE = """
WITH cursor AS (
    SELECT txid, position FROM relay_cursor WHERE relay = $1
    UNION ALL
    SELECT '0'::xid8, 0 WHERE NOT EXISTS (SELECT FROM relay_cursor WHERE relay = $1)
)
SELECT outbox.position, outbox.txid::text AS txid, event_id::text AS event_id, topic, key, type,
       source, subject, time, data, extensions
FROM outbox, cursor
WHERE (outbox.txid, outbox.position) > (cursor.txid, cursor.position)
  AND outbox.txid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY outbox.txid, outbox.position
LIMIT $2
"""
# Qualified names: a bare `ORDER BY txid` would sort by the *text* output column above, so
# '1000' < '999', and the cursor would jump back and forth (re-sending, and out of order).

# Relays of this process, by their database's engine: a commit that wrote outbox rows nudges
# its relay (`committed`) so the rows need not wait out the relay's poll.
_NUDGES: weakref.WeakKeyDictionary[Any, asyncio.Event] = weakref.WeakKeyDictionary()


def committed(engine: AsyncEngine) -> None:
    """Outbox rows were just committed through `engine`: wake its relay if it runs in this
    process. Rows committed elsewhere (another replica, a command line) wait for the poll."""
    nudge = _NUDGES.get(engine.sync_engine)
    if nudge is not None:
        nudge.set()


def _envelope(row: Mapping[str, Any]) -> Envelope:
    return Envelope(
        id=row["event_id"],
        type=row["type"],
        source=row["source"],
        subject=row["subject"],
        time=row["time"],
        data=from_jsonb(row["data"]),
        topic=row["topic"],
        key=row["key"],
        extensions=from_jsonb(row["extensions"]),
    )


class Relay:
    def __init__(self, engine: AsyncEngine, settings: ServiceSettings, *, name: str | None = None,
                 tracer: Tracer | None = None):
        self.engine = engine
        self.tracer = tracer
        self.settings = settings
        self.name = name or settings.service_name
        self.lock_key = zlib.crc32(f"fayuan-relay:{self.name}".encode())
        self.producer: AIOKafkaProducer | None = None
        self.published = 0
        self._last_epoch_check = 0.0
        # The connection holding the advisory lock while `run` publishes; None outside `run`
        # (a test calling publish_batch itself), when each call takes a pooled connection.
        self._lock_db: asyncpg.Connection | None = None
        self.locks_taken = 0  # how often `run` took the lock (again after a lost connection)
        self._nudge = asyncio.Event()  # set by `committed`: rows are waiting
        self._began = 0.0  # when the last batch began (the event loop's clock)

    @contextlib.asynccontextmanager
    async def _session(self) -> AsyncIterator[asyncpg.Connection]:
        """The connection to read and move the cursor on: the one holding the lock while `run`
        publishes (a dead one raises LockLost: never publish without the lock), else a pooled
        one in autocommit."""
        if self._lock_db is not None:
            if self._lock_db.is_closed():
                raise LockLost(self.name)
            yield self._lock_db
            return
        async with self.engine.connect() as conn:
            yield await driver(conn)
            await conn.commit()

    # --- cursor -----------------------------------------------------------------------------

    async def _cursor(self, conn: AsyncConnection | asyncpg.Connection) -> tuple[str, int]:
        db = await _raw(conn)
        row = await db.fetchrow(
            "SELECT txid::text AS txid, position FROM relay_cursor WHERE relay = $1", self.name
        )
        if row is None:
            await db.execute(
                "INSERT INTO relay_cursor (relay, txid, position) VALUES ($1, '0'::xid8, 0) "
                "ON CONFLICT DO NOTHING",
                self.name,
            )
            return "0", 0
        return row["txid"], row["position"]

    async def _advance(self, conn: AsyncConnection | asyncpg.Connection, txid: str, position: int,
                       count: int) -> None:
        db = await _raw(conn)
        await db.execute(
            "INSERT INTO relay_cursor (relay, txid, position, published) VALUES ($1, $2::text::xid8, $3, $4) "
            "ON CONFLICT (relay) DO UPDATE SET txid = excluded.txid, position = excluded.position, "
            "published = relay_cursor.published + excluded.published, updated_at = now()",
            self.name,
            txid,
            position,
            count,
        )

    async def rewind(self) -> None:
        """Publish everything again from the first outbox row (the broker lost its data)."""
        async with self._session() as db:
            await self._advance(db, "0", 0, 0)
        RESENDS.inc()
        log.warning("relay rewound: re-sending the whole outbox", extra={"relay": self.name})

    # --- one pass ---------------------------------------------------------------------------

    async def publish_batch(self) -> int:
        """Publish the next batch of eligible rows; return how many were published."""
        assert self.producer is not None
        self._nudge.clear()  # a commit from now on wakes the relay again
        self._began = asyncio.get_running_loop().time()
        async with self._session() as db:
            rows = await db.fetch(_ELIGIBLE, self.name, self.settings.relay_batch_size)
        if not rows:
            return 0
        sends = []
        spans: list[Span] = []
        try:
            for row in rows:
                envelope = _envelope(row)
                if self.tracer is not None:
                    span, envelope = tracing.start_send(self.tracer, envelope, self.name)
                    spans.append(span)
                message = envelope.to_kafka()
                key = message.key.encode() if isinstance(message.key, str) else message.key
                sends.append(
                    await self.producer.send(row["topic"], message.value, key=key,
                                             headers=list(message.headers.items()))
                )
            acks = await asyncio.gather(*sends)  # every row acknowledged before the cursor moves past it
        except BaseException as exc:
            tracing.end_sends(spans, error=exc)
            raise
        tracing.end_sends(spans, acks)
        for row in rows:
            PUBLISHED.labels(row["topic"]).inc()
        last = rows[-1]
        async with self._session() as db:
            await self._advance(db, last["txid"], last["position"], len(rows))
        self.published += len(rows)
        return len(rows)

    async def backlog(self) -> int:
        async with self._session() as db:
            txid, position = await self._cursor(db)
            row = await db.fetchrow(
                "SELECT count(*), coalesce(extract(epoch FROM now() - min(time)), 0)::float8 FROM outbox "
                "WHERE (txid, position) > ($1::text::xid8, $2)", txid, position
            )
        count: int = row[0]
        age: float = row[1]
        BACKLOG.set(count)
        BACKLOG_AGE.set(age)
        return count

    # --- the broker's memory ----------------------------------------------------------------

    async def _broker_lost_data(self) -> bool:
        """True when our epoch marker is gone from the broker; writes a fresh one if so.

        The marker is one record on a single-partition topic of our own, so its end offset is
        exact even on a broker whose end offsets lag after multi-record batches (design.md §5).
        """
        assert self.producer is not None
        topic = relay_epoch_topic(self.settings)
        probe = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap_servers,
                                 **self.settings.kafka_security())
        await probe.start()
        try:
            topics = await probe.topics()
            end = 0
            if topic in topics:
                end = (await probe.end_offsets([TopicPartition(topic, 0)]))[TopicPartition(topic, 0)]
        finally:
            await probe.stop()
        if end > 0:
            return False
        await ensure_topics(self.settings, [topic, *catalog_topics(self.settings)])
        await self.producer.send_and_wait(topic, clock.now().isoformat().encode(), partition=0)
        return True

    # --- the loop ---------------------------------------------------------------------------

    async def _start_producer(self) -> None:
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            acks=(self.settings.kafka_acks if self.settings.kafka_acks == "all"
                  else int(self.settings.kafka_acks)),
            enable_idempotence=self.settings.kafka_enable_idempotence,
            linger_ms=5,
            max_batch_size=1 << 20,
            **self.settings.kafka_security(),
        )
        await self.producer.start()

    async def _stop_producer(self) -> None:
        if self.producer is not None:
            try:
                await self.producer.stop()
            except Exception:  # a producer of a dead broker may fail to flush; we re-send anyway
                log.exception("relay producer did not stop cleanly")
            self.producer = None

    async def _rest(self, stop: asyncio.Event) -> None:
        """Wait for the poll, or less when this process commits outbox rows (`committed`); but
        let at least `relay_nudge_gap_seconds` pass since the last batch began, so that under
        load a batch gathers the commits of that gap rather than one each."""
        if stop.is_set():
            return  # a batch began after the stop's wake and cleared it
        if not self._nudge.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudge.wait(), timeout=self.settings.relay_poll_seconds)
        gap = self._began + self.settings.relay_nudge_gap_seconds - asyncio.get_running_loop().time()
        if gap > 0 and not stop.is_set():
            await _sleep(stop, gap)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set, holding the service's relay lock. Errors restart the
        producer after a pause; the cursor guarantees nothing is skipped. A lost lock connection
        (PostgreSQL restarted) is given up: the relay takes a fresh one and the lock again."""
        _NUDGES[self.engine.sync_engine] = self._nudge
        # `stop` wakes a resting relay too, so shutdown does not wait out a poll.
        waker = asyncio.create_task(_wake_on(stop, self._nudge))
        try:
            await self._run(stop)
        finally:
            waker.cancel()
            _NUDGES.pop(self.engine.sync_engine, None)

    async def _run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with self.engine.connect() as lock_conn:
                    try:
                        await self._hold_lock_and_publish(lock_conn, stop)
                    except BaseException:
                        if (await _raw(lock_conn)).is_closed():
                            await lock_conn.invalidate()  # never back into the pool
                        raise
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if isinstance(exc, LockLost) or is_disconnect(exc):
                    log.warning("relay lost its database connection (and its lock); taking them again",
                                extra={"relay": self.name, "error": str(exc)})
                else:
                    log.exception("relay failed; taking a connection and its lock again",
                                  extra={"relay": self.name})
                await _sleep(stop, 1.0)

    async def _hold_lock_and_publish(self, lock_conn: AsyncConnection, stop: asyncio.Event) -> None:
        db = await driver(lock_conn)
        while not stop.is_set():
            if await db.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_key):
                break
            await _sleep(stop, 2.0)  # another replica relays; stand by
        if stop.is_set():
            return
        self.locks_taken += 1
        self._lock_db = db
        try:
            await self._loop(stop)
        finally:
            self._lock_db = None
            if not db.is_closed():
                with contextlib.suppress(Exception):
                    await db.execute("SELECT pg_advisory_unlock($1)", self.lock_key)

    async def _loop(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                await self._start_producer()
                if await self._broker_lost_data():
                    await self.rewind()
                self._last_epoch_check = loop.time()
                while not stop.is_set():
                    sent = await self.publish_batch()
                    if loop.time() - self._last_epoch_check > self.settings.relay_epoch_check_seconds:
                        self._last_epoch_check = loop.time()
                        if await self._broker_lost_data():
                            await self.rewind()
                        await self.backlog()
                    if sent < self.settings.relay_batch_size:
                        await self._rest(stop)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._lock_db is None or self._lock_db.is_closed() or isinstance(exc, LockLost):
                    raise LockLost(self.name) from exc  # `run` takes a connection and the lock again
                log.exception("relay failed; restarting its producer", extra={"relay": self.name})
                await _sleep(stop, 1.0)
            finally:
                await self._stop_producer()


class LockLost(Exception):
    """The connection that held the relay's lock is gone, and the lock with it."""

    def __init__(self, relay: str):
        super().__init__(f"relay {relay}: the connection holding its lock is gone")


async def _raw(conn: AsyncConnection | asyncpg.Connection) -> asyncpg.Connection:
    return await driver(conn) if isinstance(conn, AsyncConnection) else conn


_PURGE_OUTBOX = """
DELETE FROM outbox
WHERE time < now() - make_interval(secs => $1)
  AND EXISTS (SELECT 1 FROM relay_cursor)
  AND (txid, position) <= ALL (SELECT c.txid, c.position FROM relay_cursor c)
"""
# `<= ALL` over every relay's cursor: a row some relay has not published yet stays, however
# old. Without any cursor no relay ever ran here, and nothing counts as published.
_PURGE_INBOX = "DELETE FROM inbox WHERE handled_at < now() - make_interval(secs => $1)"

PURGED = Counter("fayuan_purged_rows_total", "Outbox and inbox rows deleted past their retention", ["table"])


async def purge(engine: AsyncEngine, settings: ServiceSettings) -> dict[str, int]:
    """Delete published outbox rows and handled inbox rows past their retention; return counts."""
    day = 86_400.0
    async with engine.begin() as conn:
        db = await driver(conn)
        outbox = await db.execute(_PURGE_OUTBOX, settings.outbox_retention_days * day)
        inbox = await db.execute(_PURGE_INBOX, settings.inbox_retention_days * day)
    counts = {"outbox": int(outbox.split()[-1]), "inbox": int(inbox.split()[-1])}
    for table, count in counts.items():
        PURGED.labels(table).inc(count)
    if any(counts.values()):
        log.info("purged rows past their retention", extra=counts)
    return counts


async def _wake_on(stop: asyncio.Event, nudge: asyncio.Event) -> None:
    await stop.wait()
    nudge.set()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
