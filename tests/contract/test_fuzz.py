"""Schemathesis against every service's OpenAPI document, as an outside caller would try it:
with a token of each role an operation admits (agency roles with their agency), and without a
token. Bounded and seeded (hypothesis derandomized): the same requests on every run.

Asserted for every request: no 5xx; every error (4xx) is an RFC 9457 problem
(application/problem+json); without a token, every non-public operation answers 401.

The apps run in-process (httpx's ASGI transport) on their own migrated embedded PostgreSQL
database, relay and consumers off: only the HTTP side is under test. Schemathesis only generates
the requests (its strategies); this test sends them with the services' own client and checks the
answers, so the lifespan (the engine) runs as in production."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.openapi import from_dict

from shared.auth import AGENCY_ROLES, Role
from shared.migrations import upgrade
from shared.testing.auth import as_role
from shared.testing.fixtures import dsn, settings_under_test
from tests.security.services import OPERATIONAL, SERVICES, module, personal_data_keys, settings_class

# Examples per operation and admitted role: schema-valid ones reach the handlers, invalid ones the
# validation. Small, so that the whole file stays within a minute or so on two cores; a deeper run:
# FUZZ_POSITIVE=30 FUZZ_NEGATIVE=15 .venv/bin/pytest tests/contract/test_fuzz.py
POSITIVE = int(os.environ.get("FUZZ_POSITIVE", "15"))
NEGATIVE = int(os.environ.get("FUZZ_NEGATIVE", "8"))
UNAUTHENTICATED = 2
CLAIMS = {"handler_id": "handler-1", "institution_id": "institution-1", "reviewer_id": "reviewer-1"}
AGENCY = "chaoyang-centre"


def _generated(operation: Any, mode: GenerationMode, count: int) -> list[Any]:
    """`count` cases of the operation, the same on every run."""
    cases: list[Any] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy(mode))
    def collect(case: Any) -> None:
        cases.append(case)

    collect()
    return cases[:count]


def _token(service_settings: Any, role: Role) -> dict[str, str]:
    claims: dict[str, Any] = {"sub": f"fuzz-{role.value}", **CLAIMS}
    if role in AGENCY_ROLES:
        claims["agency_id"] = AGENCY
    return as_role(service_settings, role, **claims)


def _request(case: Any, auth: dict[str, str]) -> dict[str, Any]:
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    headers = {k: v for k, v in kwargs.pop("headers", {}).items()
               if k.lower() not in {"authorization", "user-agent", "x-schemathesis-testcaseid"}}
    kwargs.pop("cookies", None)
    if "data" in kwargs and isinstance(kwargs["data"], (bytes, str)):
        kwargs["content"] = kwargs.pop("data")
    return {**kwargs, "headers": {**headers, **auth}}


def _check(response: Any, label: str, failures: list[str]) -> None:
    status = response.status_code
    where = f"{label} -> {status}"
    if status >= 500:
        failures.append(f"{where}: {response.text[:300]}")
    kind = response.headers.get("content-type", "")
    if 400 <= status < 500 and not kind.startswith("application/problem+json"):
        failures.append(f"{where}: not a problem ({kind}): {response.text[:200]}")


@pytest.fixture(scope="module")
async def apps(database_server_url, kafka_bootstrap):
    """Each service started once on a migrated database of its own, relay and consumers off."""
    admin = await asyncpg.connect(dsn(database_server_url, "postgres"))
    created, running = [], {}
    async with contextlib.AsyncExitStack() as stack:
        try:
            for service in SERVICES:
                name = f"fuzz_{service}_{uuid.uuid4().hex[:8]}"
                await admin.execute(f'CREATE DATABASE "{name}"')
                created.append(name)
                service_settings = settings_under_test(
                    settings_class(service), database_server_url, kafka_bootstrap,
                    f"f{uuid.uuid4().hex[:8]}.", database_name=name, relay_enabled=False,
                    consumers_enabled=False, **personal_data_keys())
                await asyncio.to_thread(upgrade, service_settings, module(service).MIGRATIONS)
                app = module(service).create_app(service_settings)
                await stack.enter_async_context(app.router.lifespan_context(app))
                # A 500 is an answer to check, not an exception to stop at.
                client = await stack.enter_async_context(httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                    base_url="http://testserver"))
                running[service] = (client, app, service_settings)
            yield running
        finally:
            await stack.aclose()
            for name in created:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


@pytest.mark.parametrize("service", SERVICES)
async def test_schemathesis_finds_no_server_error_and_every_error_is_a_problem(service, apps):
    client, app, service_settings = apps[service]
    spec = app.openapi()
    schema = from_dict(spec)
    failures: list[str] = []
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in OPERATIONAL:
            continue
        roles = [Role(r) for r in spec["paths"][operation.path][operation.method.lower()].get("x-roles", [])]
        public = Role.public in roles
        for role in [r for r in roles if r is not Role.public] or [Role.public]:
            auth = {} if role is Role.public else _token(service_settings, role)
            for mode, count in ((GenerationMode.POSITIVE, POSITIVE), (GenerationMode.NEGATIVE, NEGATIVE)):
                for case in _generated(operation, mode, count):
                    response = await client.request(**_request(case, auth))
                    _check(response, f"{operation.label} as {role} ({mode.value})", failures)
                    sent += 1
        # Without a token: a non-public operation is a 401 problem, whatever else is wrong.
        for case in _generated(operation, GenerationMode.POSITIVE, UNAUTHENTICATED):
            response = await client.request(**_request(case, {}))
            _check(response, f"{operation.label} without a token", failures)
            if not public and response.status_code != 401:
                failures.append(f"{operation.label} without a token -> {response.status_code}, not 401")
            sent += 1
    assert sent > 0
    assert not failures, f"{len(failures)} of {sent} requests failed:\n" + "\n".join(failures[:40])
