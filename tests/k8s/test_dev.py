"""The dev overlay: one of everything, and consistent with itself at that size."""

from __future__ import annotations

import base64


def test_dev_runs_one_of_everything_and_replication_fits_one_kafka_node(dev):
    kinds = {}
    for d in dev:
        kinds.setdefault(d["kind"], []).append(d)
    [pool] = kinds["KafkaNodePool"]
    [kafka] = kinds["Kafka"]
    [cluster] = kinds["Cluster"]
    assert pool["spec"]["replicas"] == 1 and cluster["spec"]["instances"] == 1
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == config["min.insync.replicas"] == 1
    assert all(t["spec"]["replicas"] == 1 and t["spec"]["config"]["min.insync.replicas"] == "1"
               for t in kinds["KafkaTopic"])
    assert all(d["spec"]["replicas"] == 1 for d in kinds["Deployment"])
    assert "HorizontalPodAutoscaler" not in kinds


def test_dev_generates_the_database_secrets_the_cluster_names(dev):
    [cluster] = [d for d in dev if d["kind"] == "Cluster"]
    secrets = {s["metadata"]["name"]: s for s in dev if s["kind"] == "Secret"}
    for role in cluster["spec"]["managed"]["roles"]:
        secret = secrets[role["passwordSecret"]["name"]]  # exact name: no kustomize hash suffix
        assert secret["type"] == "kubernetes.io/basic-auth"
        assert secret["metadata"]["labels"]["cnpg.io/reload"] == "true"
        assert base64.b64decode(secret["data"]["username"]).decode() == role["name"]
