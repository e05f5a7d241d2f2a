"""The AsyncAPI 3.0 document of Fayuan's integration events, generated from the event models.

The bar association builds its consumer from this document (design.md §3), so it is derived
from the same models the services use and never written by hand: one channel per topic, one
message per event type with its JSON Schema payload, the CloudEvents binary-mode headers,
the Kafka key, and each topic's dead-letter topic with the headers a consumer adds there.

    python -m shared.asyncapi > docs/asyncapi.yaml

The committed docs/asyncapi.yaml is checked against a fresh generation by
shared/tests/test_asyncapi.py, so a changed contract that was not regenerated fails the tests.
"""

from __future__ import annotations

import sys
from typing import Any

# PyYAML's stubs (types-PyYAML) are not in the environment: yaml's objects are Any here.
import yaml  # type: ignore[import-untyped]
from pydantic.json_schema import models_json_schema

import shared.contracts  # noqa: F401  (registers every contract event type)
from shared.contracts.sanctions import BAR_NOTICES
from shared.events import JSON, SPECVERSION, IntegrationEvent, registered_events
from shared.topics import DEAD_LETTER_SUFFIX, PARTITIONS, dead_letter_topic

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
# The contract's own version: bump the minor for an added optional field or a new event type;
# a breaking change is a new event type (`...v2`), published beside the old one for a while.
DOCUMENT_VERSION = "1.0.0"
CONTRACTS_PACKAGE = "shared.contracts."
SCHEMAS = "#/components/schemas/"

DESCRIPTION = f"""\
The integration events that Fayuan's five services (intake, assignment, evaluation, sanctions,
publication) tell each other and the bar association. The bar association's system consumes
`legalaid.bar-association.notices`; every other topic is documented for completeness.

**Envelope.** CloudEvents {SPECVERSION}, Kafka protocol binding, binary mode: the event's data is
the message value (JSON, UTF-8) and its attributes are `ce_*` headers. `ce_type` names the
event type and its version (`legalaid.<service>.<fact>.v1`); dispatch on it, not on the topic,
since a topic carries several types.

**Keys and order.** Each message names its key in its Kafka binding: the case id for case
events, so one case's events are in order on one partition. Across partitions there is no
order.

**At least once.** Events can arrive more than once (a relay that restarts re-sends its last
batch). A redelivered event has the same `ce_id`: record the ids you have handled, in the
same transaction as your effects, and skip those you have seen. Commit offsets after that.

**Compatibility.** Within one type version fields are only added, and only as optional; ignore
fields you do not know (the payload schemas leave additional properties open for that reason).
A breaking change is a new type version, published beside the old one.

**Dead letters.** A message a Fayuan consumer cannot handle after bounded retries is copied,
value, key and headers unchanged, to the topic's dead-letter topic (`<topic>{DEAD_LETTER_SUFFIX}`) with
`x-dead-letter-*` headers saying who failed and why; the partition then moves on.

**Topic prefix.** Addresses are as in production. A stack started with `FAYUAN_TOPIC_PREFIX`
(tests share one broker this way) puts that prefix before every topic.

**The embedded development broker.** `make run` starts Tansu, a Kafka-protocol broker kept in
memory. It holds a consumer group's first JoinGroup for the whole rebalance timeout, so a
librdkafka-based consumer (confluent-kafka, kcat, node-rdkafka, ...) with default settings
seems to hang for about five minutes before it receives anything. Against the development
broker, configure group consumers with

    max.poll.interval.ms=6000
    session.timeout.ms=6000

and they join within seconds. Producers and consumers that assign partitions themselves (no
group) work at once. Use the defaults against the production Kafka cluster. The development
broker also reports end offsets wrongly after multi-record batches: do not compute lag or
"read up to the end" from them there.
"""

# Who outside Fayuan reads a topic, said on its channel.
AUDIENCE = {BAR_NOTICES: " The bar association's system consumes this topic (R-SAN-4)."}

