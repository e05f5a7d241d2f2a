"""Readiness says what a pod can serve (shown on publication, built by the kernel): its database,
reachable and migrated. The broker is watched in the background and shown, never required: while
it is away the outbox keeps the writes, so the pods stay in service."""

from __future__ import annotations

import re

from devstack.embedded import free_port, start_broker
from services.publication.app import MIGRATIONS, create_app
from services.publication.settings import PublicationSettings
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import embedded_broker_only, eventually

QUIET = {"relay_enabled": False, "consumers_enabled": False}


def gauge(metrics: str, name: str) -> float:
    [value] = re.findall(rf"^{name} (\S+)$", metrics, re.M)
    return float(value)


async def test_ready_while_the_broker_is_unreachable(migrated_settings):
    closed = f"127.0.0.1:{free_port()}"  # nothing listens there
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, kafka_bootstrap_servers=closed,
                                       broker_check_seconds=0.2, broker_check_timeout_seconds=1, **QUIET)
    async with serve_in_process(create_app(settings)) as client:
        async def seen_down() -> dict:
            body = (await client.get("/readyz")).json()
            return body if body["broker"]["status"] == "down" else {}

        body = await eventually(seen_down, timeout=20)
        ready = await client.get("/readyz")
        metrics = (await client.get("/metrics")).text
    assert ready.status_code == 200
    assert body["status"] == "ready" and body["checks"] == {"database": "ok"}
    assert body["broker"]["last_ok"] is None and body["broker"]["error"]
    assert gauge(metrics, "fayuan_broker_up") == 0


async def test_not_ready_while_the_database_is_unreachable(make_settings):
    settings = make_settings(PublicationSettings, database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/x",
                             **QUIET)
    async with serve_in_process(create_app(settings)) as client:
        ready = await client.get("/readyz")
        assert (await client.get("/healthz")).status_code == 200  # liveness: the process answers
    assert ready.status_code == 503
    assert ready.json()["status"] == "not ready"
    assert ready.json()["checks"]["database"] != "ok"


@embedded_broker_only
async def test_the_broker_gauge_goes_to_0_and_back_to_1(migrated_settings, tmp_path):
    port = free_port()
    broker = start_broker(port, log_file=tmp_path / "tansu-1.log")
    try:
        settings = await migrated_settings(PublicationSettings, MIGRATIONS,
                                           kafka_bootstrap_servers=broker.bootstrap, broker_check_seconds=0.2,
                                           broker_check_timeout_seconds=1, **QUIET)
        async with serve_in_process(create_app(settings)) as client:
            async def broker_up(expected: float) -> bool:
                metrics = (await client.get("/metrics")).text
                return gauge(metrics, "fayuan_broker_up") == expected

            await eventually(lambda: broker_up(1), timeout=30)
            first_ok = gauge((await client.get("/metrics")).text, "fayuan_broker_last_ok_timestamp_seconds")
            assert first_ok > 0

            broker.stop()
            await eventually(lambda: broker_up(0), timeout=30)
            down = await client.get("/readyz")
            assert down.status_code == 200 and down.json()["broker"]["status"] == "down"

            broker = start_broker(port, log_file=tmp_path / "tansu-2.log")
            await eventually(lambda: broker_up(1), timeout=30)
            back = (await client.get("/readyz")).json()["broker"]
            assert back["status"] == "up" and back["error"] is None
            assert gauge((await client.get("/metrics")).text,
                         "fayuan_broker_last_ok_timestamp_seconds") > first_ok
    finally:
        broker.stop()
