"""The relay never skips a row that commits late (docs/adr/0002-outbox-order.md).

Outbox positions come from a sequence, taken at insert; transactions commit in another order.
A reader that tails `position > cursor` passes a lower position whose transaction is still
open, and never comes back for it. The relay reads in (txid, position) order, and only rows of
transactions older than every transaction still running, so its cursor cannot pass it."""

import asyncio

from shared import outbox
from shared.outbox import Relay
from shared.store import driver, from_jsonb
from shared.testing.kafka import eventually, read_topic
from shared.tests.helpers import Noted, envelopes
from shared.uow import retry_on_conflict, unit_of_work

WRITERS = 20
ROWS_PER_WRITER = 25


async def _position_and_txid(conn) -> tuple[int, int]:
    db = await driver(conn)
    row = await db.fetchrow(
        "SELECT position, txid::text::bigint AS txid FROM outbox ORDER BY position DESC LIMIT 1"
    )
    return row["position"], row["txid"]


async def _naive_reader(engine, stop: asyncio.Event, seen: set[str], cursor: list[int]) -> None:
    """What the relay must not be: tail the outbox by position alone."""
    while True:
        async with engine.connect() as conn:
            db = await driver(conn)
            rows = await db.fetch(
                "SELECT position, event_id::text AS event_id FROM outbox WHERE position > $1 "
                "ORDER BY position",
                cursor[0],
            )
            await conn.commit()
        for row in rows:
            seen.add(row["event_id"])
            cursor[0] = row["position"]
        if stop.is_set() and not rows:
            return
        await asyncio.sleep(0.01)


async def test_relay_publishes_a_late_committing_lower_position_and_a_naive_reader_misses_it(
    kernel_db, kafka_bootstrap
):
    engine, settings = kernel_db
    topic = settings.topic(Noted.topic)
    async with engine.begin() as conn:
        await outbox.add(conn, envelopes(settings, "before", 5))

    relay = Relay(engine, settings, name="gap-test")
    stop_relay, stop_naive = asyncio.Event(), asyncio.Event()
    relay_task = asyncio.create_task(relay.run(stop_relay))
    naive_seen: set[str] = set()
    naive_cursor = [0]
    naive_task = asyncio.create_task(_naive_reader(engine, stop_naive, naive_seen, naive_cursor))

    # The slow transaction takes its (low) position first, then stays open while others commit.
    slow_conn = await engine.connect()
    slow_tx = await slow_conn.begin()
    [slow] = envelopes(settings, "slow", 1)
    await outbox.add(slow_conn, [slow])
    slow_position, slow_txid = await _position_and_txid(slow_conn)

    async def writer(w: int) -> None:
        for n, envelope in enumerate(envelopes(settings, f"w{w}", ROWS_PER_WRITER)):
            assert envelope.data["n"] == n
            async with engine.begin() as conn:
                await outbox.add(conn, [envelope])

    cursors: list[tuple[int, int]] = []

    async def watch_cursor() -> None:
        while True:
            async with engine.connect() as conn:
                db = await driver(conn)
                row = await db.fetchrow(
                    "SELECT txid::text::bigint AS txid, position FROM relay_cursor WHERE relay = 'gap-test'"
                )
                await conn.commit()
            if row is not None:
                cursors.append((row["txid"], row["position"]))
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch_cursor())
    loop = asyncio.get_running_loop()
    opened_at = loop.time()
    await asyncio.gather(*(writer(w) for w in range(WRITERS)))
    # Let the relay and the naive reader run over everything committed so far.
    await eventually(lambda: _true(naive_cursor[0] > slow_position, f"naive cursor {naive_cursor[0]}"))
    async with engine.connect() as conn:
        last_position, _ = await _position_and_txid(conn)
    await eventually(lambda: _true(naive_cursor[0] == last_position, f"naive cursor {naive_cursor[0]}"))
    await eventually(lambda: _true(relay.published >= 5, f"relay published {relay.published}"))
    await asyncio.sleep(max(0.0, 2.0 - (loop.time() - opened_at)))  # the slow transaction's hold
    cursors_while_open = list(cursors)
    published_while_open = relay.published
    await slow_tx.commit()
    await slow_conn.close()

    expected = 1 + 5 + WRITERS * ROWS_PER_WRITER
    seen = await read_topic(kafka_bootstrap, topic, expect=expected, quiet_seconds=1.5)
    stop_relay.set()
    stop_naive.set()
    await relay_task
    await naive_task
    watcher.cancel()

    assert cursors_while_open, "the relay never stored a cursor while the slow transaction was open"
    assert all(c < (slow_txid, slow_position) for c in cursors_while_open), (
        cursors_while_open[-1], slow_txid)
    assert published_while_open >= 5
    assert sorted(e.id for e in seen) == sorted({e.id for e in seen}), "a row was published twice"
    assert len(seen) == expected
    assert slow.id in {e.id for e in seen}
    for w in range(WRITERS):
        assert [e.data["n"] for e in seen if e.key == f"w{w}"] == list(range(ROWS_PER_WRITER))
    # The same scenario defeats a reader that trusts positions: it passed the slow row for good.
    # (Writers racing each other commit out of position order too, so it may miss more.)
    assert slow.id not in naive_seen
    assert naive_seen < {e.id for e in seen}


