"""Policy over the rendered prod overlay: what an ops team relies on when it applies it."""

from __future__ import annotations

import importlib
import re

import pytest

import shared.contracts  # noqa: F401  (registers every event type)
from shared.contracts.sanctions import BAR_NOTICES
from shared.events import registered_events
from shared.settings import ServiceSettings
from shared.topics import dead_letter_topic, relay_epoch_topic
from tests.k8s.conftest import ROOT

SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/consumers.py"))


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def pod_specs(docs: list[dict]) -> list[tuple[str, dict]]:
    return [(f"{d['kind']}/{d['metadata']['name']}", d["spec"]["template"]["spec"])
            for d in docs if d["kind"] in ("Deployment", "Job")]


def test_images_are_pinned_never_latest(prod):
    for name, spec in pod_specs(prod):
        for c in spec["containers"] + spec.get("initContainers", []):
            image = c["image"]
            assert "@sha256:" in image or re.search(r":[\w.-]+$", image.rsplit("/", 1)[-1]), (name, image)
            assert not image.endswith(":latest"), (name, image)
    [cluster] = of_kind(prod, "Cluster")  # PostgreSQL upgrades are deliberate too
    assert re.search(r":\d+\.\d+", cluster["spec"]["imageName"]), cluster["spec"]["imageName"]


def test_every_container_is_limited_and_runs_as_non_root_with_nothing_extra(prod):
    for name, spec in pod_specs(prod):
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec.get("automountServiceAccountToken") is False, name
        for c in spec["containers"]:
            assert {"cpu", "memory"} <= set(c["resources"]["limits"]), (name, c["name"])
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]), (name, c["name"])
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True and sc["readOnlyRootFilesystem"] is True, (name, c["name"])
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"], name
            assert sc["seccompProfile"]["type"] == "RuntimeDefault", name


def test_every_service_container_has_health_and_readiness_probes(prod):
    """Job containers run to completion and have none; every Deployment's container has both."""
    for d in of_kind(prod, "Deployment"):
        for c in d["spec"]["template"]["spec"]["containers"]:
            assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", d["metadata"]["name"]
            assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", d["metadata"]["name"]


def matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()) and all(
        (labels.get(e["key"]) in e["values"]) == (e["operator"] == "In")
        for e in selector.get("matchExpressions", [])
    )


def test_every_deployment_has_a_pdb_an_hpa_and_spreads(prod):
    pdbs = of_kind(prod, "PodDisruptionBudget")
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(prod, "HorizontalPodAutoscaler")}
    deployments = of_kind(prod, "Deployment")
    assert {d["metadata"]["name"] for d in deployments} == {f"fayuan-{s}" for s in SERVICES}
    for d in deployments:
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert any(matches(p["spec"]["selector"], labels) for p in pdbs), d["metadata"]["name"]
        assert hpas[d["metadata"]["name"]]["spec"]["minReplicas"] >= 2
        assert d["spec"]["replicas"] >= 2
        spec = d["spec"]["template"]["spec"]
        assert spec["affinity"]["podAntiAffinity"] and spec["topologySpreadConstraints"]


def test_prod_renders_no_secret_and_every_secret_it_reads_has_an_owner(prod):
    """No literal secret in prod; each Secret a pod reads is one an operator or Strimzi writes."""
    assert of_kind(prod, "Secret") == []
    [cluster] = of_kind(prod, "Cluster")
    owned = {r["passwordSecret"]["name"] for r in cluster["spec"]["managed"]["roles"]}  # created by ops
    owned |= {u["metadata"]["name"] for u in of_kind(prod, "KafkaUser")}  # written by the User Operator
    owned.add("fayuan-kafka-cluster-ca-cert")  # written by the Cluster Operator
    # intake's personal-data and hash keys, created by ops (docs/operations.md)
    owned.add("fayuan-intake-keys")
    owned.add(f"{cluster['metadata']['name']}-ca")  # CloudNativePG's CA, written by the operator
    for name, spec in pod_specs(prod):
        for c in spec["containers"]:
            for env in c.get("env", []):
                if "secretKeyRef" in env.get("valueFrom", {}):
                    assert env["valueFrom"]["secretKeyRef"]["name"] in owned, (name, env["name"])
        for v in spec.get("volumes", []):
            if "secret" in v:
                assert v["secret"]["secretName"] in owned, name


