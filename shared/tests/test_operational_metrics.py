"""The metrics the alerts read (deploy/k8s/base/monitoring): the age of the relay's backlog, each
readiness check's last result, and consumer lag only for the partitions a replica still owns."""

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import httpx
from aiokafka.structs import TopicPartition
from fastapi import FastAPI
from prometheus_client import REGISTRY

from shared import outbox
from shared.consumer import ConsumerRunner
from shared.events import Envelope
from shared.http import install_operational_routes
from shared.outbox import Relay
from shared.settings import ServiceSettings
from shared.store import driver
from shared.tests.helpers import envelopes


async def test_the_relay_reports_how_old_its_oldest_unpublished_row_is(kernel_db):
    engine, settings = kernel_db
    old, new = envelopes(settings, "s", 2)
    old = Envelope(**{**old.__dict__, "time": datetime.now(UTC) - timedelta(minutes=5)})
    async with engine.begin() as conn:
        await outbox.add(conn, [old, new])
    relay = Relay(engine, settings)

    assert await relay.backlog() == 2
    assert 300 <= REGISTRY.get_sample_value("fayuan_relay_backlog_age_seconds") < 400

    async with engine.begin() as conn:  # as if both were published
        last = await (await driver(conn)).fetchrow(
            "SELECT txid::text AS txid, position FROM outbox ORDER BY position DESC LIMIT 1")
        await relay._advance(conn, last["txid"], last["position"], 2)
    assert await relay.backlog() == 0
    assert REGISTRY.get_sample_value("fayuan_relay_backlog_age_seconds") == 0


async def test_each_readiness_check_leaves_its_last_result_as_a_gauge():
    app = FastAPI()

    async def fine() -> None:
        return None

    async def down() -> str:
        return "connection refused"

    install_operational_routes(app, {"database": fine, "broker": down})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.get("/readyz")).status_code == 503
    assert REGISTRY.get_sample_value("fayuan_readiness_check_ok", {"check": "database"}) == 1
    assert REGISTRY.get_sample_value("fayuan_readiness_check_ok", {"check": "broker"}) == 0


class _Consumer:
    """Polls in turn (the assignment then, and the batch), then stops the runner."""

    def __init__(self, polls: list[tuple[set[TopicPartition], dict]], stop: asyncio.Event):
        self.polls, self.stop, self.assigned = polls, stop, set()

    async def getmany(self, timeout_ms: int, max_records: int) -> dict:
        if not self.polls:
            self.stop.set()
            return {}
        self.assigned, batch = self.polls.pop(0)
        return batch

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def highwater(self, tp: TopicPartition) -> int:
        return 10

    async def commit(self, offsets: dict) -> None:
        pass


async def test_a_replica_stops_reporting_lag_for_a_partition_it_no_longer_owns():
    runner = ConsumerRunner(None, ServiceSettings(service_name="kernel"), name="lagged", handlers={})

    async def handled(messages, producer) -> list[str]:
        return ["handled"] * len(messages)

    runner.handle_batch = handled
    first, second = TopicPartition("legalaid.test.lagged", 0), TopicPartition("legalaid.test.lagged", 1)
    stop = asyncio.Event()
    polls = [({first, second}, {first: [SimpleNamespace(offset=4)], second: [SimpleNamespace(offset=7)]}),
             ({second}, {})]

    def lag(tp: TopicPartition) -> float | None:
        labels = {"consumer": "kernel.lagged", "topic": tp.topic, "partition": str(tp.partition)}
        return REGISTRY.get_sample_value("fayuan_consumer_lag", labels)

    await runner._consume(_Consumer(polls[:1], stop), None, stop)
    assert (lag(first), lag(second)) == (5, 2)

    stop.clear()  # a rebalance gave the first partition to another replica
    await runner._consume(_Consumer(polls[1:], stop), None, stop)
    assert (lag(first), lag(second)) == (None, 2)
