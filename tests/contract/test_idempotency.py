"""Idempotency-Key (shared/idempotency.py) on every service: each POST of every OpenAPI document
declares the header, and through HTTP a creating POST of each service answers a retry with its
first answer without recording again. Intake's own test (services/intake/tests/test_idempotency.py)
also covers the refusals, concurrency and the purge."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared.auth import Role
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from tests.security.services import SERVICES, module, offline_app, personal_data_keys, settings_class

# A creating POST of each service that leaves the key to the kernel's layer, who may call it, and
# its path's parameters; the body is the operation's own example in the OpenAPI document.
# Publication has no POST yet: the OpenAPI test below covers any it adds.
CREATING = {
    "assignment": ("/api/v1/institutions", Role.agency_staff, {}),
    "evaluation": ("/api/v1/subsidy-schedules/{agency_id}/versions", Role.finance,
                   {"agency_id": "chaoyang-centre"}),
    "sanctions": ("/api/v1/suspensions", Role.bureau_investigator, {}),
    "intake": ("/api/v1/cases/closing-checklists/{case_kind}/versions", Role.quality_lead,
               {"case_kind": "criminal"}),
}


@pytest.mark.parametrize("service", SERVICES)
def test_every_post_declares_the_idempotency_key_header(service):
    spec = offline_app(service).openapi()
    posts = [(path, operations["post"]) for path, operations in spec["paths"].items() if "post" in operations]
    for path, operation in posts:
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"
                   and p["name"].lower() == "idempotency-key"]
        assert len(headers) == 1, f"POST {path} does not declare Idempotency-Key once"
        assert headers[0].get("description"), path


def _example(spec: dict, operation: dict) -> dict:
    content = operation["requestBody"]["content"]["application/json"]
    if content.get("examples"):
        return next(iter(content["examples"].values()))["value"]
    schema = content["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema["examples"][-1]


@pytest.mark.parametrize("service", CREATING)
async def test_a_creating_post_answers_a_retry_with_its_first_answer(service, migrated_settings):
    settings = await migrated_settings(settings_class(service), module(service).MIGRATIONS,
                                       relay_enabled=False, consumers_enabled=False, **personal_data_keys())
    app = module(service).create_app(settings)
    path, role, params = CREATING[service]
    body = _example(app.openapi(), app.openapi()["paths"][path]["post"])
    url = path.format(**params)
    caller = as_role(settings, role, sub="idem-1", agency_id="chaoyang-centre", district="朝阳区")

    async def events() -> int:
        async with app.state.engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one()

    async with serve_in_process(app, headers=caller) as client:
        keyed = {"Idempotency-Key": f"{service}-7f3a"}
        first = await client.post(url, json=body, headers=keyed)
        assert 200 <= first.status_code < 300, first.text
        recorded = await events()
        assert recorded > 0
        again = await client.post(url, json=body, headers=keyed)
        assert (again.status_code, again.json()) == (first.status_code, first.json())
        assert again.headers["idempotent-replayed"] == "true"
        assert again.headers.get("location") == first.headers.get("location")
        assert await events() == recorded
        other = await client.post(url, json={**body, "zz": 1}, headers=keyed)
        assert other.status_code == 422 and other.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in other.json()["errors"]] == ["header.Idempotency-Key"]
        assert await events() == recorded
