"""Relay throughput: the kernel's outbox relay against the bare hop, same events.

N CaseRegistered envelopes are written into a fresh outbox (one transaction, as a burst of
commands would leave them), then one `shared.outbox.Relay` publishes them: it reads eligible
rows in (txid, position) order, sends each as a CloudEvent, waits for every acknowledgement of
the batch, and moves its cursor once per batch. Its rate runs from its first batch read to the
cursor passing the last row. The baseline is the consumer bench's bare hop (produce, consume,
decode the same events): the issue's target is a relay at a quarter of it or better.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

import asyncpg

from bench.consumer import _dsn, _events
from shared import outbox
from shared.db import KERNEL_DDL, create_engine
from shared.events import Envelope
from shared.outbox import Relay
from shared.settings import ServiceSettings
from shared.topics import catalog_topics, ensure_topics

DATABASE = "fayuan_bench_relay"
TARGET = 0.25  # of the bare hop (issue 17)


@dataclass
class RelayResult:
    events: int
    seconds: float
    batches: int

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


async def _prepare(settings: ServiceSettings) -> None:
    admin = await asyncpg.connect(_dsn(settings, "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{settings.database_name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(_dsn(settings, settings.database_name))
    try:
        for statement in KERNEL_DDL:
            await conn.execute(statement)
    finally:
        await conn.close()


async def run(database_url: str, bootstrap: str, count: int, *, patience: float = 120.0,
              say=print) -> RelayResult:
    settings = ServiceSettings(service_name="bench-relay", database_url=database_url, database_name=DATABASE,
                               kafka_bootstrap_servers=bootstrap,
                               topic_prefix=f"benchrelay{uuid.uuid4().hex[:6]}.")
    await _prepare(settings)
    engine = create_engine(settings)
    try:
        envelopes = []
        for event in _events(count):
            e = Envelope.wrap(event, source="/fayuan/bench")
            envelopes.append(Envelope(**{**e.__dict__, "topic": settings.topic(event.topic)}))
        async with engine.begin() as conn:
            await outbox.add(conn, envelopes)
        await ensure_topics(settings, catalog_topics(settings))
        relay = Relay(engine, settings)
        await relay._start_producer()
        try:
            await relay.publish_batch()  # warm-up: metadata, connections (its rows are not timed)
            warm = relay.published
            batches = 0
            started = time.perf_counter()
            deadline = started + patience
            while relay.published < count and time.perf_counter() < deadline:
                if await relay.publish_batch():
                    batches += 1
                else:
                    await asyncio.sleep(0.01)
            seconds = time.perf_counter() - started
        finally:
            await relay._stop_producer()
    finally:
        await engine.dispose()
    if relay.published < count:
        raise RuntimeError(f"the relay published {relay.published} of {count} rows in {patience}s")
    result = RelayResult(count - warm, seconds, batches)
    say(f"relay published {count:,} outbox rows ({result.rate:,.0f}/s, {batches} batches)")
    return result
