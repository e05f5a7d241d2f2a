"""What Prometheus scrapes, what it alerts on and the Grafana dashboard: every service pod,
PostgreSQL instance and Kafka pod is scraped by a PodMonitor on a port it has; every PromQL
expression of the alerts and the dashboard reads only metrics, and labels, the code defines; and
every alert says what it is and has its section in docs/operations.md."""

from __future__ import annotations

import importlib
import json
import re

import pytest
from prometheus_client import REGISTRY

from tests.k8s.conftest import ROOT

SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/consumers.py"))
# Labels Prometheus puts on every series of a PodMonitor's targets, and `service`, which the
# PodMonitor fayuan-services adds from the pod's app.kubernetes.io/name.
TARGET_LABELS = {"namespace", "pod", "container", "endpoint", "job", "instance", "service"}


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()) and all(
        (labels.get(e["key"]) in e["values"]) == (e["operator"] == "In")
        for e in selector.get("matchExpressions", [])
    )


def named(docs: list[dict], kind: str, name: str) -> dict:
    [found] = [d for d in of_kind(docs, kind) if d["metadata"]["name"] == name]
    return found


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_service_pod_is_scraped_on_a_port_it_has_and_prometheus_may_reach(overlay, request):
    docs = request.getfixturevalue(overlay)
    monitors = of_kind(docs, "PodMonitor")
    policies = of_kind(docs, "NetworkPolicy")
    deployments = of_kind(docs, "Deployment")
    assert {d["metadata"]["name"] for d in deployments} == {f"fayuan-{s}" for s in SERVICES}
    for d in deployments:
        pod = d["spec"]["template"]
        ports = {p["name"]: p["containerPort"] for c in pod["spec"]["containers"] for p in c.get("ports", [])}
        [monitor] = [m for m in monitors if matches(m["spec"]["selector"], pod["metadata"]["labels"])]
        assert monitor["metadata"]["namespace"] == d["metadata"]["namespace"]  # its own namespace only
        [endpoint] = monitor["spec"]["podMetricsEndpoints"]
        assert endpoint["path"] == "/metrics" and endpoint["port"] in ports, d["metadata"]["name"]
        assert {"sourceLabels": ["__meta_kubernetes_pod_label_app_kubernetes_io_name"],
                "targetLabel": "service"} in endpoint["relabelings"]
        admitted = {port["port"] for p in policies
                    if matches(p["spec"]["podSelector"], pod["metadata"]["labels"])
                    for rule in p["spec"].get("ingress", []) for port in rule["ports"]
                    if any(peer.get("namespaceSelector", {}).get("matchLabels", {}).get(
                        "kubernetes.io/metadata.name") == "monitoring" for peer in rule["from"])}
        assert ports[endpoint["port"]] in admitted, d["metadata"]["name"]
    assert not any("prometheus.io/scrape" in d["spec"]["template"]["metadata"].get("annotations", {})
                   for d in deployments)  # one way to be scraped, or every series would count twice


