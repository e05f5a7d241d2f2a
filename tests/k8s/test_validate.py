"""Every object both overlays render is one the API server would accept: core kinds against
Kubernetes' own schemas (strict: an unknown field fails), custom kinds (Strimzi, CloudNativePG and
its Barman Cloud plugin, the Prometheus Operator, Gateway API) against the CRDs beside the project,
with unknown fields refused as the API server's strict field validation does. The CRDs' CEL rules
(x-kubernetes-validations) are beyond a JSON Schema validator; test_gateway.py checks the ones the
HTTPRoutes depend on."""

from __future__ import annotations

import copy
import functools
import importlib.util

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.k8s.conftest import CRDS, ROOT

KUBERNETES = "1.37.0"
CUSTOM_GROUPS = {"kafka.strimzi.io", "postgresql.cnpg.io", "barmancloud.cnpg.io", "monitoring.coreos.com",
                 "gateway.networking.k8s.io"}
CUSTOM_KINDS = {"dev": {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "Cluster", "Database",
                        "PodMonitor", "PrometheusRule", "Gateway", "HTTPRoute"}}
CUSTOM_KINDS["prod"] = CUSTOM_KINDS["dev"] | {"ObjectStore", "ScheduledBackup"}
OVERLAYS = ["dev", "prod"]


def group(doc: dict) -> str:
    return doc["apiVersion"].split("/")[0] if "/" in doc["apiVersion"] else ""


@functools.cache
def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> the openAPIV3Schema of that version, made strict."""
    schemas = {}
    for path in sorted(CRDS.glob("*.yaml")):
        for crd in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            for version in crd["spec"]["versions"]:
                api = f"{crd['spec']['group']}/{version['name']}"
                schemas[(api, crd["spec"]["names"]["kind"])] = strict(version["schema"]["openAPIV3Schema"])
    return schemas


def strict(schema: dict) -> dict:
    """Refuse properties the schema does not name, except where the CRD keeps unknown fields."""
    schema = copy.deepcopy(schema)

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if ("properties" in node and "additionalProperties" not in node
                    and not node.get("x-kubernetes-preserve-unknown-fields")):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    # metadata is the API server's, not the CRD's: the schema names it without its fields.
    schema["properties"]["metadata"] = {"type": "object"}
    return schema


def errors(docs: list[dict]) -> list[str]:
    found = []
    for doc in docs:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if group(doc) in CUSTOM_GROUPS:
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES, strict=True)
        except kubernetes_validate.ValidationError as exc:
            found.append(f"{name}: {exc.message} at {list(exc.path)}")
        except kubernetes_validate.SchemaNotFoundError:
            found.append(f"{name}: no schema for {doc['apiVersion']} in Kubernetes {KUBERNETES}")
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_core_kinds_validate_strictly(overlay, request):
    docs = request.getfixturevalue(overlay)
    assert errors(docs) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_custom_kinds_validate_against_their_crds(overlay, request):
    if not CRDS.is_dir():
        pytest.skip(f"{CRDS} is absent (it sits beside the project in CI); cannot validate custom kinds")
    schemas = crd_schemas()
    custom = [d for d in request.getfixturevalue(overlay) if group(d) in CUSTOM_GROUPS]
    assert {d["kind"] for d in custom} == CUSTOM_KINDS[overlay]
    found = []
    for doc in custom:
        schema = schemas.get((doc["apiVersion"], doc["kind"]))
        if schema is None:
            found.append(f"{doc['kind']}/{doc['metadata']['name']}: no CRD serves {doc['apiVersion']}")
            continue
        for error in jsonschema.Draft7Validator(schema).iter_errors(doc):
            found.append(f"{doc['kind']}/{doc['metadata']['name']}: {error.message} at {list(error.path)}")
    assert found == []


def test_the_strict_validation_catches_a_misspelt_field(prod):
    """The two validators above can fail: a typo in a Deployment, a KafkaTopic and an HTTPRoute is caught."""
    deployment = copy.deepcopy(next(d for d in prod if d["kind"] == "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    assert errors([deployment])
    if CRDS.is_dir():
        topic = copy.deepcopy(next(d for d in prod if d["kind"] == "KafkaTopic"))
        topic["spec"]["partition"] = 3
        schema = crd_schemas()[(topic["apiVersion"], "KafkaTopic")]
        assert list(jsonschema.Draft7Validator(schema).iter_errors(topic))
        route = copy.deepcopy(next(d for d in prod if d["kind"] == "HTTPRoute"))
        route["spec"]["rules"][0]["matches"][0]["path"]["type"] = "Prefix"
        schema = crd_schemas()[(route["apiVersion"], "HTTPRoute")]
        assert list(jsonschema.Draft7Validator(schema).iter_errors(route))


def test_generated_manifests_match_the_code():
    """Topics, users and workloads are generated from the event catalogue and the consumers;
    a new event or consumer must be regenerated into deploy/k8s."""
    spec = importlib.util.spec_from_file_location("k8s_generate", ROOT / "scripts" / "k8s_generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    stale = [str(p.relative_to(ROOT)) for p, text in generate.files().items()
             if not p.exists() or p.read_text() != text]
    assert stale == [], "run .venv/bin/python scripts/k8s_generate.py"
