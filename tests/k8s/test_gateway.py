"""The Gateway and its HTTPRoutes: every API path of the code reaches the service that serves it,
whatever the Gateway API implementation; the auditor's and the docs' paths are rewritten to each
service's own; prod speaks HTTPS only; and the CEL rules of the HTTPRoute CRD that JSON Schema
cannot check."""

from __future__ import annotations

import importlib
import re

import pytest
from fastapi.routing import APIRoute

from shared.audit_api import router as audit_router
from shared.openapi import ASSETS_URL, DOCS_SPEC_URL, DOCS_URL
from shared.settings import ServiceSettings
from tests.k8s.conftest import ROOT

SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/consumers.py"))
HSTS = "max-age=31536000; includeSubDomains"  # what shared/http.py sets behind TLS


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def route_named(docs: list[dict], name: str) -> dict:
    [route] = [r for r in of_kind(docs, "HTTPRoute") if r["metadata"]["name"] == name]
    return route


def path_matches(match: dict, path: str) -> bool:
    kind, value = match["path"]["type"], match["path"]["value"]
    if kind == "Exact":
        return path == value
    if kind == "PathPrefix":  # by whole path segments
        return path == value or path.startswith(value.rstrip("/") + "/")
    return re.fullmatch(value, path) is not None  # anchored anyway: full match or search agree


def gateway_route(routes: list[dict], path: str) -> tuple[dict, dict] | None:
    """The (rule, match) a conformant implementation picks for `path`. Exact beats PathPrefix, and
    a longer prefix a shorter one (Gateway API, HTTPRouteRule); where a RegularExpression match
    competes with a match of another backend, the precedence is the implementation's, so the
    routes must never let that happen (asserted here), except against an Exact match."""
    found = [(rule, m) for r in routes for rule in r["spec"]["rules"] for m in rule["matches"]
             if path_matches(m, path)]
    if not found:
        return None
    exact = [f for f in found if f[1]["path"]["type"] == "Exact"]
    if exact:
        assert len(exact) == 1, path
        return exact[0]
    backends = {rule["backendRefs"][0]["name"] for rule, _ in found}
    regex = [f for f in found if f[1]["path"]["type"] == "RegularExpression"]
    assert not regex or len(backends) == 1, f"{path}: a regular expression competes with {sorted(backends)}"
    return max(found, key=lambda f: len(f[1]["path"]["value"]) if f[1]["path"]["type"] == "PathPrefix" else 0)


def forwarded(rule: dict, match: dict, path: str) -> str:
    """The path the backend receives after the rule's URLRewrite (Gateway API, HTTPPathModifier):
    ReplaceFullPath replaces it all, ReplacePrefixMatch the matched prefix (a non-root one here:
    the routes never replace a prefix with "/", where implementations disagree)."""
    rewrites = [f["urlRewrite"]["path"] for f in rule.get("filters", []) if f["type"] == "URLRewrite"]
    if not rewrites:
        return path
    [rewrite] = rewrites
    if rewrite["type"] == "ReplaceFullPath":
        return rewrite["replaceFullPath"]
    replacement, prefix = rewrite["replacePrefixMatch"], match["path"]["value"].rstrip("/")
    assert match["path"]["type"] == "PathPrefix" and replacement not in ("", "/"), rule["name"]
    return replacement.rstrip("/") + path[len(prefix):]


def served_paths(service: str) -> list[str]:
    spec = importlib.import_module(f"services.{service}.app").SPEC
    return [re.sub(r"\{[^}]+\}", "some-id", route.path)
            for router in spec.routers for route in router.routes if isinstance(route, APIRoute)]


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_the_gateway_routes_every_api_path_to_the_service_that_serves_it(overlay, request):
    routes = [route_named(request.getfixturevalue(overlay), "fayuan")]
    for service in SERVICES:
        for path in served_paths(service):
            picked = gateway_route(routes, path)
            assert picked is not None, (service, path)
            assert picked[0]["backendRefs"] == [{"name": f"fayuan-{service}", "port": 80}], (service, path)
    assert gateway_route(routes, "/api/v1/unknown") is None
    assert gateway_route(routes, "/api/v1/cases/some-id/unknown") is None


