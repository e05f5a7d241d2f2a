"""The AsyncAPI document against the outside world: valid under the official AsyncAPI 3.0.0 JSON
Schema, an example on every message that its own schemas accept and the kernel would publish,
partitions equal to the Strimzi KafkaTopics', and servers secured as the Kafka manifests say."""

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import BaseModel, ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT7

import shared.contracts
from shared import asyncapi
from shared.contracts import assignment, bar_association, common, evaluation, intake, sanctions
from shared.events import Envelope
from shared.topics import BAR_OUTCOMES, RELAY_EPOCH_SUFFIX

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "asyncapi.yaml"
K8S = ROOT / "deploy" / "k8s"
# Official, vendored unchanged (schemas/README.md): JSON Schema Draft 7.
OFFICIAL = json.loads((Path(__file__).parent / "schemas" / "asyncapi-3.0.0.json").read_text(encoding="utf-8"))
DOCUMENT_URI = "urn:fayuan:asyncapi"
CLOUDEVENTS_EXAMPLE_HEADERS = {"ce_id", "ce_type", "ce_source", "ce_time", "ce_subject", "content-type"}
HMAC_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


@functools.cache
def committed() -> dict[str, Any]:
    """Parsed once (it is large); tests that change it change a deep copy."""
    return yaml.safe_load(COMMITTED.read_text(encoding="utf-8"))


def official_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(OFFICIAL)
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(document)]


def validator_in(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    """A validator for one schema of the document (AsyncAPI schemas are Draft 7 supersets), its
    `#/components/...` references resolved in the document."""
    registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, DRAFT7.create_resource(document))
    if set(schema) == {"$ref"}:  # a reference into the document: made absolute, so it finds it
        schema = {"$ref": DOCUMENT_URI + schema["$ref"]}
    return jsonschema.Draft7Validator(schema, registry=registry,
                                      format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def schema_errors(document: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:200]}"
            for e in validator_in(document, schema).iter_errors(instance)]


def test_the_vendored_schema_is_the_official_draft_7_one():
    jsonschema.Draft7Validator.check_schema(OFFICIAL)
    assert OFFICIAL["$id"] == "http://asyncapi.com/definitions/3.0.0/asyncapi.json"
    assert OFFICIAL["properties"]["asyncapi"]["const"] == "3.0.0"


def test_the_document_is_valid_asyncapi_3():
    assert official_errors(committed()) == []


def _without_info(d: dict[str, Any]) -> None:
    del d["info"]


def _bad_security(d: dict[str, Any]) -> None:
    d["components"]["securitySchemes"]["scramSha512"]["type"] = "scram-sha-512"


def _server_without_protocol(d: dict[str, Any]) -> None:
    del d["servers"]["production"]["protocol"]


def _partitions_as_text(d: dict[str, Any]) -> None:
    next(iter(d["channels"].values()))["bindings"]["kafka"]["partitions"] = "twelve"


def _unknown_example_field(d: dict[str, Any]) -> None:
    d["components"]["messages"]["CaseRegistered"]["examples"][0]["value"] = {}


def _operation_without_action(d: dict[str, Any]) -> None:
    del next(iter(d["operations"].values()))["action"]


@pytest.mark.parametrize("breakage", [_without_info, _bad_security, _server_without_protocol,
                                      _partitions_as_text, _unknown_example_field, _operation_without_action])
def test_the_official_schema_rejects_a_broken_document(breakage):
    document = copy.deepcopy(committed())
    breakage(document)
    assert official_errors(document)


def test_every_message_has_an_example_its_schemas_accept():
    document = committed()
    for name, message in document["components"]["messages"].items():
        assert message.get("examples"), f"{name} has no example"
        for example in message["examples"]:
            assert CLOUDEVENTS_EXAMPLE_HEADERS <= set(example["headers"]), name
            assert schema_errors(document, message["headers"], example["headers"]) == [], name
            assert schema_errors(document, message["payload"], example["payload"]) == [], name


def test_the_payload_schema_would_reject_a_wrong_example():
    """The check above can fail: a missing required field and a value outside an enum are caught."""
    document = committed()
    message = document["components"]["messages"]["CaseRegistered"]
    payload = dict(message["examples"][0]["payload"])
    del payload["case_number"]
    assert schema_errors(document, message["payload"], payload)
    payload = {**message["examples"][0]["payload"], "case_kind": "divorce"}
    assert schema_errors(document, message["payload"], payload)
    headers = {**message["examples"][0]["headers"], "ce_type": "legalaid.intake.case-closed.v1"}
    assert schema_errors(document, message["headers"], headers)


def test_the_examples_are_what_the_kernel_publishes():
    """Complete and canonical (the model's own JSON), and read back by the kernel as that event."""
    messages = committed()["components"]["messages"]
    for event_type, model in asyncapi.contract_events().items():
        examples = messages[model.__name__]["examples"]
        assert [e["payload"] for e in examples] == asyncapi.payload_examples(model), event_type
        for example in examples:
            payload, headers = example["payload"], example["headers"]
            assert model.model_validate(payload).model_dump(mode="json") == payload, event_type
            assert headers["ce_type"] == event_type
            assert headers["ce_subject"] == str(payload[model.key_field])
            envelope = Envelope.from_kafka(model.topic, headers["ce_subject"].encode(),
                                           json.dumps(payload).encode(),
                                           [(k, v.encode()) for k, v in headers.items()])
            assert envelope.model() == model.model_validate(payload)


