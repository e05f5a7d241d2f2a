"""Every endpoint of every service declares who may call it, and the declaration holds: without a
token a 401 problem (unless the endpoint is public), with a token holding every role but the
admitted ones a 403 problem, with a token holding one admitted role neither (a 404 for a made-up
id or a 422 for an empty body proves the role was let through to the endpoint).

The routes are read from the apps themselves (shared.auth.route_roles), so a new endpoint is
checked the day it is added; each case is named after its endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid

import asyncpg
import httpx
import pytest

from shared.auth import AGENCY_ROLES, Role, route_roles
from shared.migrations import upgrade
from shared.testing.auth import as_role
from shared.testing.fixtures import dsn, serve_in_process, settings_under_test
from tests.security.services import (
    OPERATIONAL,
    SERVICES,
    module,
    offline_app,
    personal_data_keys,
    settings_class,
)

# The scoping claims a scoped caller carries (a handler is somebody's handler, ...).
CLAIMS = {"sub": "roles-test", "agency_id": "agency-1", "handler_id": "handler-1",
          "institution_id": "institution-1", "reviewer_id": "reviewer-1"}
WITH_BODY = {"POST", "PUT", "PATCH"}


def _routes() -> list:
    params = []
    for service in SERVICES:
        for method, path, roles in route_roles(offline_app(service)):
            if path not in OPERATIONAL:
                params.append(pytest.param(service, method, path, roles, id=f"{service} {method} {path}"))
    return params


ROUTES = _routes()


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x-1", path)


@pytest.fixture(scope="module")
async def clients(database_server_url, kafka_bootstrap):
    """A client of each service, started once on a migrated database of its own, with relay and
    consumers off (only the HTTP layer is under test). Callers set their own headers."""
    admin = await asyncpg.connect(dsn(database_server_url, "postgres"))
    created, running = [], {}
    async with contextlib.AsyncExitStack() as stack:
        try:
            for service in SERVICES:
                name = f"roles_{service}_{uuid.uuid4().hex[:8]}"
                await admin.execute(f'CREATE DATABASE "{name}"')
                created.append(name)
                settings = settings_under_test(settings_class(service), database_server_url, kafka_bootstrap,
                                               f"r{uuid.uuid4().hex[:8]}.", database_name=name,
                                               relay_enabled=False, consumers_enabled=False,
                                               **personal_data_keys())
                await asyncio.to_thread(upgrade, settings, module(service).MIGRATIONS)
                running[service] = (await stack.enter_async_context(
                    serve_in_process(module(service).create_app(settings), headers={})), settings)
            yield running
        finally:
            await stack.aclose()
            for name in created:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


async def _call(client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    return await client.request(method, _url(path), headers=headers, json={} if method in WITH_BODY else None)


def _assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    assert response.json()["status"] == status


@pytest.mark.parametrize(("service", "method", "path", "roles"), ROUTES)
def test_the_endpoint_declares_its_roles(service, method, path, roles):
    assert roles, f"{service}: {method} {path} declares no roles (allow(...), docs/security.md)"


@pytest.mark.parametrize(("service", "method", "path", "roles"), ROUTES)
async def test_without_a_token_a_protected_endpoint_answers_401(clients, service, method, path, roles):
    if not roles or Role.public in roles:
        pytest.skip("public, or no roles declared (test_the_endpoint_declares_its_roles)")
    client, _ = clients[service]
    response = await _call(client, method, path, {})
    _assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("service", "method", "path", "roles"), ROUTES)
async def test_every_role_but_the_admitted_ones_gets_403(clients, service, method, path, roles):
    if not roles or Role.public in roles:
        pytest.skip("public, or no roles declared (test_the_endpoint_declares_its_roles)")
    client, settings = clients[service]
    others = [r for r in Role if r not in roles and r is not Role.public]
    response = await _call(client, method, path, as_role(settings, *others, **CLAIMS))
    _assert_problem(response, 403)


@pytest.mark.parametrize(("service", "method", "path", "roles"), ROUTES)
async def test_each_admitted_role_alone_is_let_through(clients, service, method, path, roles):
    if not roles:
        pytest.skip("no roles declared (test_the_endpoint_declares_its_roles)")
    client, settings = clients[service]
    for role in roles:
        headers = {} if role is Role.public else as_role(settings, role, **CLAIMS)
        response = await _call(client, method, path, headers)
        assert response.status_code not in (401, 403), f"as {role}: {response.status_code} {response.text}"
        assert response.status_code < 500, f"as {role}: {response.status_code} {response.text}"


@pytest.mark.parametrize(("service", "method", "path", "roles"), ROUTES)
async def test_an_agency_role_whose_token_names_no_agency_gets_403(clients, service, method, path, roles):
    agency_roles = [r for r in roles if r in AGENCY_ROLES]
    if not agency_roles:
        pytest.skip("admits no agency role")
    client, settings = clients[service]
    unscoped = {k: v for k, v in CLAIMS.items() if k != "agency_id"}
    for role in agency_roles:
        response = await _call(client, method, path, as_role(settings, role, **unscoped))
        _assert_problem(response, 403)
        assert "agency_id" in response.json()["detail"], f"as {role}: {response.text}"
