"""The envelope on the wire: CloudEvents 1.0, Kafka protocol binding, binary mode, JSON data.

Round trips go through the real broker, so what is asserted is what another system reads."""

from datetime import UTC, datetime
from typing import ClassVar

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

import shared.contracts  # noqa: F401  (registers every contract type)
from shared import contracts
from shared.events import Envelope, IntegrationEvent, integration_event, json_schemas, registered_events
from shared.tests.helpers import Noted
from shared.topics import ensure_topics


async def _through_the_broker(settings, topic: str, value: bytes, key: bytes | None, headers: list) -> tuple:
    await ensure_topics(settings, [topic], partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap_servers,
                                auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    try:
        record = await consumer.getone()
    finally:
        await consumer.stop()
    return record.key, record.value, record.headers


async def test_binary_round_trip_through_the_broker_keeps_every_attribute(make_settings):
    settings = make_settings()
    at = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    sent = Envelope.wrap(Noted(stream="case-7", n=3), source="/fayuan/kernel", time=at,
                         correlation_id="corr-1", causation_id="cause-1")
    message = sent.to_kafka()
    topic = settings.topic("legalaid.test.roundtrip")

    key, value, headers = await _through_the_broker(settings, topic, message.value, message.key.encode(),
                                                    list(message.headers.items()))

    names = dict(headers)
    assert names["ce_id"] == sent.id.encode()
    assert names["ce_type"] == b"legalaid.test.noted.v1"
    assert names["ce_source"] == b"/fayuan/kernel"
    assert names["ce_specversion"] == b"1.0"
    assert names["ce_subject"] == b"case-7"
    assert datetime.fromisoformat(names["ce_time"].decode().replace("Z", "+00:00")) == at
    assert names["content-type"] == b"application/json"
    assert key == b"case-7"
    received = Envelope.from_kafka(topic, key, value, headers)
    assert received == Envelope(**{**sent.__dict__, "topic": topic})
    assert received.model() == Noted(stream="case-7", n=3)
    assert received.correlation_id == "corr-1" and received.extensions["causationid"] == "cause-1"


def test_the_registry_refuses_a_second_model_for_one_type():
    with pytest.raises(ValueError, match="registered twice"):

        @integration_event
        class Impostor(IntegrationEvent):
            type: ClassVar[str] = Noted.type
            topic: ClassVar[str] = Noted.topic
            key_field: ClassVar[str] = "stream"

            stream: str

    assert registered_events()[Noted.type] is Noted


def test_every_contract_type_is_registered_and_has_a_json_schema():
    exported = [getattr(contracts, name) for name in contracts.__all__]
    event_models = [m for m in exported if isinstance(m, type) and issubclass(m, IntegrationEvent)]
    assert event_models, "shared.contracts exports no integration events"
    schemas = json_schemas()
    for model in event_models:
        assert registered_events()[model.type] is model
        schema = schemas[model.type]
        assert schema["type"] == "object" and schema["properties"], model.type
        assert set(schema.get("required", [])) <= set(schema["properties"])
    assert set(schemas) == set(registered_events())


def _headers(**overrides: bytes | None) -> list[tuple[str, bytes]]:
    headers = {"ce_id": b"e-1", "ce_type": Noted.type.encode(), "ce_source": b"/test",
               "ce_specversion": b"1.0", "content-type": b"application/json"}
    headers.update(overrides)
    return [(k, v) for k, v in headers.items() if v is not None]


@pytest.mark.parametrize(
    ("headers", "value"),
    [
        pytest.param([], b'{"stream": "s", "n": 1}', id="no-headers-at-all"),
        pytest.param([("content-type", b"application/json")], b'{"stream": "s", "n": 1}', id="plain-json"),
        pytest.param(_headers(ce_id=None), b'{"stream": "s", "n": 1}', id="no-ce_id"),
        pytest.param(_headers(ce_specversion=None), b'{"stream": "s", "n": 1}', id="no-specversion"),
        pytest.param(_headers(ce_specversion=b"0.3"), b'{"stream": "s", "n": 1}', id="old-specversion"),
        pytest.param(_headers(ce_type=None), b'{"stream": "s", "n": 1}', id="no-type"),
        pytest.param(_headers(ce_source=None), b'{"stream": "s", "n": 1}', id="no-source"),
        pytest.param(_headers(), b"not json", id="body-not-json"),
        pytest.param(_headers(), b"[1, 2]", id="body-not-an-object"),
        pytest.param(_headers(), None, id="no-body"),
    ],
)
def test_from_kafka_rejects_what_is_not_a_binary_cloudevent(headers, value):
    with pytest.raises(ValueError):
        Envelope.from_kafka("t", b"s", value, headers)


def test_from_kafka_accepts_the_minimal_valid_message():
    envelope = Envelope.from_kafka("t", b"s", b'{"stream": "s", "n": 1}', _headers())
    assert (envelope.id, envelope.type, envelope.source) == ("e-1", Noted.type, "/test")
    assert envelope.model() == Noted(stream="s", n=1)