def test_the_routing_check_catches_a_regular_expression_that_competes_with_a_prefix(prod):
    """The precedence check above can fail: intake's prefix of old (`/api/v1/cases`) under the
    regular expression that sends a case's assignment to assignment."""
    route = route_named(prod, "fayuan")
    intake = next(rule for rule in route["spec"]["rules"] if rule["name"] == "intake")
    cases = {"path": {"type": "PathPrefix", "value": "/api/v1/cases"}}
    widened = {**intake, "matches": [*intake["matches"], cases]}
    rules = [widened if rule is intake else rule for rule in route["spec"]["rules"]]
    with pytest.raises(AssertionError, match="competes"):
        gateway_route([{"spec": {"rules": rules}}], "/api/v1/cases/some-id/assignment")


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_auditors_reach_each_services_audit_endpoints_under_its_name(overlay, request):
    """Every service serves /api/v1/audit/... (shared/audit_api.py); from outside,
    /api/v1/audit/<service>/... reaches that service's, rewritten to its own path."""
    audit = route_named(request.getfixturevalue(overlay), "fayuan-audit")
    for service in SERVICES:
        for route in audit_router.routes:
            served = re.sub(r"\{[^}]+\}", "case-1", route.path)
            outside = served.replace("/api/v1/audit", f"/api/v1/audit/{service}", 1)
            rule, match = gateway_route([audit], outside)
            assert rule["backendRefs"] == [{"name": f"fayuan-{service}", "port": 80}], outside
            [rewrite] = [f["urlRewrite"]["path"] for f in rule["filters"] if f["type"] == "URLRewrite"]
            assert rewrite["type"] == "ReplacePrefixMatch"
            rewritten = rewrite["replacePrefixMatch"] + outside[len(match["path"]["value"]):]
            assert rewritten == served, (outside, rewritten)


# What shared/openapi.py serves of the docs (the page, its slash, its document, its three files).
DOCS_PATHS = [DOCS_URL, DOCS_URL + "/", DOCS_SPEC_URL, f"{ASSETS_URL}/swagger-ui-bundle.js",
              f"{ASSETS_URL}/swagger-ui.css", f"{ASSETS_URL}/favicon-32x32.png", "/openapi.json"]


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_each_services_docs_are_reached_under_its_name(overlay, request):
    """/api-docs/<service>/docs... and /api-docs/<service>/openapi.json reach that service as its
    own /docs... and /openapi.json (shared/openapi.py), and its ConfigMap tells the page the
    prefix its files are under; nothing else of the service is reached under that prefix."""
    docs = request.getfixturevalue(overlay)
    routes = [route_named(docs, name) for name in ("fayuan", "fayuan-audit", "fayuan-api-docs")]
    configs = {c["metadata"]["name"]: c["data"] for c in of_kind(docs, "ConfigMap")}
    for service in SERVICES:
        prefix = configs[f"fayuan-{service}"]["FAYUAN_PUBLIC_DOCS_PREFIX"]
        assert prefix == f"/api-docs/{service}"
        assert ServiceSettings(public_docs_prefix=prefix).public_docs_prefix == prefix
        for served in DOCS_PATHS:
            picked = gateway_route(routes, prefix + served)
            assert picked is not None, prefix + served
            rule, match = picked
            assert rule["backendRefs"] == [{"name": f"fayuan-{service}", "port": 80}], prefix + served
            assert forwarded(rule, match, prefix + served) == served, prefix + served
        assert forwarded(*gateway_route(routes, f"{prefix}/docs/static/swagger-ui.css"),
                         f"{prefix}/docs/static/swagger-ui.css") == "/docs/static/swagger-ui.css"
        for elsewhere in ("", "/", "/metrics", "/healthz", "/readyz", "/docsx", "/openapi.json/x",
                          "/api/v1/cases", "/api/v1/audit/personal-data-reads"):
            assert gateway_route(routes, prefix + elsewhere) is None, prefix + elsewhere


