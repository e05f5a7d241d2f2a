"""The OpenAPI document every service gets from the kernel (shared/openapi.py) says what the
services really answer, and Swagger UI is served by the service itself: no CDN, a strict policy."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from jsonschema import Draft202012Validator

from shared.aggregate import Conflict, Invalid, NotFound
from shared.auth import Role, allow
from shared.http import PROBLEM
from shared.openapi import ASSETS_URL, DOCS_SPEC_URL, openapi_30
from shared.service import ServiceSpec, build_app
from shared.settings import ServiceSettings
from shared.testing.auth import TEST_DEV_SECRET, app_with_auth, as_role, auth_settings
from shared.tests.auth_app import router as tallies

refusals = APIRouter(prefix="/api/v1/refusals", tags=["refusals"], dependencies=[allow(Role.public)])


@refusals.post("/{thing}/conflict", summary="Refuse as a conflict")
async def conflict(thing: str) -> None:
    raise Conflict(f"{thing} is already closed", rule="R-ASG-6")


@refusals.post("/{thing}/invalid", summary="Refuse as invalid")
async def invalid(thing: str) -> None:
    raise Invalid(f"{thing} breaks a rule", rule="R-EVL-1")


@refusals.get("/{thing}", summary="Read a thing that is not there")
async def missing(thing: str) -> None:
    raise NotFound(f"no {thing}")


def settings(**overrides: Any) -> ServiceSettings:
    return ServiceSettings(**auth_settings(environment="dev", auth_dev_secret=TEST_DEV_SECRET, **overrides))


def build(**overrides: Any) -> FastAPI:
    return app_with_auth(settings(**overrides), tallies, refusals)


def client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def errors_of(document: dict[str, Any], method: str, path: str) -> list[str]:
    return [s for s in document["paths"][path][method]["responses"] if s >= "400"]


def problem_validator(document: dict[str, Any]) -> Draft202012Validator:
    schema = {"$ref": "#/components/schemas/Problem", "components": document["components"]}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_each_operation_lists_the_problems_it_can_answer():
    document = build().openapi()
    tally = "/api/v1/tallies/{tally_id}"
    assert errors_of(document, "get", tally) == ["401", "403", "404", "422", "500"]
    assert errors_of(document, "post", tally + "/marks") == ["401", "403", "404", "409", "413", "422", "500"]
    # Public: no token to miss, but a rate limit per address; no parameter: nothing to be
    # invalid; reads nothing by name.
    assert errors_of(document, "get", "/api/v1/tallies") == ["429", "500"]
    assert errors_of(document, "post", "/api/v1/tallies/-/check") == ["409", "413", "422", "429", "500"]
    assert errors_of(document, "get", "/api/v1/audit/personal-data-reads") == ["401", "403", "422", "500"]


def test_every_error_is_a_problem_and_fastapis_validation_schema_is_gone():
    document = build().openapi()
    shared = document["components"]["responses"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status < "400":
                    continue
                name = response["$ref"].removeprefix("#/components/responses/")
                content = shared[name]["content"]
                assert list(content) == [PROBLEM], (method, path, status)
                assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
                for example in content[PROBLEM]["examples"].values():
                    problem_validator(document).validate(example["value"])
                    assert example["value"]["status"] == int(status)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "ValidationError" not in document["components"]["schemas"]
    assert "HTTPValidationError" not in str(document)


async def test_the_problems_the_services_send_are_the_documented_ones():
    small = settings(max_body_bytes=1024)
    app = app_with_auth(small, tallies, refusals)
    document = app.openapi()
    validate = problem_validator(document).validate
    staff = as_role(small, Role.agency_staff)  # a real token, without the roles the tally needs
    async with client(app) as http:
        answers = {
            "401": ("get", "/api/v1/tallies/{tally_id}", await http.get("/api/v1/tallies/h1")),
            "403": ("get", "/api/v1/tallies/{tally_id}", await http.get("/api/v1/tallies/h1", headers=staff)),
            "404": ("get", "/api/v1/refusals/{thing}", await http.get("/api/v1/refusals/case-1")),
            "409": ("post", "/api/v1/refusals/{thing}/conflict",
                    await http.post("/api/v1/refusals/c/conflict")),
            "413": ("post", "/api/v1/tallies/-/check",
                    await http.post("/api/v1/tallies/-/check", json={"by": "x" * 2048})),
            "422": ("post", "/api/v1/tallies/-/check", await http.post("/api/v1/tallies/-/check", json={})),
            "500": ("get", "/api/v1/tallies/-/boom", await http.get("/api/v1/tallies/-/boom")),
        }
        refused = await http.post("/api/v1/refusals/c/invalid")
    for status, (method, path, response) in answers.items():
        assert response.status_code == int(status), (status, response.text)
        assert response.headers["content-type"] == PROBLEM
        validate(response.json())
        assert status in errors_of(document, method, path), (status, method, path)
    assert answers["422"][2].json()["errors"][0] == {"field": "by", "message": "Field required",
                                                     "code": "missing"}
    assert answers["409"][2].json()["rule"] == "R-ASG-6"
    assert refused.status_code == 422 and refused.json()["rule"] == "R-EVL-1"
    validate(refused.json())
    assert "422" in errors_of(document, "post", "/api/v1/refusals/{thing}/invalid")


def test_tags_are_described_in_the_order_the_service_gives_then_the_kernels():
    spec = ServiceSpec(title="t", description="d", routers=[refusals], migrations=Path("."),
                       tags={"refusals": "What is refused, and why."})
    document = build_app(spec, settings()).openapi()
    assert [t["name"] for t in document["tags"]] == ["refusals", "audit"]
    assert document["tags"][0]["description"] == "What is refused, and why."
    assert all(t["description"] for t in document["tags"])


# --- Swagger UI, from the service itself ----------------------------------------------------

URLS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


async def test_the_docs_page_loads_nothing_from_another_host():
    async with client(build()) as http:
        page = await http.get("/docs")
        assert page.status_code == 200
        urls = [a or b for a, b in URLS.findall(page.text)]
        assert urls, page.text
        assert all(u.startswith("/docs/") for u in urls), urls  # same origin, under /docs
        assert "//" not in page.text.replace("<!DOCTYPE html>", "")
        for url in urls:
            asset = await http.get(url)
            assert asset.status_code == 200, url
            assert asset.headers["content-security-policy"].startswith("default-src 'none'")
            assert asset.headers["x-content-type-options"] == "nosniff"
        loaded = {f"{ASSETS_URL}/swagger-ui-bundle.js", f"{ASSETS_URL}/swagger-ui.css", DOCS_SPEC_URL}
        assert loaded <= set(urls)
    csp = page.headers["content-security-policy"]
    assert "http" not in csp and "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/=]+';", csp), csp
    assert "style-src 'self';" in csp and "connect-src 'self';" in csp


async def test_only_swagger_uis_own_files_are_served_and_they_revalidate():
    async with client(build()) as http:
        bundle = await http.get(f"{ASSETS_URL}/swagger-ui-bundle.js")
        again = await http.get(f"{ASSETS_URL}/swagger-ui-bundle.js",
                               headers={"If-None-Match": bundle.headers["etag"]})
        others = [await http.get(f"{ASSETS_URL}/{name}") for name in ("index.html", "swagger-initializer.js",
                                                                      "../__init__.py", "swagger-ui.js.map")]
        redoc = await http.get("/redoc")
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert bundle.headers["cache-control"] == "no-cache"
    assert again.status_code == 304
    assert [r.status_code for r in others] == [404, 404, 404, 404]
    assert redoc.status_code == 404


async def test_swagger_ui_reads_the_same_document_told_in_openapi_3_0():
    app = build()
    async with client(app) as http:
        served = (await http.get("/openapi.json")).json()
        for_ui = (await http.get(DOCS_SPEC_URL)).json()
    assert served["openapi"].startswith("3.1") and for_ui["openapi"] == "3.0.3"
    assert for_ui["paths"].keys() == served["paths"].keys()
    assert for_ui["components"]["schemas"].keys() == served["components"]["schemas"].keys()
    assert '{"type": "null"}' not in str(for_ui).replace("'", '"')


def test_openapi_30_says_31_schemas_in_30_words():
    document = {
        "openapi": "3.1.0",
        "paths": {"/x": {"post": {"requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Body"},
            "example": {"schema": {"anyOf": [{"type": "null"}]}}}}}}}},
        "components": {"schemas": {"Body": {"type": "object", "examples": [{"n": 1}], "properties": {
            "note": {"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}], "title": "Note"},
            "ref": {"anyOf": [{"$ref": "#/components/schemas/Other"}, {"type": "null"}]},
            "kind": {"const": "a"},
            "n": {"type": ["integer", "null"], "exclusiveMinimum": 0},
            "tags": {"type": "object", "propertyNames": {"maxLength": 3},
                     "additionalProperties": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
        }}}},
    }
    converted = openapi_30(document)
    assert document["openapi"] == "3.1.0"  # the original is left alone
    body = converted["components"]["schemas"]["Body"]
    assert body["example"] == {"n": 1} and "examples" not in body
    props = body["properties"]
    assert props["note"] == {"type": "string", "maxLength": 5, "title": "Note", "nullable": True}
    assert props["ref"] == {"allOf": [{"$ref": "#/components/schemas/Other"}], "nullable": True}
    assert props["kind"] == {"enum": ["a"]}
    assert props["n"] == {"type": "integer", "nullable": True, "minimum": 0, "exclusiveMinimum": True}
    assert props["tags"] == {"type": "object", "additionalProperties": {"type": "integer", "nullable": True}}
    # An example is data: a key named `schema` in it is not a schema.
    media = converted["paths"]["/x"]["post"]["requestBody"]["content"]["application/json"]
    assert media["example"] == {"schema": {"anyOf": [{"type": "null"}]}}


async def test_behind_a_proxy_prefix_the_page_asks_for_everything_under_it():
    transport = httpx.ASGITransport(app=build(), root_path="/intake")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        page = await http.get("/intake/docs")
        document = (await http.get(f"/intake{DOCS_SPEC_URL}")).json()
        bundle = await http.get(f"/intake{ASSETS_URL}/swagger-ui-bundle.js")
    urls = [a or b for a, b in URLS.findall(page.text)]
    assert urls and all(u.startswith("/intake/docs/") for u in urls), urls
    assert document["servers"] == [{"url": "/intake"}]
    assert bundle.status_code == 200
    csp = page.headers["content-security-policy"]
    assert csp.startswith("default-src 'none'; script-src 'self' 'sha256-")


async def test_behind_the_gateways_docs_route_the_page_asks_for_everything_under_the_public_prefix():
    """The Gateway serves /api-docs/intake/docs... as /docs... (deploy/k8s/base/gateway/
    routes-docs.yaml): the page names its files under the configured prefix, the service still
    answers them at /docs/static, and no header of the request changes that."""
    async with client(build(public_docs_prefix="/api-docs/intake/")) as http:
        page = await http.get("/docs", headers={"X-Forwarded-Prefix": "/evil.example"})
        slash = await http.get("/docs/")
        urls = [a or b for a, b in URLS.findall(page.text)]
        assets = {url: (await http.get(url.removeprefix("/api-docs/intake"))) for url in urls}
        document = (await http.get(DOCS_SPEC_URL)).json()
    assert page.status_code == 200
    outside = "/api-docs/intake"
    loaded = {f"{outside}{ASSETS_URL}/swagger-ui-bundle.js", f"{outside}{ASSETS_URL}/swagger-ui.css",
              f"{outside}{DOCS_SPEC_URL}"}
    assert loaded <= set(urls) and all(u.startswith("/api-docs/intake/docs/") for u in urls), urls
    assert "evil" not in page.text
    assert {url: r.status_code for url, r in assets.items()} == dict.fromkeys(urls, 200)
    assert assets[f"{outside}{ASSETS_URL}/swagger-ui.css"].headers["content-type"].startswith("text/css")
    # /api-docs/intake/docs/ (forwarded as /docs/) leads to the page, relative to where it was asked.
    assert slash.status_code == 307 and slash.headers["location"] == "../docs"
    assert str(httpx.URL("https://host/api-docs/intake/docs/").join("../docs")) == "https://host/api-docs/intake/docs"
    # The API is not under the docs prefix: "Try it out" calls its own paths on the same host.
    assert "servers" not in document
    csp = page.headers["content-security-policy"]
    assert csp.startswith("default-src 'none'; script-src 'self' 'sha256-")


async def test_an_asgi_root_path_wins_over_the_public_docs_prefix():
    transport = httpx.ASGITransport(app=build(public_docs_prefix="/api-docs/intake"), root_path="/intake")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        page = await http.get("/intake/docs")
    urls = [a or b for a, b in URLS.findall(page.text)]
    assert urls and all(u.startswith("/intake/docs/") for u in urls), urls


@pytest.mark.parametrize("value", ["api-docs", "/api docs", "/a//b", "/a/../b", '/a"><script>', "/a?b"])
def test_the_public_docs_prefix_is_a_plain_path(value):
    with pytest.raises(ValueError, match="public_docs_prefix"):
        ServiceSettings(public_docs_prefix=value)
    assert ServiceSettings(public_docs_prefix="/api-docs/intake/").public_docs_prefix == "/api-docs/intake"


@pytest.mark.parametrize("path", ["/docs", DOCS_SPEC_URL, "/openapi.json"])
async def test_the_docs_need_no_token(path):
    async with client(build()) as http:
        assert (await http.get(path)).status_code == 200
