"""Bad input to every endpoint of every service gets a 4xx RFC 9457 problem naming the field,
never a 500. The endpoints and their fields are read from each service's own OpenAPI document,
so a new endpoint is covered the day it is added.

The caller holds every role (and every scoping claim): the roles are checked before the body is
validated, so a narrower token would prove the 403 of tests/security instead of the validation."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from shared.auth import Role
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from tests.security.services import personal_data_keys

SERVICES = {
    "intake": "IntakeSettings",
    "assignment": "AssignmentSettings",
    "evaluation": "EvaluationSettings",
    "sanctions": "SanctionsSettings",
    "publication": "PublicationSettings",
}
UNKNOWN = "zz_unknown_field"


def every_role(settings) -> dict[str, str]:
    return as_role(settings, *Role, sub="contract-1", agency_id="agency-1", handler_id="handler-1",
                   institution_id="institution-1", reviewer_id="reviewer-1")


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def _wrong_value(schema: dict) -> Any:
    """A JSON value no schema of ours accepts for a scalar, list or object field."""
    kinds = {schema.get("type")} | {s.get("type") for s in schema.get("anyOf", [])}
    return 12.5 if "object" in kinds or "array" in kinds or "string" in kinds else {"x": [1]}


def _fill(path: str) -> str:
    return path.replace("{", "").replace("}", "")  # /cases/{case_id} -> /cases/case_id


def assert_problem(response, status_range=(400, 499)) -> dict:
    assert status_range[0] <= response.status_code <= status_range[1], (
        f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text}")
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = response.json()
    assert body["status"] == response.status_code and body["title"]
    return body


def _fields(body: dict) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


@pytest.mark.parametrize("service", SERVICES)
async def test_every_endpoint_answers_bad_input_with_a_problem_naming_the_field(service, migrated_settings):
    module = importlib.import_module(f"services.{service}.app")
    settings = await migrated_settings(getattr(module, SERVICES[service]), module.MIGRATIONS,
                                       relay_enabled=False, consumers_enabled=False, **personal_data_keys())
    app = module.create_app(settings)
    spec = app.openapi()
    checked = 0
    async with serve_in_process(app, headers=every_role(settings)) as client:
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                url = _fill(path)
                # Made-up ids and an empty body: a 2xx, 404 or 422, never a 500.
                has_body = "requestBody" in operation
                response = await client.request(method, url, json={} if has_body else None)
                assert response.status_code < 500, (
                    f"{method.upper()} {url} -> {response.status_code}: {response.text}")
                for parameter in operation.get("parameters", []):
                    schema = _resolve(spec, parameter["schema"])
                    if parameter["in"] == "path" and schema.get("maxLength"):
                        body = assert_problem(await client.request(method, path.replace(
                            "{" + parameter["name"] + "}", "x" * (schema["maxLength"] + 1))))
                        assert f"path.{parameter['name']}" in _fields(body)
                    if parameter["in"] == "query" and (schema.get("minimum") is not None or "enum" in schema
                                                       or schema.get("pattern") or schema.get("maxLength")):
                        bad = (schema["minimum"] - 1 if schema.get("minimum") is not None
                               else "x" * (schema.get("maxLength", 0) + 1) if schema.get("maxLength")
                               else "not-a-valid-value")
                        body = assert_problem(
                            await client.request(method, url, params={parameter["name"]: bad}))
                        assert f"query.{parameter['name']}" in _fields(body), body
                    checked += 1
                content = operation.get("requestBody", {}).get("content", {}).get("application/json")
                if content is None:
                    continue
                schema = _resolve(spec, content["schema"])
                # not JSON at all
                assert_problem(await client.request(method, url, content=b"{not json",
                                                    headers={"content-type": "application/json"}))
                # nothing of what is required, and a field that does not exist
                body = assert_problem(await client.request(method, url, json={UNKNOWN: 1}))
                assert set(schema.get("required", [])) | {UNKNOWN} <= _fields(body), body
                # each field with a value of the wrong kind
                for name, field_schema in schema.get("properties", {}).items():
                    field_schema = _resolve(spec, field_schema)
                    body = assert_problem(await client.request(method, url,
                                                               json={name: _wrong_value(field_schema)}))
                    assert any(f == name or f.startswith(name + ".") for f in _fields(body)), (name, body)
                    checked += 1
    assert checked > 0