def test_postgresql_and_kafka_export_metrics_and_are_scraped(prod):
    [cluster] = of_kind(prod, "Cluster")
    assert "enablePodMonitor" not in cluster["spec"].get("monitoring", {})  # deprecated: ours instead
    pg = named(prod, "PodMonitor", "fayuan-pg")
    instance = {"cnpg.io/cluster": cluster["metadata"]["name"], "cnpg.io/podRole": "instance"}
    assert matches(pg["spec"]["selector"], instance)
    assert not matches(pg["spec"]["selector"], {**instance, "cnpg.io/podRole": "pooler"})
    assert [e["port"] for e in pg["spec"]["podMetricsEndpoints"]] == ["metrics"]  # 9187, CloudNativePG's
    [policy] = [p for p in of_kind(prod, "NetworkPolicy") if matches(p["spec"]["podSelector"], instance)]
    assert any(rule["ports"] == [{"protocol": "TCP", "port": 9187}] and rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
        for rule in policy["spec"]["ingress"])

    [kafka] = of_kind(prod, "Kafka")
    assert kafka["spec"]["kafka"]["metricsConfig"]["type"] == "strimziMetricsReporter"
    assert kafka["spec"]["kafkaExporter"]["groupRegex"]
    brokers = named(prod, "PodMonitor", "fayuan-kafka")
    broker = {"strimzi.io/cluster": kafka["metadata"]["name"], "strimzi.io/kind": "Kafka"}
    assert matches(brokers["spec"]["selector"], broker)
    assert not matches(brokers["spec"]["selector"], {**broker, "strimzi.io/cluster": "other"})
    # 9404, Strimzi's
    assert [e["port"] for e in brokers["spec"]["podMetricsEndpoints"]] == ["tcp-prometheus"]
    operators = named(prod, "PodMonitor", "fayuan-kafka-entity-operator")
    assert operators["spec"]["selector"] == {
        "matchLabels": {"strimzi.io/name": f"{kafka['metadata']['name']}-entity-operator"}}


# --- PromQL against the code's metrics --------------------------------------------------------


def code_metrics() -> dict[str, set[str]]:
    """Every series name the services can export -> its label names, from the registry once
    every service's app is imported (the registry maps each sample name, _total, _bucket and
    the rest, to its metric; the label names are the metric's own)."""
    for service in SERVICES:
        importlib.import_module(f"services.{service}.app")
    found = {}
    for name, collector in REGISTRY._names_to_collectors.items():  # no public view of label names
        if name.startswith("fayuan_"):
            found[name] = set(collector._labelnames) | ({"le"} if name.endswith("_bucket") else set())
    return found


KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
            "offset"}