def test_prod_serves_the_api_over_https_only_with_hsts(prod):
    [gateway] = of_kind(prod, "Gateway")
    listeners = {listener["name"]: listener for listener in gateway["spec"]["listeners"]}
    https = listeners["https"]
    assert https["protocol"] == "HTTPS" and https["port"] == 443 and https["tls"]["mode"] == "Terminate"
    assert https["tls"]["certificateRefs"] == [{"kind": "Secret", "name": "fayuan-tls"}]
    host = https["hostname"]
    attached: dict[str, list[dict]] = {}
    for route in of_kind(prod, "HTTPRoute"):
        assert route["spec"]["hostnames"] == [host], route["metadata"]["name"]
        for parent in route["spec"]["parentRefs"]:
            assert parent["name"] == gateway["metadata"]["name"]
            attached.setdefault(parent["sectionName"], []).append(route)
    assert {r["metadata"]["name"] for r in attached["https"]} == {"fayuan", "fayuan-audit", "fayuan-api-docs"}
    [redirect] = attached["http"]  # plain HTTP only redirects
    [rule] = redirect["spec"]["rules"]
    assert "backendRefs" not in rule and "matches" not in rule
    assert rule["filters"] == [{"type": "RequestRedirect",
                                "requestRedirect": {"scheme": "https", "statusCode": 301}}]
    for route in attached["https"]:
        for rule in route["spec"]["rules"]:
            [headers] = [f["responseHeaderModifier"] for f in rule["filters"]
                         if f["type"] == "ResponseHeaderModifier"]
            assert headers["set"] == [{"name": "Strict-Transport-Security", "value": HSTS}], rule["name"]


def test_the_services_set_the_same_hsts_header_behind_tls():
    from shared.http import _SecurityHeaders

    headers = dict(_SecurityHeaders(None, hsts=True, docs_page=None).common)
    assert headers[b"strict-transport-security"].decode() == HSTS


FILTER_FIELDS = {"RequestHeaderModifier": "requestHeaderModifier",
                 "ResponseHeaderModifier": "responseHeaderModifier",
                 "RequestMirror": "requestMirror", "RequestRedirect": "requestRedirect",
                 "URLRewrite": "urlRewrite", "ExtensionRef": "extensionRef", "CORS": "cors"}


def cel_errors(route: dict) -> list[str]:
    """The HTTPRoute CRD's CEL rules (x-kubernetes-validations) on what these routes use."""
    found = []
    rules = route["spec"]["rules"]
    if len(rules) > 16 or sum(len(r.get("matches", [])) for r in rules) > 128:
        found.append("too many rules or matches")
    for rule in rules:
        name = rule.get("name", "?")
        filters = rule.get("filters", [])
        kinds = [f["type"] for f in filters]
        if len(kinds) != len(set(kinds)):
            found.append(f"{name}: a filter type twice")
        if "RequestRedirect" in kinds and ("URLRewrite" in kinds or rule.get("backendRefs")):
            found.append(f"{name}: a redirect with a rewrite or a backend")
        for f in filters:
            field = FILTER_FIELDS[f["type"]]
            if set(f) != {"type", field}:
                found.append(f"{name}: filter {f['type']} carries {sorted(set(f) - {'type'})}")
            path = f[field].get("path") if field in f else None
            if path and path["type"] == "ReplacePrefixMatch":
                matches = rule.get("matches", [])
                if len(matches) != 1 or matches[0]["path"]["type"] != "PathPrefix":
                    found.append(f"{name}: ReplacePrefixMatch needs exactly one PathPrefix match")
                if "replacePrefixMatch" not in path:
                    found.append(f"{name}: ReplacePrefixMatch without its value")
        for match in rule.get("matches", []):
            kind, value = match["path"]["type"], match["path"]["value"]
            if kind in ("Exact", "PathPrefix") and not (
                    value.startswith("/") and "//" not in value and "/./" not in value and "/../" not in value
                    and re.fullmatch(r"(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+", value)):
                found.append(f"{name}: path {value!r}")
        for backend in rule.get("backendRefs", []):
            if backend.get("kind", "Service") == "Service" and "port" not in backend:
                found.append(f"{name}: a Service backend without a port")
    return found


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_the_routes_keep_the_crds_cel_rules(overlay, request):
    for route in of_kind(request.getfixturevalue(overlay), "HTTPRoute"):
        assert cel_errors(route) == [], route["metadata"]["name"]


def test_the_cel_check_can_fail(prod):
    route = route_named(prod, "fayuan-audit")
    broken = {"spec": {"rules": [{**route["spec"]["rules"][0], "matches": [
        {"path": {"type": "Exact", "value": "/api/v1/audit/intake"}}]}]}}
    assert cel_errors(broken) == ["intake: ReplacePrefixMatch needs exactly one PathPrefix match"]