def contract_models() -> list[type[BaseModel]]:
    modules = [common, intake, assignment, evaluation, sanctions, bar_association]
    return [m for module in modules for m in vars(module).values()
            if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__ == module.__name__]


def test_every_contract_model_carries_a_valid_example():
    models = contract_models()
    assert set(asyncapi.contract_events().values()) <= set(models)
    assert {shared.contracts.HandlerRef, shared.contracts.CaseFlags} <= set(models)
    for model in models:
        examples = model.model_json_schema().get("examples")
        assert examples, f"{model.__name__} carries no example"
        for example in examples:
            assert model.model_validate(example).model_dump(mode="json") == example, model.__name__


def strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in strings(v)]
    return [node] if isinstance(node, str) else []


def test_the_examples_carry_hashes_where_a_person_would_be_and_nothing_personal():
    messages = committed()["components"]["messages"]
    for name, message in messages.items():
        for example in message["examples"]:
            for field, value in example["payload"].items():
                if field.endswith("_hash") and value is not None:
                    assert HMAC_SHA256_HEX.match(value), (name, field)
                if field.endswith("_hashes"):
                    assert value and all(HMAC_SHA256_HEX.match(v) for v in value), (name, field)
            for text in strings(example):
                # A resident identity number (18 characters) or a mobile number never appears.
                assert not re.search(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])", text), (name, text)
                assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", text), (name, text)


@functools.cache
def manifests() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.rglob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if isinstance(d, dict)]
    return docs


def kafka_topics() -> dict[str, dict[str, Any]]:
    topics: dict[str, dict[str, Any]] = {}
    for doc in manifests():
        if doc.get("kind") == "KafkaTopic":
            name = doc["spec"]["topicName"]
            assert topics.get(name, doc["spec"]) == doc["spec"], f"two KafkaTopics disagree on {name}"
            topics[name] = doc["spec"]
    return topics


def test_the_channels_partitions_are_the_kafka_topics():
    topics = kafka_topics()
    channels = {c["address"]: c["bindings"]["kafka"] for c in committed()["channels"].values()}
    assert channels, "no channels"
    for address, binding in channels.items():
        assert address in topics, f"{address} has no KafkaTopic in deploy/k8s"
        spec = topics[address]
        assert binding["partitions"] == spec["partitions"], address
        assert binding["replicas"] == spec["replicas"], address
        configuration = binding["topicConfiguration"]
        assert str(configuration["retention.ms"]) == spec["config"]["retention.ms"], address
        assert configuration["cleanup.policy"] == spec["config"]["cleanup.policy"].split(","), address
    # The topics without a channel: the relays' own markers only; the bar association's outcomes
    # are a channel Fayuan receives on.
    undocumented = set(topics) - set(channels)
    assert all(t.endswith(RELAY_EPOCH_SUFFIX) for t in undocumented), undocumented
    assert BAR_OUTCOMES in channels


def kafka_listeners() -> list[dict[str, Any]]:
    """The Kafka cluster's listeners: the base's, and those the overlays' JSON patches add."""
    listeners: list[dict[str, Any]] = []
    for doc in manifests():
        if doc.get("kind") == "Kafka":
            listeners += doc["spec"]["kafka"]["listeners"]
        for patch in doc.get("patches", []) if doc.get("kind") == "Kustomization" else []:
            if patch.get("target", {}).get("kind") == "Kafka" and "patch" in patch:
                listeners += [op["value"] for op in yaml.safe_load(patch["patch"])
                              if op.get("path") == "/spec/kafka/listeners/-"]
    return listeners


def test_the_production_server_is_secured_as_every_listener_of_the_manifests():
    listeners = kafka_listeners()
    assert {listener["name"] for listener in listeners} >= {"tls", "external"}
    assert all(listener["tls"] is True for listener in listeners), listeners
    assert {listener["authentication"]["type"] for listener in listeners} == {"scram-sha-512"}

    document = committed()
    production, development = document["servers"]["production"], document["servers"]["development"]
    assert production["protocol"] == "kafka-secure"  # AsyncAPI's name for Kafka over TLS
    schemes = [resolve(document, s["$ref"]) for s in production["security"]]
    assert [s["type"] for s in schemes] == ["scramSha512"]
    assert development["protocol"] == "kafka" and "security" not in development  # PLAINTEXT


def test_the_services_connect_as_the_production_server_says():
    common_config = next(d for d in manifests() if d.get("kind") == "ConfigMap"
                         and d["metadata"]["name"] == "fayuan-common")["data"]
    assert common_config["FAYUAN_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert common_config["FAYUAN_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"


def resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_the_dead_letter_example_is_one_the_kernel_would_set_aside():
    example = committed()["components"]["messages"]["DeadLetter"]["examples"][0]
    headers, value = example["headers"], example["payload"]
    assert set(asyncapi.DEAD_LETTER_HEADERS) <= set(headers)
    model = asyncapi.contract_events()[headers["ce_type"]]
    assert headers["x-dead-letter-topic"] == model.topic
    with pytest.raises(ValidationError) as refused:
        model.model_validate(value)
    # The consumer writes f"{type(exc).__name__}: {exc}"; pydantic adds a link after the message.
    assert f"ValidationError: {refused.value}".startswith(headers["x-dead-letter-error"])
    assert headers["x-dead-letter-error-type"] == "ValidationError"
