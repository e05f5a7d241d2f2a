"""The consumer runner against the real broker and database: inbox dedupe, offsets after the
database commit, bounded retries and dead letters, poison messages, shutdown, broker restart."""

import asyncio
import contextlib
from functools import cache

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import murmur2
from prometheus_client import REGISTRY
from sqlalchemy import text

from devstack.embedded import free_port, start_broker
from shared.consumer import ConsumerRunner
from shared.events import Envelope
from shared.outbox import Relay
from shared.store import driver
from shared.testing.kafka import (
    apache_kafka_only,
    create_topics,
    embedded_broker_only,
    eventually,
    publish,
    read_topic,
)
from shared.tests.helpers import Noted, relay_rested
from shared.topics import PARTITIONS, dead_letter_topic

POISON_FAILS_AT = 666


def cases_on_the_partition_of(key: str, count: int) -> list[str]:
    """Keys of other cases (streams) that the producer's partitioner puts on `key`'s partition:
    their events come after `key`'s on the same partition, in the order they were sent, yet are
    not held by `key`'s dead letter (issue 18: a dead letter holds its own case only)."""
    def partition(k: str) -> int:
        return (murmur2(k.encode()) & 0x7FFFFFFF) % PARTITIONS

    return [k for k in (f"{key}-other-{n}" for n in range(10 * count + 100))
            if partition(k) == partition(key)][:count]


@cache
def another_case_on_the_partition_of(key: str) -> str:
    [other] = cases_on_the_partition_of(key, 1)
    return other


class Effects:
    """A handler whose effect is one row per handled event, and that fails on demand."""

    def __init__(self, *, fail_times: dict[int, int] | None = None, block: asyncio.Event | None = None):
        self.fail_times = fail_times or {}
        self.calls: dict[int, int] = {}
        self.block = block
        self.entered = asyncio.Event()

    async def on_noted(self, event: Noted, uow) -> None:
        self.calls[event.n] = self.calls.get(event.n, 0) + 1
        await uow.conn.execute(text("INSERT INTO noted_effects (stream, n) VALUES (:s, :n)"),
                               {"s": event.stream, "n": event.n})
        if self.block is not None:
            self.entered.set()
            await self.block.wait()
        if self.calls[event.n] <= self.fail_times.get(event.n, 0):
            raise RuntimeError(f"handler failed on {event.n}")


class Queued(Effects):
    """The same effect, queued with `uow.write_later`: the batch writes its rows set-wise at its end."""

    async def on_noted(self, event: Noted, uow) -> None:
        self.calls[event.n] = self.calls.get(event.n, 0) + 1
        uow.write_later("INSERT INTO noted_effects (stream, n) VALUES ($1, $2)", event.stream, event.n)
        if self.block is not None:
            self.entered.set()
            await self.block.wait()
        if self.calls[event.n] <= self.fail_times.get(event.n, 0):
            raise RuntimeError(f"handler failed on {event.n}")