def contract_events() -> list[type]:
    """Events of the contracts package; other tests in this process may register test events."""
    return [m for m in registered_events().values() if m.__module__.startswith("shared.contracts.")]


def code_topics() -> set[str]:
    events = {m.topic for m in contract_events()}
    epochs = {relay_epoch_topic(ServiceSettings(service_name=s, topic_prefix="")) for s in SERVICES}
    return events | {dead_letter_topic(t) for t in events} | epochs


def test_every_topic_the_code_names_is_a_kafka_topic_replicated_three_times(prod):
    [kafka] = of_kind(prod, "Kafka")
    topics = {t["spec"]["topicName"]: t for t in of_kind(prod, "KafkaTopic")}
    assert code_topics() <= set(topics), sorted(code_topics() - set(topics))
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False
    for t in topics.values():
        assert t["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert t["spec"]["replicas"] == 3 and t["spec"]["config"]["min.insync.replicas"] == "2"
    assert topics[relay_epoch_topic(ServiceSettings(service_name="intake", topic_prefix=""))][
        "spec"]["partitions"] == 1


def test_kafka_runs_kraft_on_three_nodes_and_services_do_not_create_topics(prod):
    [pool] = of_kind(prod, "KafkaNodePool")
    [kafka] = of_kind(prod, "Kafka")
    assert pool["spec"]["replicas"] == 3 and set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3 and config["min.insync.replicas"] == 2
    for listener in kafka["spec"]["kafka"]["listeners"]:  # nobody reaches a topic unauthenticated
        assert listener["tls"] is True and listener["authentication"]["type"] == "scram-sha-512", (
            listener["name"])
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    common = next(c for c in of_kind(prod, "ConfigMap") if c["metadata"]["name"] == "fayuan-common")["data"]
    assert (common["FAYUAN_KAFKA_CREATE_TOPICS"] == "false"
            and common["FAYUAN_KAFKA_ENABLE_IDEMPOTENCE"] == "true")


def allowed(user: dict, resource_type: str, name: str, operation: str) -> bool:
    for rule in user["spec"]["authorization"]["acls"]:
        r = rule["resource"]
        hit = (name == r["name"] if r.get("patternType", "literal") == "literal"
               else name.startswith(r["name"]))
        if r["type"] == resource_type and hit and operation in rule["operations"]:
            return True
    return False


def test_each_service_user_may_do_exactly_what_its_code_does(prod):
    users = {u["metadata"]["name"]: u for u in of_kind(prod, "KafkaUser")}
    for service in SERVICES:
        user = users[f"fayuan-{service}"]
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == "fayuan-kafka"
        consumers = importlib.import_module(f"services.{service}.consumers").CONSUMERS
        for consumer, handlers in consumers.items():
            assert allowed(user, "group", f"fayuan.{service}.{consumer}", "Read"), (service, consumer)
            for model in handlers:
                assert allowed(user, "topic", model.topic, "Read"), (service, model.topic)
                assert allowed(user, "topic", dead_letter_topic(model.topic), "Write"), (service, model.topic)
        own = {m.topic for m in contract_events() if m.__module__ == f"shared.contracts.{service}"}
        for topic in own:
            assert allowed(user, "topic", topic, "Write"), (service, topic)
        others = {m.topic for m in contract_events()} - own
        consumed = {m.topic for h in consumers.values() for m in h}
        for topic in others - consumed:
            assert not allowed(user, "topic", topic, "Write") and not allowed(user, "topic", topic, "Read")
        assert not allowed(user, "group", "fayuan.other.x", "Read")


def test_the_bar_association_reads_its_notices_and_writes_its_outcomes_only(prod):
    [user] = [u for u in of_kind(prod, "KafkaUser") if u["metadata"]["name"] == "bar-association"]
    topics = {t["spec"]["topicName"] for t in of_kind(prod, "KafkaTopic")}
    outcomes = "legalaid.bar-association.outcomes"
    assert outcomes in topics
    for topic in topics:
        assert allowed(user, "topic", topic, "Read") == (topic == BAR_NOTICES), topic
        assert allowed(user, "topic", topic, "Write") == (topic == outcomes), topic


def test_each_service_reaches_its_own_database_with_its_own_role(prod):
    databases = {d["spec"]["name"]: d for d in of_kind(prod, "Database")}
    [cluster] = of_kind(prod, "Cluster")
    roles = {r["name"] for r in cluster["spec"]["managed"]["roles"]}
    assert cluster["spec"]["instances"] == 3
    for service in SERVICES:
        config = next(c for c in of_kind(prod, "ConfigMap")
                      if c["metadata"]["name"] == f"fayuan-{service}")["data"]
        settings = ServiceSettings(database_url=config["FAYUAN_DATABASE_URL"],
                                   database_name=config["FAYUAN_DATABASE_NAME"])
        from sqlalchemy.engine import make_url

        url = make_url(settings.sqlalchemy_url)
        assert url.host == f"{cluster['metadata']['name']}-rw" and url.username in roles
        assert databases[url.database]["spec"]["owner"] == url.username == f"fayuan_{service}"
        assert databases[url.database]["spec"]["cluster"]["name"] == cluster["metadata"]["name"]


BARMAN_CLOUD = "barman-cloud.cloudnative-pg.io"


def test_postgresql_archives_wal_and_backs_up_nightly_through_the_barman_cloud_plugin(prod):
    """Backups go through the Barman Cloud plugin's ObjectStore, not the in-tree barmanObjectStore
    that CloudNativePG deprecated."""
    [cluster] = of_kind(prod, "Cluster")
    [store] = of_kind(prod, "ObjectStore")
    assert "backup" not in cluster["spec"]
    [plugin] = [p for p in cluster["spec"]["plugins"] if p["name"] == BARMAN_CLOUD]
    assert plugin["isWALArchiver"] is True and plugin.get("enabled", True) is True
    assert plugin["parameters"]["barmanObjectName"] == store["metadata"]["name"]
    assert store["spec"]["retentionPolicy"] == "30d"
    credentials = store["spec"]["configuration"]["s3Credentials"]
    assert {credentials[k]["name"] for k in ("accessKeyId", "secretAccessKey")} == {"fayuan-pg-backup-s3"}
    [backup] = of_kind(prod, "ScheduledBackup")
    assert backup["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert backup["spec"]["method"] == "plugin"
    assert backup["spec"]["pluginConfiguration"]["name"] == BARMAN_CLOUD


def test_migrations_run_as_a_job_per_service(prod):
    jobs = {j["metadata"]["name"]: j for j in of_kind(prod, "Job")}
    for service in SERVICES:
        [c] = jobs[f"fayuan-{service}-migrate"]["spec"]["template"]["spec"]["containers"]
        assert c["args"] == ["python", "-m", f"services.{service}", "migrate"]


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_service_pods_are_default_denied_and_reach_only_dns_postgres_and_kafka(overlay, request):
    """Reached only by Prometheus and by the proxies of this namespace's own Gateway (Envoy
    Gateway's, which carry their Gateway's name and namespace): not by another namespace's."""
    docs = request.getfixturevalue(overlay)
    policies = of_kind(docs, "NetworkPolicy")
    pods = [d["spec"]["template"]["metadata"]["labels"] for d in docs if d["kind"] in ("Deployment", "Job")]
    deny = [p for p in policies if set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert deny and all(any(matches(p["spec"]["podSelector"], labels) for p in deny) for labels in pods)
    ports = {port["port"] for p in policies for rule in p["spec"].get("egress", []) for port in rule["ports"]}
    assert ports == {53, 5432, 9093}
    sources = [peer for p in policies for rule in p["spec"].get("ingress", []) for peer in rule["from"]
               if any(matches(p["spec"]["podSelector"], labels) for labels in pods)]
    assert {s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for s in sources} == {
        "envoy-gateway-system", "monitoring"}
    [gateway] = of_kind(docs, "Gateway")
    [proxies] = [s for s in sources if s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                 == "envoy-gateway-system"]
    assert proxies["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "envoy",
        "gateway.envoyproxy.io/owning-gateway-name": gateway["metadata"]["name"],
        "gateway.envoyproxy.io/owning-gateway-namespace": gateway["metadata"]["namespace"]}


def test_only_fayuan_reaches_postgresql_and_kafka(prod):
    [pg] = [p for p in of_kind(prod, "NetworkPolicy") if p["spec"]["podSelector"].get("matchLabels") == {
        "cnpg.io/cluster": "fayuan-pg"}]
    client_rules = [r for r in pg["spec"]["ingress"] if {"port": 5432, "protocol": "TCP"} in r["ports"]]
    service_pods = [d["spec"]["template"]["metadata"]["labels"]
                    for d in prod if d["kind"] in ("Deployment", "Job")]
    for labels in service_pods:
        assert any(matches(peer["podSelector"], labels) for r in client_rules for peer in r["from"])
    assert not any(matches(peer.get("podSelector", {"matchLabels": {"x": "y"}}),
                           {"app.kubernetes.io/name": "other"})
                   for r in pg["spec"]["ingress"] for peer in r["from"])
    [kafka] = of_kind(prod, "Kafka")
    for listener in kafka["spec"]["kafka"]["listeners"]:
        if listener["type"] == "internal":
            assert listener["networkPolicyPeers"] == [
                {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "fayuan"}}}]


def test_the_operators_kafka_user_only_describes(prod):
    [user] = [u for u in of_kind(prod, "KafkaUser") if u["metadata"]["name"] == "fayuan-ops"]
    operations = {op for rule in user["spec"]["authorization"]["acls"] for op in rule["operations"]}
    assert operations <= {"Describe", "DescribeConfigs"}


def test_postgresql_has_room_for_every_pod_at_the_autoscalers_ceiling(prod):
    """Each pod keeps a pool and as many again in bursts (shared/db.py); a migration Job adds two."""
    [cluster] = of_kind(prod, "Cluster")
    common = next(c for c in of_kind(prod, "ConfigMap") if c["metadata"]["name"] == "fayuan-common")["data"]
    per_pod = 2 * int(common["FAYUAN_DATABASE_POOL_SIZE"])
    pods = sum(h["spec"]["maxReplicas"] for h in of_kind(prod, "HorizontalPodAutoscaler"))
    needed = pods * per_pod + 2 * len(of_kind(prod, "Job")) + 10  # + superuser and operator slots
    assert needed <= int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])


