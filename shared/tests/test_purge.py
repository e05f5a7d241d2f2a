"""The outbox and the inbox do not grow without bound: published outbox rows and handled inbox
rows go once past their retention; nothing the relay has not published, and nothing a
redelivery could still need, goes (docs/reliability.md)."""

import pytest
from pydantic import ValidationError

from shared import outbox
from shared.outbox import Relay, purge
from shared.service import ServiceSpec, build_app
from shared.settings import ServiceSettings
from shared.store import driver
from shared.testing.kafka import eventually
from shared.tests.helpers import envelopes


async def _outbox_numbers(engine) -> list[int]:
    async with engine.connect() as conn:
        db = await driver(conn)
        rows = await db.fetch("SELECT (data->>'n')::int AS n FROM outbox ORDER BY position")
    return [r["n"] for r in rows]

async def _age(engine, sql: str, *args) -> None:
    async with engine.begin() as conn:
        db = await driver(conn)
        await db.execute(sql, *args)

async def test_only_published_rows_past_retention_leave_the_outbox(kernel_db, kafka_bootstrap):
    engine, settings = kernel_db
    settings = settings.model_copy(update={"relay_batch_size": 10, "outbox_retention_days": 30})
    async with engine.begin() as conn:
        await outbox.add(conn, envelopes(settings, "s", 30))
    # Rows 0-19 are 40 days old, rows 20-29 new.
    await _age(engine, "UPDATE outbox SET time = now() - interval '40 days' WHERE (data->>'n')::int < 20")
    relay = Relay(engine, settings)
    await relay._start_producer()
    try:
        await eventually(lambda: _published_one_batch(relay), timeout=30, interval=0.05)
    finally:
        await relay._stop_producer()

    assert await purge(engine, settings) == {"outbox": 10, "inbox": 0}
    # 0-9: old and published, gone. 10-19: old but not yet published, kept. 20-29: new, kept.
    assert await _outbox_numbers(engine) == list(range(10, 30))
    assert await purge(engine, settings) == {"outbox": 0, "inbox": 0}

async def _published_one_batch(relay: Relay) -> bool:
    return await relay.publish_batch() > 0

async def test_no_relay_cursor_means_nothing_counts_as_published(kernel_db):
    engine, settings = kernel_db
    async with engine.begin() as conn:
        await outbox.add(conn, envelopes(settings, "s", 3))
    await _age(engine, "UPDATE outbox SET time = now() - interval '400 days'")
    assert (await purge(engine, settings))["outbox"] == 0
    assert await _outbox_numbers(engine) == [0, 1, 2]

async def test_inbox_rows_go_after_their_retention_only(kernel_db):
    engine, settings = kernel_db
    settings = settings.model_copy(update={"inbox_retention_days": 400})
    await _age(engine, "INSERT INTO inbox (consumer, event_id, type, topic, handled_at) VALUES "
                       "('c', 'old', 't', 'x', now() - interval '401 days'), "
                       "('c', 'recent', 't', 'x', now() - interval '399 days'), "
                       "('c', 'new', 't', 'x', now())")
    assert (await purge(engine, settings))["inbox"] == 1
    async with engine.connect() as conn:
        db = await driver(conn)
        left = [r["event_id"] for r in await db.fetch("SELECT event_id FROM inbox ORDER BY event_id")]
    assert left == ["new", "recent"]

def test_an_inbox_that_forgets_before_the_outbox_is_refused():
    with pytest.raises(ValidationError, match="inbox_retention_days must be at least outbox_retention_days"):
        ServiceSettings(outbox_retention_days=30, inbox_retention_days=7)

async def test_every_service_purges_on_its_own_schedule(kernel_db, tmp_path):
    engine, settings = kernel_db
    settings = settings.model_copy(update={"purge_interval_seconds": 0.2, "relay_enabled": False,
                                           "consumers_enabled": False, "broker_check_seconds": 0})
    await _age(engine, "INSERT INTO inbox (consumer, event_id, type, topic, handled_at) VALUES "
                       "('c', 'old', 't', 'x', now() - interval '500 days')")
    app = build_app(ServiceSpec(title="t", description="d", routers=[], migrations=tmp_path), settings)

    async def inbox_empty() -> bool:
        async with engine.connect() as conn:
            return await (await driver(conn)).fetchval("SELECT count(*) FROM inbox") == 0

    async with app.router.lifespan_context(app):
        await eventually(inbox_empty, timeout=10, interval=0.1)