CLOUDEVENTS_HEADERS: dict[str, dict[str, Any]] = {
    "ce_specversion": {"type": "string", "const": SPECVERSION, "description": "CloudEvents version."},
    "ce_id": {"type": "string", "format": "uuid",
              "description": "The event's id: the same on every redelivery, so consumers dedupe on it."},
    "ce_type": {"type": "string", "description": "The event type and its version."},
    "ce_source": {"type": "string", "description": "The producing service, as `/fayuan/<service>`."},
    "ce_time": {"type": "string", "format": "date-time",
                "description": "When the event was emitted (RFC 3339, UTC); "
                               "the fact's own time is in the data."},
    "ce_subject": {"type": "string", "description": "What the event is about: the same value as the key."},
    "ce_partitionkey": {"type": "string",
                        "description": "CloudEvents partitioning extension: "
                                       "the key, repeated as an attribute."},
    "content-type": {"type": "string", "const": JSON, "description": "Media type of the value."},
    "ce_correlationid": {"type": "string",
                         "description": "Id shared by every event of one request or flow (optional)."},
    "ce_causationid": {"type": "string",
                       "description": "`ce_id` of the event that caused this one (optional)."},
}
REQUIRED_HEADERS = [
    "ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "ce_subject", "content-type",
]

DEAD_LETTER_HEADERS: dict[str, dict[str, Any]] = {
    "x-dead-letter-consumer": {"type": "string",
                               "description": "The consumer that gave up (`<service>.<name>`)."},
    "x-dead-letter-topic": {"type": "string", "description": "The topic the message was read from."},
    "x-dead-letter-partition": {"type": "string", "pattern": r"^\d+$",
                                "description": "Its partition there (decimal text)."},
    "x-dead-letter-offset": {"type": "string", "pattern": r"^\d+$",
                             "description": "Its offset there (decimal text)."},
    "x-dead-letter-error-type": {"type": "string",
                                 "description": "Class of the error, e.g. `ValidationError`."},
    "x-dead-letter-error": {"type": "string", "maxLength": 2000, "description": "The error message."},
    "x-dead-letter-stack": {"type": "string", "maxLength": 4000,
                            "description": "The tail of the stack trace."},
}


def contract_events() -> dict[str, type[IntegrationEvent]]:
    """The contract's event types. Test-only types registered by kernel tests stay out."""
    return {
        t: m for t, m in sorted(registered_events().items()) if m.__module__.startswith(CONTRACTS_PACKAGE)
    }


def _channel_id(topic: str) -> str:
    return topic.replace(".", "_")


def _producer(model: type[IntegrationEvent]) -> str:
    return model.type.split(".")[1]


def _doc(model: type) -> str:
    return " ".join((model.__doc__ or "").split())


def _headers(model: type[IntegrationEvent]) -> dict[str, Any]:
    properties = {name: dict(schema) for name, schema in CLOUDEVENTS_HEADERS.items()}
    properties["ce_type"]["const"] = model.type
    properties["ce_source"]["examples"] = [f"/fayuan/{_producer(model)}"]
    return {"type": "object", "required": list(REQUIRED_HEADERS), "properties": properties}


def _message(model: type[IntegrationEvent]) -> dict[str, Any]:
    return {
        "name": model.type,
        "title": model.__name__,
        "summary": _doc(model) or f"{model.__name__} ({_producer(model)})",
        "contentType": JSON,
        "headers": _headers(model),
        "payload": {"$ref": SCHEMAS + model.__name__},
        "bindings": {"kafka": {
            "key": {"type": "string", "description": f"The event's `{model.key_field}`."},
            "bindingVersion": KAFKA_BINDING_VERSION,
        }},
    }