def read(expr: str) -> tuple[list[tuple[str, set[str]]], set[str]]:
    """([(metric, labels it is matched on)], labels it is grouped or joined on) of one PromQL
    expression, Grafana's $variables included. Enough PromQL for what these files use."""
    expr = re.sub(r"\$__\w+", "5m", expr)
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # $namespace etc. live in strings only
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    grouped = set()
    for clause in re.finditer(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", expr):
        grouped |= {label.strip() for label in clause.group(1).split(",") if label.strip()}
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    selectors = []
    for found in re.finditer(r"([A-Za-z_:][\w:]*)?\s*\{([^}]*)\}", expr):
        labels = set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", found.group(2)))
        selectors.append((found.group(1), labels))
    bare = re.sub(r"([A-Za-z_:][\w:]*)?\s*\{[^}]*\}", " ", expr)
    for name in re.findall(r"(?<![\w.])([A-Za-z_:][\w:]*)\b(?!\s*\()", bare):
        if name not in KEYWORDS:
            selectors.append((name, set()))
    return selectors, grouped


def unknown(expr: str, code: dict[str, set[str]]) -> list[str]:
    selectors, grouped = read(expr)
    problems = []
    known_labels = set(TARGET_LABELS)
    for metric, labels in selectors:
        if metric not in code:
            problems.append(f"no metric {metric}")
            continue
        known_labels |= code[metric]
        problems += [f"{metric} has no label {label}" for label in labels - code[metric] - TARGET_LABELS]
    problems += [f"no label {label} to group on" for label in grouped - known_labels]
    if not selectors:
        problems.append("reads no metric")
    return problems


def expressions(docs: list[dict]) -> dict[str, str]:
    """Where -> PromQL: each alert's expr and each dashboard query."""
    found = {}
    for rule_set in of_kind(docs, "PrometheusRule"):
        for group in rule_set["spec"]["groups"]:
            for rule in group["rules"]:
                found[f"alert {rule['alert']}"] = rule["expr"]
    for board in dashboards(docs):
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                found[f"{board['uid']}: {panel['title']} {target['refId']}"] = target["expr"]
        for variable in board["templating"]["list"]:
            if variable["type"] == "query":
                query = re.fullmatch(r"label_values\((.+), (\w+)\)", variable["definition"])
                found[f"{board['uid']}: ${variable['name']}"] = (
                    f"sum by ({query.group(2)}) ({query.group(1)})")
    return found


def dashboards(docs: list[dict]) -> list[dict]:
    return [json.loads(text) for c in of_kind(docs, "ConfigMap")
            if c["metadata"].get("labels", {}).get("grafana_dashboard") == "1" for text in c["data"].values()]


def test_alerts_and_dashboard_read_only_metrics_and_labels_the_code_defines(prod):
    code = code_metrics()
    found = expressions(prod)
    assert len([k for k in found if k.startswith("alert ")]) >= 9 and len(found) > 20
    problems = {where: p for where, expr in found.items() if (p := unknown(expr, code))}
    assert problems == {}


def code_label_values() -> dict[str, set[str]]:
    """The values the code gives the labels a query may pin: consumers, event types, topics,
    services."""
    from shared.events import registered_events

    consumers = {f"{s}.{name}" for s in SERVICES
                 for name in importlib.import_module(f"services.{s}.consumers").CONSUMERS}
    events = [m for m in registered_events().values() if m.__module__.startswith("shared.contracts.")]
    return {"consumer": consumers, "type": {m.type for m in events}, "topic": {m.topic for m in events},
            "service": set(SERVICES)}


def test_the_consumers_event_types_and_topics_the_queries_name_exist(prod):
    values = code_label_values()
    pinned = [(where, label, value) for where, expr in expressions(prod).items()
              for label, value in re.findall(r'\b(consumer|type|topic|service)="([^"$]+)"', expr)]
    assert {label for _, label, _ in pinned} == {"consumer", "type", "topic", "service"}
    assert [p for p in pinned if p[2] not in values[p[1]]] == []


def test_the_metric_check_can_fail():
    code = code_metrics()
    assert unknown('sum by (service) (rate(fayuan_http_requests_total{route="/x"}[5m]))', code) == []
    assert unknown("max by (service) (fayuan_relay_backlog_age_seconds) > 300", code) == []
    assert unknown("sum(rate(fayuan_http_request_total[5m]))", code) == [
        "no metric fayuan_http_request_total"]
    assert unknown('fayuan_events_published_total{type="x"}', code) == [
        "fayuan_events_published_total has no label type"]
    assert unknown("sum by (consumer) (fayuan_relay_backlog)", code) == ["no label consumer to group on"]
    assert unknown("kafka_consumergroup_lag > 0", code) == ["no metric kafka_consumergroup_lag"]


def test_every_alert_says_how_bad_and_what_and_is_explained_in_the_operations_guide(prod):
    guide = (ROOT / "docs" / "operations.md").read_text()
    [rules] = of_kind(prod, "PrometheusRule")
    for group in rules["spec"]["groups"]:
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in ("critical", "warning", "info"), rule["alert"]
            annotations = rule["annotations"]
            assert annotations["summary"] and "docs/operations.md" in annotations["description"]
            assert f"`{rule['alert']}`" in guide, f"docs/operations.md does not explain {rule['alert']}"


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_the_dashboard_ships_as_a_configmap_grafanas_sidecar_loads(overlay, request):
    docs = request.getfixturevalue(overlay)
    [board] = dashboards(docs)
    assert board["uid"] == "fayuan-case-flow"
    titles = {p["title"] for p in board["panels"]}
    assert {"Case flow (per minute)", "Consumer lag (messages)", "Dead letters (in the interval)",
            "5xx ratio", "Latency p95", "Relay backlog age"} <= titles
    legends = {t["legendFormat"] for p in board["panels"] if p["title"] == "Case flow (per minute)"
               for t in p["targets"]}
    assert {"registrations", "assignments", "evaluations", "investigations opened",
            "bar-association notices"} <= legends