def test_services_verify_postgresql_and_tokens_against_mounted_authorities(prod):
    """Every service pod (and its migration Job) speaks TLS to PostgreSQL, verifying the server
    against CloudNativePG's CA and the -rw name, and verifies bearer tokens against the identity
    provider's JWKS from a ConfigMap; HS256 dev tokens are not accepted in prod."""
    [common] = [c for c in of_kind(prod, "ConfigMap") if c["metadata"]["name"] == "fayuan-common"]
    data = common["data"]
    assert data["FAYUAN_DATABASE_SSLMODE"] == "verify-full"
    assert data.get("FAYUAN_ENVIRONMENT", "prod") == "prod" and "FAYUAN_AUTH_DEV_SECRET" not in data
    assert data["FAYUAN_TLS_TERMINATED"] == "true"
    [cluster] = of_kind(prod, "Cluster")
    assert pod_specs(prod)
    for name, spec in pod_specs(prod):
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for c in spec["containers"]:
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            ca = volumes[mounts["/etc/fayuan/pg-ca"]]["secret"]
            assert ca["secretName"] == f"{cluster['metadata']['name']}-ca", name
            assert data["FAYUAN_DATABASE_SSLROOTCERT"] == "/etc/fayuan/pg-ca/" + ca["items"][0]["path"]
            jwks = volumes[mounts["/etc/fayuan/auth"]]["configMap"]
            assert data["FAYUAN_AUTH_JWKS_FILE"] == "/etc/fayuan/auth/" + jwks["items"][0]["path"], name
