"""Hostile input (shared/input_guard.py) refused on every endpoint of every service with a 422
problem naming the field: a NUL or another control character in any path parameter, query
parameter or string of a JSON body; a number past 64 bits; a date or instant no case can have.
Read from each service's OpenAPI document, so a new endpoint is covered the day it is added."""

from __future__ import annotations

import json

import pytest

from shared.input_guard import _text_message, _walk
from shared.testing.fixtures import serve_in_process
from tests.contract.test_bad_input import _resolve, assert_problem, every_role
from tests.security.services import SERVICES, module, personal_data_keys, settings_class

JSON = {"content-type": "application/json"}
HOSTILE = ["\x00", "\x1b[31m", "\x7f", "\x85", "\ud800"]


def _fields(body: dict) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


def _url(path: str, **values: str) -> str:
    for name in [p.split("}")[0] for p in path.split("{")[1:]]:
        path = path.replace("{" + name + "}", values.get(name, "x-1"))
    return path


def test_the_guard_refuses_control_characters_but_not_multi_line_text():
    assert _text_message("第一行\n第二行\t\r", multi_line=True) is None
    assert _text_message("第一行\n第二行", multi_line=False) is not None
    for char in HOSTILE:
        assert _text_message(f"a{char}b", multi_line=True) is not None, repr(char)
    assert _text_message("2026-11-20", multi_line=False) is None
    assert _text_message("2026-11-20T09:00:00+08:00", multi_line=False) is None
    for moment in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1899-12-31", "2200-01-01"):
        assert _text_message(moment, multi_line=False) is not None, moment
    found = list(_walk({"a": [1, {"b": 2**63}], "c": -(2**63), "d": float("nan"), "e\x00": 1}, ()))
    assert [(loc, code) for loc, _, code in found] == [
        (("a", 1, "b"), "int_out_of_range"), (("d",), "number_not_finite"), (("e\x00",), "hostile_text")]


@pytest.mark.parametrize("service", SERVICES)
async def test_every_endpoint_refuses_hostile_input_naming_the_field(service, migrated_settings):
    settings = await migrated_settings(settings_class(service), module(service).MIGRATIONS,
                                       relay_enabled=False, consumers_enabled=False, **personal_data_keys())
    app = module(service).create_app(settings)
    spec = app.openapi()
    checked = 0
    async with serve_in_process(app, headers=every_role(settings)) as client:
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                for parameter in operation.get("parameters", []):
                    name, where = parameter["name"], parameter["in"]
                    schema = _resolve(spec, parameter["schema"])
                    if where == "path":
                        body = assert_problem(await client.request(method, _url(path, **{name: "a%00b"})))
                        assert body["status"] == 422 and f"path.{name}" in _fields(body), body
                        checked += 1
                    elif where == "query":
                        for value in ("a\x00b", "\x1b"):
                            body = assert_problem(await client.request(method, _url(path),
                                                                       params={name: value}))
                            assert f"query.{name}" in _fields(body), body
                        if schema.get("type") == "integer" or any(
                                s.get("type") == "integer" for s in schema.get("anyOf", [])):
                            body = assert_problem(await client.request(method, _url(path),
                                                                       params={name: str(2**63)}))
                            assert f"query.{name}" in _fields(body), body
                        checked += 1
                content = operation.get("requestBody", {}).get("content", {}).get("application/json")
                if content is None:
                    continue
                schema = _resolve(spec, content["schema"])
                for name in schema.get("properties", {}):
                    for value in ("a\x00b", "\x1b[2J", "\ud800"):
                        body = assert_problem(await client.request(method, _url(path), headers=JSON,
                                                                   content=json.dumps({name: value})))
                        assert body["status"] == 422 and name in _fields(body), body
                    deep = assert_problem(await client.request(method, _url(path),
                                                               json={name: [{"x": 2**64}]}))
                    assert f"{name}.0.x" in _fields(deep), deep
                    checked += 1
    assert checked > 0


async def test_audit_reads_refuse_an_instant_out_of_range_and_an_offset_past_64_bits(migrated_settings):
    settings = await migrated_settings(settings_class("intake"), module("intake").MIGRATIONS,
                                       relay_enabled=False, consumers_enabled=False, **personal_data_keys())
    app = module("intake").create_app(settings)
    async with serve_in_process(app, headers=every_role(settings)) as client:
        for params, field in (({"since": "0001-01-01T00:00:00+01:00"}, "query.since"),
                              ({"until": "9999-12-31T23:59:59-01:00"}, "query.until"),
                              ({"offset": str(2**63)}, "query.offset"),
                              ({"offset": str(2**70)}, "query.offset")):
            body = assert_problem(await client.get("/api/v1/audit/personal-data-reads", params=params))
            assert body["status"] == 422 and field in _fields(body), body
        fine = await client.get("/api/v1/audit/personal-data-reads",
                                params={"since": "2026-01-01T00:00:00+08:00"})
        assert fine.status_code == 200, fine.text


async def test_a_json_body_over_the_limit_is_still_a_413_problem_when_read_first(migrated_settings):
    settings = await migrated_settings(settings_class("intake"), module("intake").MIGRATIONS,
                                       max_body_bytes=1024, relay_enabled=False, consumers_enabled=False,
                                       **personal_data_keys())
    body = json.dumps({"cause": "x" * 2048}).encode()

    async def chunks():
        for i in range(0, len(body), 256):
            yield body[i:i + 256]

    app = module("intake").create_app(settings)
    async with serve_in_process(app, headers=every_role(settings)) as client:
        for chunked in (False, True):
            for headers in (JSON, {**JSON, "Idempotency-Key": "big-1"}):
                answer = await client.post("/api/v1/cases/x-1/record", headers=headers,
                                           content=chunks() if chunked else body)
                assert answer.status_code == 413, answer.text
                assert answer.headers["content-type"] == "application/problem+json"
