"""A bar association's client of Fayuan, written only from docs/asyncapi.yaml: it imports nothing
of Fayuan (test_asyncapi_client.py checks), as the bar association's developers would write it
with a plain Kafka client (confluent-kafka, librdkafka) and an HTTP client.

It reads the bureau's notices from the channel the document says Fayuan sends them on, and
answers on the channel the document's `receive` operation names, with headers built from the
message's header schema (its required names, its constants) and a value from the message's
schema and example, validated against both before it is sent."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import yaml
from confluent_kafka import Consumer, KafkaError, Producer

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"


class AsyncApiDocument:
    def __init__(self, path: Path = DOCUMENT):
        self.document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))

    def _resolve(self, ref: str) -> Any:
        node: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node

    def validator(self, schema: dict[str, Any]) -> jsonschema.Validator:
        return jsonschema.Draft202012Validator({**schema, "components": self.document["components"]})

    def message(self, name: str) -> dict[str, Any]:
        message: dict[str, Any] = self.document["components"]["messages"][name]
        return message

    def message_type(self, name: str) -> str:
        return str(self.message(name)["headers"]["properties"]["ce_type"]["const"])

    def channel_of(self, message_name: str, action: str) -> str:
        """The address of the channel an operation of this action (Fayuan's point of view) has the
        message on."""
        for operation in self.document["operations"].values():
            refs = [m["$ref"] for m in operation["messages"]]
            if operation["action"] == action and any(r.endswith("/messages/" + message_name) for r in refs):
                return str(self._resolve(operation["channel"]["$ref"])["address"])
        raise LookupError(f"no {action} operation carries {message_name}")

    def headers_for(self, message_name: str, *, key: str) -> dict[str, str]:
        """The CloudEvents binary-mode headers of a new message: every required header, constants
        from the schema, the source from its example."""
        schema = self.message(message_name)["headers"]
        properties = schema["properties"]
        values = {"ce_id": str(uuid.uuid4()), "ce_time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                  "ce_subject": key, "ce_partitionkey": key,
                  "ce_source": properties["ce_source"]["examples"][0]}
        headers = {}
        for name in [*schema["required"], "ce_partitionkey"]:
            headers[name] = properties[name].get("const", values.get(name))
        self.validator(schema).validate(headers)
        return headers

    def payload_for(self, message_name: str, **fields: Any) -> dict[str, Any]:
        """The message's example value with `fields` set, validated against its schema."""
        message = self.message(message_name)
        payload = {**message["examples"][0]["payload"], **fields}
        self.validator(message["payload"]).validate(payload)
        return payload


def read_notices(bootstrap: str, topic: str, group: str, *, notice_type: str, expect: int,
                 group_timeouts: dict[str, int], timeout: float = 90.0) -> list[dict[str, Any]]:
    """Join the group and read until `expect` notices of `notice_type` have come (other types on
    the topic are skipped, as the document says to dispatch on `ce_type`); commit; leave."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, **group_timeouts})
    consumer.subscribe([topic])
    notices: list[dict[str, Any]] = []
    started = time.monotonic()
    try:
        while len(notices) < expect and time.monotonic() - started < timeout:
            message = consumer.poll(0.2)
            if message is None:
                continue
            if message.error():
                assert message.error().code() == KafkaError._PARTITION_EOF, message.error()
                continue
            headers = {name: value.decode() for name, value in message.headers() or []}
            if headers.get("ce_type") == notice_type:
                notices.append({"key": message.key().decode(), "headers": headers,
                                "data": json.loads(message.value())})
        if notices:
            consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return notices


def answer(bootstrap: str, topic: str, *, key: str, headers: dict[str, str], payload: dict[str, Any]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    producer.produce(topic, key=key.encode(), value=json.dumps(payload, ensure_ascii=False).encode(),
                     headers=[(name, value.encode()) for name, value in headers.items()])
    assert producer.flush(30) == 0, "the answer was not delivered"


async def notice_over_rest(client: httpx.AsyncClient, notice_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/bar-notices/{notice_id}")
    response.raise_for_status()
    notice: dict[str, Any] = response.json()
    return notice