def _dead_letter_message() -> dict[str, Any]:
    cloudevents = {name: dict(schema) for name, schema in CLOUDEVENTS_HEADERS.items()}
    return {
        "name": "dead-letter",
        "title": "DeadLetter",
        "summary": "A message a consumer could not handle, unchanged, with why.",
        "description": "Value, key and original headers as they were on the source topic (the CloudEvents "
                       "headers are missing when the message was not a valid event at all), plus the "
                       "`x-dead-letter-*` headers. Fayuan also keeps dead letters in each service's "
                       "database, so they can be listed and replayed.",
        "headers": {"type": "object", "required": list(DEAD_LETTER_HEADERS),
                    "properties": {**DEAD_LETTER_HEADERS, **cloudevents}},
        "payload": {"description": "The original message value, byte for byte."},
        "bindings": {"kafka": {"key": {"type": "string", "description": "The original key."},
                               "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _open(schema: Any) -> Any:
    """The schema without `additionalProperties: false`. Fayuan's models forbid unknown fields,
    but the contract grows by optional fields within a type version: a consumer generated from
    this document must accept a newer producer's additions, not reject them."""
    if isinstance(schema, dict):
        return {k: _open(v) for k, v in schema.items() if not (k == "additionalProperties" and v is False)}
    if isinstance(schema, list):
        return [_open(v) for v in schema]
    return schema


def _schemas(models: list[type[IntegrationEvent]]) -> dict[str, Any]:
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=SCHEMAS + "{model}")
    schemas: dict[str, Any] = _open(top.get("$defs", {}))
    return schemas


def _kafka_channel(topic: str) -> dict[str, Any]:
    return {"kafka": {"topic": topic, "partitions": PARTITIONS, "bindingVersion": KAFKA_BINDING_VERSION}}


def document() -> dict[str, Any]:
    """The AsyncAPI document as plain data, in a stable order."""
    events = contract_events()
    names = [m.__name__ for m in events.values()]
    if len(set(names)) != len(names):
        raise ValueError(f"two event types share a model name: {sorted(names)}")
    by_topic: dict[str, list[type[IntegrationEvent]]] = {}
    for model in events.values():
        by_topic.setdefault(model.topic, []).append(model)

    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic, models in sorted(by_topic.items()):
        cid, dlq = _channel_id(topic), _channel_id(dead_letter_topic(topic))
        producers = sorted({_producer(m) for m in models})
        keys = sorted({m.key_field for m in models})
        channels[cid] = {
            "address": topic,
            "title": topic,
            "description": f"Published by {', '.join(producers)}; key: {', '.join(keys)}. "
                           f"Event types: {', '.join(m.type for m in models)}.{AUDIENCE.get(topic, '')}",
            "messages": {m.__name__: {"$ref": f"#/components/messages/{m.__name__}"} for m in models},
            "bindings": _kafka_channel(topic),
        }
        channels[dlq] = {
            "address": dead_letter_topic(topic),
            "title": dead_letter_topic(topic),
            "description": f"Dead letters of `{topic}`: messages its consumers could not handle.",
            "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
            "bindings": _kafka_channel(dead_letter_topic(topic)),
        }
        operations[f"publish_{cid}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{cid}"},
            "summary": f"{', '.join(producers)} publishes to {topic} (through its transactional outbox).",
            "messages": [{"$ref": f"#/channels/{cid}/messages/{m.__name__}"} for m in models],
        }
        operations[f"dead_letter_{cid}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{dlq}"},
            "summary": f"A consumer of {topic} sets aside a message it cannot handle.",
            "messages": [{"$ref": f"#/channels/{dlq}/messages/DeadLetter"}],
        }

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Fayuan integration events",
            "version": DOCUMENT_VERSION,
            "description": DESCRIPTION,
        },
        "defaultContentType": JSON,
        "servers": {
            "production": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "description": "The Apache Kafka cluster of the deployment (Strimzi); the bureau's operators "
                               "give its bootstrap address and credentials.",
                "variables": {"bootstrap": {"description": "Bootstrap servers, host:port."}},
            },
            "development": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The embedded Tansu broker of `make run` (memory only). Group consumers on "
                               "librdkafka need max.poll.interval.ms=6000 and session.timeout.ms=6000 "
                               "here (see the description above).",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {
                **{m.__name__: _message(m) for m in events.values()},
                "DeadLetter": _dead_letter_message(),
            },
            "schemas": _schemas(list(events.values())),
        },
    }


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]  # SafeDumper is Any: PyYAML has no stubs here
    """Block style for multi-line text, and no anchors: the document is read by people."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_Dumper.add_representer(str, _text)

HEADER = "# Generated by `python -m shared.asyncapi` from shared/contracts: do not edit by hand.\n"


def render() -> str:
    text: str = yaml.dump(document(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)
    return HEADER + text


if __name__ == "__main__":
    sys.stdout.buffer.write(render().encode("utf-8"))
