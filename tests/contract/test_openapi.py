"""The five services' OpenAPI documents as an integrator reads them: committed under docs/openapi/
exactly as the code generates them, every request body with an example that fits its schema,
every tag described, every error a problem, and Swagger UI served by each service itself."""

from __future__ import annotations

import functools
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from shared.http import PROBLEM
from tests.contract.openapi import REGENERATE, path
from tests.security.services import SERVICES, offline_app


@functools.cache
def document(service: str) -> dict[str, Any]:
    return offline_app(service).openapi()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, p, op) for p, ops in spec["paths"].items() for method, op in ops.items()]


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": spec["components"]},
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


@pytest.mark.parametrize("service", SERVICES)
def test_the_committed_document_is_the_generated_one(service):
    from shared.openapi import render

    committed = path(service)
    assert committed.exists(), f"docs/openapi/{service}.json is missing: run `{REGENERATE}`"
    assert committed.read_text(encoding="utf-8") == render(offline_app(service)), (
        f"docs/openapi/{service}.json differs from the code: run `{REGENERATE}` and review the diff")


@pytest.mark.parametrize("service", SERVICES)
def test_every_request_body_has_an_example_that_fits_its_schema(service):
    spec = document(service)
    bodies = [(m, p, op["requestBody"]) for m, p, op in operations(spec) if "requestBody" in op]
    without, unfit = [], []
    for method, where, body in bodies:
        for media in body["content"].values():
            schema = resolve(spec, media["schema"])
            examples = [*schema.get("examples", []), *([media["example"]] if "example" in media else []),
                        *(e["value"] for e in media.get("examples", {}).values())]
            name = f"{method.upper()} {where} ({schema.get('title', '?')})"
            if not examples:
                without.append(name)
            for example in examples:
                errors = [e.message for e in validator(spec, media["schema"]).iter_errors(example)]
                if errors:
                    unfit.append(f"{name}: {errors}")
    assert without == [], f"request bodies without an example: {without}"
    assert unfit == [], f"examples that do not fit their schema: {unfit}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_tag_an_operation_uses_is_described(service):
    spec = document(service)
    described = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    used = {tag for _, _, op in operations(spec) for tag in op.get("tags", [])}
    assert sorted(used - {n for n, d in described.items() if d}) == [], (
        "tags without a description: give them in the ServiceSpec's `tags` (app.py)")
    assert sorted(set(described) - used) == [], "tags described but used by no operation"


@pytest.mark.parametrize("service", SERVICES)
def test_every_error_answer_is_a_problem(service):
    spec = document(service)
    responses = spec["components"]["responses"]
    assert "HTTPValidationError" not in str(spec)
    for method, where, op in operations(spec):
        errors = {s: r for s, r in op["responses"].items() if s >= "400"}
        assert {"422", "500"} <= set(errors), (method, where)
        for status, response in errors.items():
            response = responses[response["$ref"].split("/")[-1]] if "$ref" in response else response
            assert list(response["content"]) == [PROBLEM], (method, where, status)
            assert response["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
        if op.get("x-roles") and "public" not in op["x-roles"]:
            assert {"401", "403"} <= set(errors), (method, where)
        else:
            assert not {"401", "403"} & set(errors), (method, where)


@pytest.mark.parametrize("service", SERVICES)
async def test_swagger_ui_is_served_by_the_service_itself(service):
    transport = httpx.ASGITransport(app=offline_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        page = await http.get("/docs")
        assert page.status_code == 200
        assert "http" not in page.text.lower().replace("http-equiv", "")
        for asset in ("/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css",
                      "/docs/openapi-3.0.json"):
            answer = await http.get(asset)
            assert answer.status_code == 200, asset
            assert "content-security-policy" in answer.headers
    assert "https:" not in page.headers["content-security-policy"]