async def _true(value: bool, why: str) -> bool:
    assert value, why
    return value


async def test_a_key_is_published_in_commit_order_even_when_the_later_writer_has_the_older_txid(
    kernel_db, kafka_bootstrap
):
    """A transaction that wrote before it read has an old txid: committed after a younger one
    on the same key, it would be published first. The outbox refuses it; the retry wins."""
    engine, settings = kernel_db
    first_committed, second_has_txid = asyncio.Event(), asyncio.Event()
    attempts: list[int] = []

    @retry_on_conflict
    async def second_writer() -> None:
        async with unit_of_work(engine, settings) as uow:
            db = await driver(uow.conn)
            attempts.append(int(await db.fetchval("SELECT pg_current_xact_id()::text")))  # an early write
            if len(attempts) == 1:
                second_has_txid.set()
                await first_committed.wait()
            uow.emit(Noted(stream="case-1", n=2))

    async def first_writer() -> None:
        await second_has_txid.wait()
        async with unit_of_work(engine, settings) as uow:
            uow.emit(Noted(stream="case-1", n=1))
        first_committed.set()

    await asyncio.gather(second_writer(), first_writer())
    assert len(attempts) == 2  # the first attempt was refused

    relay = Relay(engine, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    seen = await read_topic(kafka_bootstrap, settings.topic(Noted.topic), expect=2, quiet_seconds=1.0)
    stop.set()
    await task
    assert [e.data["n"] for e in seen] == [1, 2]


async def test_the_key_order_check_reads_a_few_pages_of_a_large_outbox_not_yet_analysed(kernel_db):
    # An outbox keeps 30 days of published rows (outbox_retention_days). The check of each command's
    # insert reads only the rows of younger transactions, a short range of the (txid, position)
    # index, even before autovacuum has given the planner statistics (a new database, a bulk load):
    # without them it once scanned the whole outbox on every command.
    engine, settings = kernel_db
    async with engine.begin() as conn:
        db = await driver(conn)
        await db.execute("ALTER TABLE outbox SET (autovacuum_enabled = false)")  # no statistics, surely
        await db.execute(
            "INSERT INTO outbox (event_id, topic, key, type, source, subject, time, data) "
            "SELECT gen_random_uuid(), 'legalaid.test.notes', 'case-' || n % 5000, 'Noted', '/test', "
            "'case-' || n % 5000, now(), '{\"n\": 1}' FROM generate_series(1, 20000) AS n")
    [envelope] = envelopes(settings, "case-7", 1)
    async with engine.begin() as conn:
        db = await driver(conn)
        plan = await db.fetchval(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + outbox._INSERT,
            [envelope.id], [envelope.topic], [envelope.key], [envelope.type], [envelope.source],
            [envelope.subject], [envelope.time], ['{"n": 0}'], ["{}"])
        await conn.rollback()
    top = from_jsonb(plan)[0]["Plan"]
    pages = top["Shared Hit Blocks"] + top["Shared Read Blocks"]
    assert pages < 50, f"the check read {pages} pages of a 20,000-row outbox"
