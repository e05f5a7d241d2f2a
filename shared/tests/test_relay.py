import asyncio
import contextlib

from devstack.embedded import free_port, start_broker
from shared import outbox
from shared.outbox import Relay
from shared.store import driver
from shared.testing.kafka import embedded_broker_only, eventually, read_topic
from shared.tests.helpers import Noted, envelopes, relay_rested
from shared.topics import catalog_topics, ensure_topics
from shared.uow import unit_of_work


async def _add(engine, settings, stream: str, count: int, start: int = 0) -> list[str]:
    rows = envelopes(settings, stream, count, start)
    async with engine.begin() as conn:
        await outbox.add(conn, rows)
    return [e.id for e in rows]


async def _published(engine, relay: str) -> int:
    async with engine.connect() as conn:
        db = await driver(conn)
        return await db.fetchval("SELECT published FROM relay_cursor WHERE relay = $1", relay) or 0


async def test_relay_publishes_committed_rows_in_order_as_cloudevents(kernel_db, kafka_bootstrap):
    engine, settings = kernel_db
    await _add(engine, settings, "s1", 30)
    relay = Relay(engine, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    seen = await read_topic(kafka_bootstrap, settings.topic(Noted.topic), expect=30, quiet_seconds=1.0)
    stop.set()
    await task
    assert [e.data["n"] for e in seen if e.key == "s1"] == list(range(30))
    assert len(seen) == 30
    assert all(e.type == Noted.type and e.source == "/test" for e in seen)


async def test_a_commit_of_this_process_wakes_the_resting_relay_and_a_stop_ends_its_rest(
    kernel_db, kafka_bootstrap,
):
    # A poll of ten minutes: only the commit's nudge can get the event out within the test, and
    # only `stop` waking the rest lets the relay end at once.
    engine, settings = kernel_db
    settings = settings.model_copy(update={"relay_poll_seconds": 600.0, "relay_nudge_gap_seconds": 0.0})
    relay = Relay(engine, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    await eventually(lambda: relay_rested(relay))
    async with unit_of_work(engine, settings) as uow:
        uow.emit(Noted(stream="nudged", n=1))
    seen = await read_topic(kafka_bootstrap, settings.topic(Noted.topic), expect=1, quiet_seconds=0.5)
    assert [(e.key, e.data["n"]) for e in seen] == [("nudged", 1)]
    stop.set()
    await asyncio.wait_for(task, timeout=30)


async def test_relay_publishes_in_batches_of_the_configured_size(kernel_db, kafka_bootstrap):
    engine, settings = kernel_db
    settings = settings.model_copy(update={"relay_batch_size": 7})
    await _add(engine, settings, "s", 30)
    await ensure_topics(settings, catalog_topics(settings))
    relay = Relay(engine, settings)
    await relay._start_producer()
    sizes: list[int] = []

    async def drained() -> bool:
        sizes.append(await relay.publish_batch())
        return sum(sizes) == 30

    try:
        # Rows become eligible once every older transaction on the server has ended (the xmin
        # horizon is cluster-wide: another test's open transaction can hold them back a while).
        await eventually(drained, timeout=30, interval=0.05)
        sizes.append(await relay.publish_batch())
    finally:
        await relay._stop_producer()
    assert [size for size in sizes if size] == [7, 7, 7, 7, 2]
    assert sizes[-1] == 0
    assert await _published(engine, relay.name) == 30
    assert await relay.backlog() == 0
    seen = await read_topic(kafka_bootstrap, settings.topic(Noted.topic), expect=30, quiet_seconds=1.0)
    assert [e.data["n"] for e in seen] == list(range(30))


async def test_a_restarted_relay_resumes_from_its_cursor_and_resends_at_most_one_batch(
    kernel_db, kafka_bootstrap,
):
    engine, settings = kernel_db
    settings = settings.model_copy(update={"relay_batch_size": 10})
    first_ids = await _add(engine, settings, "s", 40)
    relay = Relay(engine, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    await eventually(lambda: _at_least(relay, 10))
    task.cancel()  # a crash, not a clean stop: the batch in flight is not acknowledged in the cursor
    with contextlib.suppress(asyncio.CancelledError):
        await task
    before_restart = await _published(engine, relay.name)
    assert before_restart >= 10

    later_ids = await _add(engine, settings, "s", 20, start=40)
    restarted = Relay(engine, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(restarted.run(stop))
    await eventually(lambda: _at_least(restarted, 60 - before_restart))
    seen = await read_topic(kafka_bootstrap, settings.topic(Noted.topic), expect=60, quiet_seconds=1.5)
    stop.set()
    await task

    assert restarted.published == 60 - before_restart  # only the rest
    assert {e.id for e in seen} == set(first_ids + later_ids)
    assert len(seen) - 60 <= settings.relay_batch_size  # re-sent at most the batch in flight
    numbers = [e.data["n"] for e in seen]
    assert sorted(set(numbers)) == list(range(60))
    first_of_restart = len(seen) - restarted.published
    assert numbers[first_of_restart:] == list(range(before_restart, 60))


async def _at_least(relay: Relay, count: int) -> bool:
    return relay.published >= count


@embedded_broker_only
async def test_the_relay_resends_everything_to_a_broker_that_came_back_empty(kernel_db, tmp_path):
    engine, settings = kernel_db
    port = free_port()
    broker = start_broker(port, log_file=tmp_path / "tansu-1.log")
    settings = settings.model_copy(update={"kafka_bootstrap_servers": broker.bootstrap})
    topic = settings.topic(Noted.topic)
    old_ids = await _add(engine, settings, "s", 15)
    relay = Relay(engine, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        assert {
            e.id for e in await read_topic(broker.bootstrap, topic, expect=15, quiet_seconds=0.5)
        } == set(old_ids)
        broker.stop()
        broker = start_broker(port, log_file=tmp_path / "tansu-2.log")
        new_ids = await _add(engine, settings, "s", 5, start=15)
        seen = await read_topic(broker.bootstrap, topic, expect=20, quiet_seconds=1.5, timeout=90)
        assert {e.id for e in seen} == set(old_ids + new_ids)
        assert task.done() is False
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        broker.stop()


async def _lock_holders(engine, relay: Relay) -> list[int]:
    """The backends holding the relay's advisory lock in this test's database (at most one, or the
    lock is broken). Other tests' relays of the same name hold the same key in their databases."""
    async with engine.connect() as conn:
        db = await driver(conn)
        rows = await db.fetch("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                              "AND objid = ($1::bigint & 4294967295)::oid AND database = "
                              "(SELECT oid FROM pg_database WHERE datname = current_database())",
                              relay.lock_key)
        await conn.commit()
    return [r["pid"] for r in rows]


async def test_a_relay_whose_connection_dies_takes_its_lock_again_and_never_publishes_without_it(
    kernel_db, kafka_bootstrap,
):
    """PostgreSQL ends the session holding the relay's lock (a restart does that to all of them):
    the relay takes a fresh connection and the lock again, publishes what comes next, and every
    pooled connection that died is refused at checkout rather than handed out dead."""
    engine, settings = kernel_db
    first = await _add(engine, settings, "s", 10)
    relay = Relay(engine, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    topic = settings.topic(Noted.topic)
    try:
        await eventually(lambda: _at_least(relay, 10), timeout=30)
        [holder] = await _lock_holders(engine, relay)
        async with engine.connect() as conn:
            db = await driver(conn)
            # Every backend of this database but ours: the lock's and the idle pooled ones.
            await db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            await conn.commit()

        async def relocked() -> bool:
            holders = await _lock_holders(engine, relay)
            return relay.locks_taken == 2 and len(holders) == 1 and holders != [holder]

        await eventually(relocked, timeout=30)
        later = await _add(engine, settings, "s", 10, start=10)  # through the pool: no dead connection
        await eventually(lambda: _at_least(relay, 20), timeout=30)
        seen = await read_topic(kafka_bootstrap, topic, expect=20, quiet_seconds=1.0)
        assert {e.id for e in seen} == set(first + later)
        assert [e.data["n"] for e in seen if e.id in later] == list(range(10, 20))
        assert not task.done()
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
    assert await _lock_holders(engine, relay) == []
