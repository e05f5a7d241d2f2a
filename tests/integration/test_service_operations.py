"""What operators and other systems rely on in every service (shown on intake, built by the kernel):
health, readiness, metrics, correlation ids and JSON logs."""

import io
import json
import logging

from asgi_correlation_id import correlation_id

from services.intake.app import MIGRATIONS, IntakeSettings, create_app
from shared.logs import configure_logging
from shared.settings import ServiceSettings
from shared.testing.fixtures import serve_in_process


def test_settings_come_from_prefixed_variables_and_the_usual_unprefixed_urls(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.example:5432/postgres")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9092")
    monkeypatch.setenv("FAYUAN_RELAY_BATCH_SIZE", "42")
    settings = IntakeSettings()
    assert settings.sqlalchemy_url == "postgresql+asyncpg://u:p@db.example:5432/fayuan_intake"
    assert settings.kafka_bootstrap_servers == "kafka.example:9092"
    assert settings.relay_batch_size == 42
    monkeypatch.setenv("FAYUAN_DATABASE_URL", "postgresql://v@other:5432/postgres")
    assert IntakeSettings().sqlalchemy_url == "postgresql+asyncpg://v@other:5432/fayuan_intake"


def test_bad_settings_are_refused(monkeypatch):
    import pytest
    from pydantic import ValidationError

    monkeypatch.setenv("FAYUAN_KAFKA_ACKS", "most")
    with pytest.raises(ValidationError, match="kafka_acks"):
        ServiceSettings()


async def test_health_readiness_metrics_and_correlation_ids(migrated_settings):
    settings = await migrated_settings(IntakeSettings, MIGRATIONS,
                                       relay_enabled=False, consumers_enabled=False)
    async with serve_in_process(create_app(settings)) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        # The broker is shown beside the checks, not among them (tests/integration/test_readiness.py).
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}
        assert ready.json()["broker"]["status"] in {"unknown", "up"}
        answered = await client.get("/api/v1/cases",
                                    headers={"X-Correlation-ID": "1f0c7a3e9b2d4c5e8a6b7c8d9e0f1a2b"})
        assert answered.headers["X-Correlation-ID"] == "1f0c7a3e9b2d4c5e8a6b7c8d9e0f1a2b"
        assert (await client.get("/api/v1/cases")).headers["X-Correlation-ID"]  # made when not given
        metrics = (await client.get("/metrics")).text
        assert 'fayuan_http_requests_total{method="GET",route="/api/v1/cases",status="200"}' in metrics


async def test_readiness_fails_while_the_database_is_not_migrated(fresh_database, make_settings):
    settings = make_settings(IntakeSettings, database_name=await fresh_database("unmigrated"),
                             relay_enabled=False, consumers_enabled=False)
    async with serve_in_process(create_app(settings)) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "migrations not applied"


async def test_logs_are_json_lines_carrying_the_correlation_id(migrated_settings):
    settings = await migrated_settings(IntakeSettings, MIGRATIONS,
                                       relay_enabled=False, consumers_enabled=False)
    configure_logging(service="intake", level="INFO", json_format=True)
    stream = io.StringIO()
    root = logging.getLogger()
    root.handlers[0].setStream(stream)
    try:
        async with serve_in_process(create_app(settings)):
            token = correlation_id.set("c0ffee00c0ffee00c0ffee00c0ffee00")  # as the middleware sets it
            logging.getLogger("test").info("case looked up", extra={"case_id": "c-1"})
            correlation_id.reset(token)
    finally:
        root.handlers.clear()
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    assert all(line["service"] == "intake" and "timestamp" in line and "level" in line for line in lines)
    assert any(line["event"] == "service started" for line in lines)
    [looked_up] = [line for line in lines if line["event"] == "case looked up"]
    assert looked_up["correlation_id"] == "c0ffee00c0ffee00c0ffee00c0ffee00" and looked_up["case_id"] == "c-1"