class Recording(ConsumerRunner):
    """The runner, noting each message's outcome (what an operator sees in the metrics)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes: list[tuple[int, str]] = []
        self.partitions: list[int] = []
        self.events: list[int | None] = []  # each message's Noted.n (None: not a Noted)

    async def handle_batch(self, messages, producer):
        outcomes = await super().handle_batch(messages, producer)
        for message, outcome in zip(messages, outcomes, strict=True):
            self.outcomes.append((message.offset, outcome))
            self.partitions.append(message.partition)
            try:
                envelope = Envelope.from_kafka(message.topic, message.key, message.value, message.headers)
                n = envelope.data.get("n")
            except ValueError:
                n = None
            self.events.append(n)
        return outcomes


async def _effects_table(engine, check: str = "true") -> None:
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE noted_effects (id bigserial PRIMARY KEY, stream text, n int, "
                                f"CHECK ({check}))"))


async def _effects(engine) -> list[int]:
    async with engine.connect() as conn:
        return list((await conn.execute(text("SELECT n FROM noted_effects ORDER BY id"))).scalars())


async def _count(engine, sql: str) -> int:
    async with engine.connect() as conn:
        db = await driver(conn)
        return await db.fetchval(sql)


def _runner(engine, settings, effects: Effects, cls=Recording) -> ConsumerRunner:
    return cls(engine, settings, name="notes", handlers={Noted: effects.on_noted})


async def _send_raw(settings, *messages: tuple[bytes | None, bytes, list]) -> None:
    await create_topics(settings, Noted.topic)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for key, value, headers in messages:
            await producer.send_and_wait(settings.topic(Noted.topic), value, key=key, headers=headers)
    finally:
        await producer.stop()


def _wire(envelope: Envelope) -> tuple[bytes, bytes, list]:
    message = envelope.to_kafka()
    return message.key.encode(), message.value, list(message.headers.items())


@contextlib.asynccontextmanager
async def running(runner: ConsumerRunner):
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def _read_dead_letters(bootstrap: str, topic: str, expect: int) -> list:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    records = []
    try:
        async def enough():
            batch = await consumer.getmany(timeout_ms=200)
            records.extend(r for rs in batch.values() for r in rs)
            return len(records) >= expect
        await eventually(enough)
    finally:
        await consumer.stop()
    return records


async def test_the_same_event_delivered_twice_has_its_effects_once(kernel_db):
    engine, settings = kernel_db
    await _effects_table(engine)
    effects = Effects()
    runner = _runner(engine, settings, effects)
    twice = Envelope.wrap(Noted(stream="s", n=1), source="/test")
    after = Envelope.wrap(Noted(stream="s", n=2), source="/test")  # same key: same partition, after it
    await _send_raw(settings, _wire(twice), _wire(twice), _wire(after))
    async with running(runner):
        await eventually(lambda: _effects_are(engine, [1, 2]))
    assert [o for _, o in runner.outcomes] == ["handled", "duplicate", "handled"]
    assert await _count(engine, "SELECT count(*) FROM inbox") == 2


async def test_a_batch_that_emitted_events_wakes_the_relay_of_its_process(kernel_db):
    # The relay rests ten minutes between polls: only the batch's wake gets the echo out in time.
    engine, settings = kernel_db
    settings = settings.model_copy(update={"relay_poll_seconds": 600.0, "relay_nudge_gap_seconds": 0.0})

    async def echo(event: Noted, uow) -> None:
        if event.stream == "call":
            uow.emit(Noted(stream="echo", n=event.n))

    runner = ConsumerRunner(engine, settings, name="echoes", handlers={Noted: echo})
    relay = Relay(engine, settings)
    stop = asyncio.Event()
    relaying = asyncio.create_task(relay.run(stop))
    try:
        await eventually(lambda: relay_rested(relay))
        await _send_raw(settings, _wire(Envelope.wrap(Noted(stream="call", n=7), source="/test")))
        async with running(runner):
            seen = await read_topic(settings.kafka_bootstrap_servers, settings.topic(Noted.topic), expect=2,
                                    quiet_seconds=0.5)
    finally:
        stop.set()
        await asyncio.wait_for(relaying, timeout=30)
    assert sorted((e.key, e.data["n"]) for e in seen) == [("call", 7), ("echo", 7)]


async def _effects_are(engine, expected: list[int]) -> bool:
    got = await _effects(engine)
    assert got == expected, got
    return True


async def test_cancelled_before_the_database_commit_the_event_is_redelivered_and_applied_once(kernel_db):
    engine, settings = kernel_db
    await _effects_table(engine)
    block = asyncio.Event()
    blocked = Effects(block=block)
    await publish(settings, Noted(stream="s", n=1))
    stop = asyncio.Event()
    task = asyncio.create_task(_runner(engine, settings, blocked).run(stop))
    await asyncio.wait_for(blocked.entered.wait(), 30)  # the effect is written, not committed
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert await _effects(engine) == []

    runner = _runner(engine, settings, Effects())
    async with running(runner):
        await eventually(lambda: _effects_are(engine, [1]))
    assert runner.outcomes == [(0, "handled")]


class CrashAfterCommit(Recording):
    """Dies after the database commit and before the offset commit."""

    crashed = asyncio.Event()

    async def handle_batch(self, messages, producer):
        await super().handle_batch(messages, producer)
        self.crashed.set()
        await asyncio.Event().wait()


async def test_killed_between_the_database_commit_and_the_offset_commit_it_is_redelivered_and_skipped(
    kernel_db,
):
    engine, settings = kernel_db
    await _effects_table(engine)
    await publish(settings, Noted(stream="s", n=1))
    crashing = _runner(engine, settings, Effects(), cls=CrashAfterCommit)
    stop = asyncio.Event()
    task = asyncio.create_task(crashing.run(stop))
    await asyncio.wait_for(CrashAfterCommit.crashed.wait(), 30)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert await _effects(engine) == [1]

    await publish(settings, Noted(stream="s", n=2))
    runner = _runner(engine, settings, Effects())
    async with running(runner):
        await eventually(lambda: _effects_are(engine, [1, 2]))
    assert [o for _, o in runner.outcomes] == ["duplicate", "handled"]  # redelivered, applied once


async def test_a_failing_event_is_retried_up_to_the_limit_then_dead_lettered_and_the_partition_moves_on(
    kernel_db,
):
    engine, settings = kernel_db
    await _effects_table(engine)
    effects = Effects(fail_times={POISON_FAILS_AT: 1000})
    runner = _runner(engine, settings, effects)
    [failing, _] = await publish(settings, Noted(stream="s", n=POISON_FAILS_AT),
                                 Noted(stream=another_case_on_the_partition_of("s"), n=7))
    async with running(runner):
        await eventually(lambda: _effects_are(engine, [7]))
    assert effects.calls[POISON_FAILS_AT] == settings.consumer_max_retries + 1
    assert [o for _, o in runner.outcomes] == ["dead-letter", "handled"]

    topic = settings.topic(Noted.topic)
    [record] = await _read_dead_letters(settings.kafka_bootstrap_servers, dead_letter_topic(topic), 1)
    headers = dict(record.headers)
    assert headers["ce_id"] == failing.id.encode()  # the original message, as it was
    assert headers["x-dead-letter-consumer"] == runner.name.encode()
    assert headers["x-dead-letter-topic"] == topic.encode()
    assert headers["x-dead-letter-offset"] == b"0"
    assert int(headers["x-dead-letter-partition"]) == runner.partitions[0]
    assert headers["x-dead-letter-error-type"] == b"RuntimeError"
    assert b"handler failed on 666" in headers["x-dead-letter-error"]
    async with engine.connect() as conn:
        db = await driver(conn)
        row = await db.fetchrow("SELECT consumer, topic, \"offset\", event_id, type, error FROM dead_letters")
    assert (row["consumer"], row["topic"], row["offset"], row["event_id"], row["type"]) == (
        runner.name, topic, 0, failing.id, Noted.type)
    assert "RuntimeError: handler failed on 666" in row["error"]
    assert await _count(engine, "SELECT count(*) FROM inbox") == 1  # only the good one


async def test_poison_messages_are_dead_lettered_at_once_and_the_next_good_one_is_handled(kernel_db):
    engine, settings = kernel_db
    await _effects_table(engine)
    effects = Effects()
    runner = _runner(engine, settings, effects)
    bad_data = Envelope.wrap(Noted(stream="s", n=1), source="/test")
    bad_data = Envelope(**{**bad_data.__dict__, "data": {"stream": "s", "n": "not a number"}})
    await _send_raw(
        settings,
        (b"s", b'{"stream": "s", "n": 1}', []),  # plain JSON, not a CloudEvent
        _wire(bad_data),  # a CloudEvent whose data fails the schema
        _wire(Envelope.wrap(Noted(stream=another_case_on_the_partition_of("s"), n=2), source="/test")),
    )
    async with running(runner):
        await eventually(lambda: _effects_are(engine, [2]))
    assert [o for _, o in runner.outcomes] == ["dead-letter", "dead-letter", "handled"]
    assert effects.calls == {2: 1}  # the handler never saw the poison
    records = await _read_dead_letters(settings.kafka_bootstrap_servers,
                                       dead_letter_topic(settings.topic(Noted.topic)), 2)
    types = sorted(dict(r.headers)["x-dead-letter-error-type"] for r in records)
    assert types == [b"ValueError", b"_Poison"]
    assert await _count(engine, "SELECT count(*) FROM dead_letters") == 2


async def test_a_transient_failure_that_succeeds_on_retry_is_not_dead_lettered(kernel_db):
    engine, settings = kernel_db
    await _effects_table(engine)
    effects = Effects(fail_times={1: settings.consumer_max_retries})  # succeeds on the last attempt
    runner = _runner(engine, settings, effects)
    await publish(settings, Noted(stream="s", n=1))
    async with running(runner):
        await eventually(lambda: _effects_are(engine, [1]))  # the failed attempts' rows rolled back
    assert effects.calls == {1: settings.consumer_max_retries + 1}
    assert runner.outcomes == [(0, "handled")]
    assert await _count(engine, "SELECT count(*) FROM dead_letters") == 0


async def test_setting_the_stop_event_finishes_promptly_and_commits_what_was_handled(kernel_db):
    engine, settings = kernel_db
    await _effects_table(engine)
    runner = _runner(engine, settings, Effects())
    await publish(settings, *(Noted(stream="s", n=n) for n in range(5)))
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    await eventually(lambda: _effects_are(engine, list(range(5))))
    stop.set()
    await asyncio.wait_for(task, 5)
    assert not runner.running

    await publish(settings, Noted(stream="s", n=5))
    next_owner = _runner(engine, settings, Effects())
    async with running(next_owner):
        await eventually(lambda: _effects_are(engine, list(range(6))))
    assert next_owner.outcomes == [(5, "handled")]  # nothing before it came back: offsets were committed


@embedded_broker_only
async def test_the_runner_survives_a_broker_that_restarts_empty_and_handles_new_events(kernel_db, tmp_path):
    engine, settings = kernel_db
    await _effects_table(engine)
    port = free_port()
    broker = start_broker(port, log_file=tmp_path / "tansu-1.log")
    settings = settings.model_copy(update={"kafka_bootstrap_servers": broker.bootstrap})
    runner = _runner(engine, settings, Effects())
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        await publish(settings, Noted(stream="s", n=1))
        await eventually(lambda: _effects_are(engine, [1]))
        broker.stop()
        broker = start_broker(port, log_file=tmp_path / "tansu-2.log")
        await eventually(lambda: _true(runner.running), timeout=60)
        await publish(settings, Noted(stream="s", n=2))
        await eventually(lambda: _effects_are(engine, [1, 2]), timeout=60)
        assert not task.done()
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        broker.stop()


async def _true(value: bool) -> bool:
    return value


@apache_kafka_only
async def test_lag_is_read_from_end_offsets_that_are_exact_after_multi_record_batches(kernel_db):
    engine, settings = kernel_db
    await _effects_table(engine)
    topic = settings.topic(Noted.topic)
    await create_topics(settings, Noted.topic)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, linger_ms=50)
    await producer.start()
    try:  # sent without waiting, so they travel in batches of many records
        pending = [await producer.send(topic, m[1], key=m[0], headers=m[2])
                   for m in (_wire(Envelope.wrap(Noted(stream=f"s{n % 8}", n=n), source="/test"))
                             for n in range(400))]
        acked = await asyncio.gather(*pending)
    finally:
        await producer.stop()
    last = {}
    for metadata in acked:
        last[metadata.partition] = max(last.get(metadata.partition, -1), metadata.offset)
    probe = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await probe.start()
    try:
        ends = await probe.end_offsets([TopicPartition(topic, p) for p in last])
    finally:
        await probe.stop()
    assert {tp.partition: end for tp, end in ends.items()} == {p: offset + 1 for p, offset in last.items()}

    async with running(_runner(engine, settings, Effects())):
        await eventually(lambda: _effects_count_is(engine, 400), timeout=60)
        await eventually(lambda: _lag_is_zero(topic, last))


async def _effects_count_is(engine, count: int) -> bool:
    return len(await _effects(engine)) == count


async def _lag_is_zero(topic: str, partitions) -> bool:
    lags = [REGISTRY.get_sample_value("fayuan_consumer_lag",
                                      {"consumer": "kernel.notes", "topic": topic, "partition": str(p)})
            for p in partitions]
    assert lags == [0.0] * len(lags), lags
    return True


# --- batches (issue 17) ---------------------------------------------------------------------


class BlockAt(Effects):
    """Writes its effect (or queues it), then, at event `n`, waits for ever inside the batch's
    transaction."""

    def __init__(self, n: int, effects: type[Effects] = Effects):
        super().__init__()
        self.at, self.batch_seen, self.effects = n, 0, effects

    async def on_noted(self, event: Noted, uow) -> None:
        await self.effects.on_noted(self, event, uow)
        if event.n == self.at:
            self.batch_seen = len(self.calls)
            self.entered.set()
            await asyncio.Event().wait()


@pytest.mark.parametrize("effects", [Effects, Queued], ids=["written-at-once", "queued"])
async def test_killed_in_the_middle_of_a_batch_the_whole_batch_is_redone_and_nothing_doubles(
        kernel_db, effects):
    engine, settings = kernel_db
    await _effects_table(engine)
    await publish(settings, *(Noted(stream="s", n=n) for n in range(20)))  # one partition, in order
    blocked = BlockAt(12, effects)
    stop = asyncio.Event()
    task = asyncio.create_task(_runner(engine, settings, blocked).run(stop))
    await asyncio.wait_for(blocked.entered.wait(), 30)
    task.cancel()  # killed: the batch's transaction is rolled back, its offsets were not committed
    with contextlib.suppress(asyncio.CancelledError):
        await task
    committed = await _effects(engine)  # whole earlier batches only, if the first fetch was short
    assert committed == list(range(len(committed))) and 12 not in committed
    assert blocked.batch_seen - len(committed) >= 2  # the batch in hand had applied others before 12

    runner = _runner(engine, settings, effects())
    async with running(runner):
        await eventually(lambda: _effects_are(engine, list(range(20))))  # each once, queued in order
    assert [o for _, o in runner.outcomes] == ["handled"] * (20 - len(committed))  # the batch again
    assert await _count(engine, "SELECT count(*) FROM inbox") == 20


@pytest.mark.parametrize("effects", [Effects, Queued], ids=["written-at-once", "queued"])
async def test_a_batch_is_one_transaction_and_its_inbox_rows_one_insert(kernel_db, effects):
    engine, settings = kernel_db
    await _effects_table(engine)
    await publish(settings, *(Noted(stream=f"s{n % 8}", n=n) for n in range(60)))
    runner = _runner(engine, settings, effects())
    async with running(runner):
        await eventually(lambda: _effects_count_is(engine, 60))
    # now() is the transaction's start: one value per transaction, far fewer than the events.
    transactions = await _count(engine, "SELECT count(DISTINCT handled_at) FROM inbox")
    assert transactions < 60 / 4, transactions
    assert sorted(await _effects(engine)) == list(range(60))


async def _one_bad_among_twelve(engine, settings, runner: Recording, bad: str) -> None:
    """Six good events, the bad one (case `bad`, n = POISON_FAILS_AT), six good ones, all on one
    partition (one order), run until the twelve good ones are written and all 13 have an outcome."""
    cases = cases_on_the_partition_of(bad, 12)
    await publish(settings, *(Noted(stream=c, n=n) for n, c in enumerate(cases[:6])),
                  Noted(stream=bad, n=POISON_FAILS_AT),
                  *(Noted(stream=c, n=n) for n, c in enumerate(cases[6:], start=6)))
    async with running(runner):
        await eventually(lambda: _effects_count_is(engine, 12))
        await eventually(lambda: _true(len(runner.outcomes) == 13))


async def test_a_failing_message_makes_its_batch_go_one_by_one_and_the_others_still_commit(kernel_db):
    engine, settings = kernel_db
    await _effects_table(engine)
    effects = Effects(fail_times={POISON_FAILS_AT: 1000})
    runner = _runner(engine, settings, effects)
    await _one_bad_among_twelve(engine, settings, runner, "poisoned")
    assert sorted(await _effects(engine)) == list(range(12))  # each once
    assert effects.calls[POISON_FAILS_AT] == settings.consumer_max_retries + 1  # the batch's try counts
    assert [o for _, o in runner.outcomes] == ["handled"] * 6 + ["dead-letter"] + ["handled"] * 6
    assert await _count(engine, "SELECT count(*) FROM inbox") == 12
    assert await _count(engine, "SELECT count(*) FROM dead_letters") == 1
    # The batch it was in rolled back and was done again, one by one: those before it ran twice.
    assert max(effects.calls[n] for n in range(6)) == 2


async def test_a_refused_queued_write_sends_its_batch_one_by_one_and_dead_letters_only_its_message(kernel_db):
    """The refusal comes when the batch's queued writes are sent, after every handler returned:
    the batch is done again one message at a time, so it is pinned on the message whose write it
    was, and the others commit."""
    engine, settings = kernel_db
    await _effects_table(engine, check=f"n <> {POISON_FAILS_AT}")
    runner = _runner(engine, settings, Queued())
    await _one_bad_among_twelve(engine, settings, runner, "refused")
    assert await _effects(engine) == list(range(12))  # each once, in the partition's order
    assert [o for _, o in runner.outcomes] == ["handled"] * 6 + ["dead-letter"] + ["handled"] * 6
    assert await _count(engine, "SELECT count(*) FROM inbox") == 12
    assert await _count(engine, "SELECT count(*) FROM dead_letters") == 1
