import json
import subprocess
import sys
import time

import httpx
import jwt
import pytest

from shared.auth import (
    EVERY_AGENCY,
    AgencyScope,
    Principal,
    Role,
    agency_scope,
    allow,
    roles_table,
    route_roles,
)
from shared.settings import ServiceSettings
from shared.testing.auth import (
    AUDIENCE,
    ISSUER,
    app_with_auth,
    auth_settings,
    bearer,
    ec_key,
    rsa_key,
    token,
    write_jwks,
)
from shared.tests.auth_app import router

RSA = rsa_key()
EC = ec_key()
OTHER = rsa_key("rsa-1")  # same kid as RSA, other key: a forged token naming a real kid


def client(settings: ServiceSettings) -> httpx.AsyncClient:
    app = app_with_auth(settings, router)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
def settings() -> ServiceSettings:
    return ServiceSettings(**auth_settings(public_keys=[RSA, EC]))


async def test_no_token_is_401_problem_with_a_bearer_challenge(settings):
    async with client(settings) as http:
        r = await http.get("/api/v1/tallies/h1")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == 'Bearer realm="fayuan"'
    assert r.json()["status"] == 401 and r.json()["instance"] == "/api/v1/tallies/h1"


@pytest.mark.parametrize("key", [RSA, EC], ids=["RS256", "ES256"])
async def test_the_right_role_is_200_and_the_endpoint_sees_the_principal(settings, key):
    async with client(settings) as http:
        r = await http.get("/api/v1/tallies/h1", headers=bearer(token(settings, key, Role.case_handler,
                                                                       sub="u-7", handler_id="h1")))
    assert r.status_code == 200, r.text
    assert r.json() == {"sub": "u-7", "role": "case_handler", "handler_id": "h1"}


async def test_the_endpoint_scopes_by_the_principals_claims(settings):
    async with client(settings) as http:
        own = await http.get("/api/v1/tallies/h1", headers=bearer(token(settings, RSA, Role.case_handler,
                                                                         handler_id="h1")))
        other = await http.get("/api/v1/tallies/h2", headers=bearer(token(settings, RSA, Role.case_handler,
                                                                           handler_id="h1")))
        lead = await http.get("/api/v1/tallies/h2",
                              headers=bearer(token(settings, RSA, Role.quality_lead, agency_id="agency-1")))
    assert (own.status_code, other.status_code, lead.status_code) == (200, 403, 200)
    assert lead.json()["role"] == "quality_lead"


async def test_the_wrong_role_is_403_problem(settings):
    async with client(settings) as http:
        r = await http.get("/api/v1/tallies/h1", headers=bearer(token(settings, RSA, Role.auditor)))
    assert r.status_code == 403
    assert r.headers["content-type"] == "application/problem+json"
    assert "case_handler" in r.json()["detail"]
    assert 'error="insufficient_scope"' in r.headers["www-authenticate"]


def _tamper(value: str) -> str:
    header, payload, signature = value.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["roles"] = ["quality_lead"]
    forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return f"{header}.{forged}.{signature}"


def _bad_tokens(settings: ServiceSettings) -> dict[str, str]:
    now = time.time()
    other_issuer = settings.model_copy(update={"auth_issuer": "https://evil.example/"})
    other_audience = settings.model_copy(update={"auth_audience": "someone-else"})
    dev = settings.model_copy(update={"auth_dev_secret": "s" * 32})
    unsigned = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "roles": ["case_handler"],
                           "exp": int(now) + 600}, key=None, algorithm="none")
    return {
        "tampered": _tamper(token(settings, RSA, Role.case_handler)),
        "expired": token(settings, RSA, Role.case_handler, now=now - 3600, minutes=10),
        "not yet valid": token(settings, RSA, Role.case_handler, now=now + 600),
        "wrong issuer": token(other_issuer, RSA, Role.case_handler),
        "wrong audience": token(other_audience, RSA, Role.case_handler),
        "other key, same kid": token(settings, OTHER, Role.case_handler),
        "other key, no kid": token(settings, OTHER, Role.case_handler, use_kid=False),
        "alg none": unsigned,
        "HS256 outside dev": token(dev, None, Role.case_handler),
        "no exp": jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "roles": ["case_handler"]},
                             RSA.private_pem, algorithm="RS256"),
        "garbage": "not-a-jwt",
    }


async def test_every_kind_of_bad_token_is_401_invalid_token(settings):
    async with client(settings) as http:
        for kind, value in _bad_tokens(settings).items():
            r = await http.get("/api/v1/tallies/h1", headers=bearer(value))
            assert r.status_code == 401, (kind, r.text)
            assert r.headers["www-authenticate"].startswith(
                'Bearer realm="fayuan", error="invalid_token"'), kind
            assert r.headers["content-type"] == "application/problem+json", kind


async def test_a_token_accepted_once_is_refused_when_it_expires(settings, monkeypatch):
    """Verified tokens are remembered (one signature check per token), never past their `exp`."""
    issued = time.time()
    value = token(settings, RSA, Role.case_handler, handler_id="h1", now=issued, minutes=1)
    async with client(settings) as http:
        assert (await http.get("/api/v1/tallies/h1", headers=bearer(value))).status_code == 200
        assert (await http.get("/api/v1/tallies/h1", headers=bearer(value))).status_code == 200
        monkeypatch.setattr(time, "time", lambda: issued + 60 + settings.auth_leeway_seconds + 1)
        r = await http.get("/api/v1/tallies/h1", headers=bearer(value))
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]


async def test_clock_skew_within_the_leeway_is_accepted(settings):
    async with client(settings) as http:
        r = await http.get("/api/v1/tallies/h1", headers=bearer(token(
            settings, RSA, Role.case_handler, handler_id="h1", now=time.time() + 20)))
    assert r.status_code == 200


async def test_hs256_with_the_dev_secret_is_accepted_only_in_dev():
    values = auth_settings(auth_dev_secret="d" * 32)
    dev = ServiceSettings(**{**values, "environment": "dev"})
    prod = ServiceSettings(**{**values, "environment": "prod"})
    value = token(dev, None, Role.case_handler, handler_id="h1")
    async with client(dev) as http:
        assert (await http.get("/api/v1/tallies/h1", headers=bearer(value))).status_code == 200
    async with client(prod) as http:
        assert (await http.get("/api/v1/tallies/h1", headers=bearer(value))).status_code == 401


async def test_keys_from_a_jwks_file_verify_by_kid(tmp_path):
    jwks = write_jwks(tmp_path / "jwks.json", RSA, EC)
    settings = ServiceSettings(**auth_settings(jwks_file=jwks))
    async with client(settings) as http:
        for key in (RSA, EC):
            r = await http.get("/api/v1/tallies/h1",
                               headers=bearer(token(settings, key, Role.quality_lead, agency_id="agency-1")))
            assert r.status_code == 200, r.text
        forged = await http.get("/api/v1/tallies/h1",
                                headers=bearer(token(settings, OTHER, Role.quality_lead,
                                                     agency_id="agency-1")))
        assert forged.status_code == 401


async def test_public_endpoints_need_no_token_and_a_bad_one_does_not_lock_out(settings):
    async with client(settings) as http:
        anonymous = await http.get("/api/v1/tallies")
        stale = await http.get("/api/v1/tallies", headers=bearer("not-a-jwt"))
        known = await http.get("/api/v1/tallies",
                               headers=bearer(token(settings, RSA, Role.auditor, sub="a-1")))
    assert anonymous.json() == {"actor": "anonymous", "role": "public"}
    assert stale.status_code == 200
    assert known.json() == {"actor": "a-1", "role": "public"}


async def test_the_principal_is_recorded_in_the_metadata_of_the_events_a_command_records(
    make_settings, kernel_db,
):
    from shared.testing.fixtures import serve_in_process

    engine, kernel = kernel_db
    settings = make_settings(**auth_settings(public_keys=[RSA]), service_name="kernel",
                             database_name=kernel.database_name, trusted_proxies="127.0.0.1/32")
    async with serve_in_process(app_with_auth(settings, router)) as http:
        r = await http.post("/api/v1/tallies/t-1/marks", json={"by": "clerk"},
                            headers={**bearer(token(settings, RSA, Role.agency_staff, sub="staff-9",
                                                     agency_id="agency-1")),
                                     "X-Forwarded-For": "203.0.113.7, 127.0.0.1"})
        assert r.status_code == 201, r.text
        refused = await http.post("/api/v1/tallies/t-1/marks", json={"by": "x"},
                                  headers=bearer(token(settings, RSA, Role.auditor)))
        assert refused.status_code == 403
    async with engine.connect() as conn:
        from sqlalchemy import text

        rows = (await conn.execute(text("SELECT metadata FROM events WHERE stream_id = 'tally-t-1'"))).all()
    assert len(rows) == 1
    meta = rows[0][0]
    assert (meta["actor"], meta["role"], meta["source_ip"]) == ("staff-9", "agency_staff", "203.0.113.7")
    assert meta["correlation_id"]


async def test_x_forwarded_for_is_ignored_without_trusted_proxies(settings):
    from shared.auth import client_ip

    app = app_with_auth(settings, router)
    scope = {"type": "http", "app": app, "client": ("10.0.0.5", 1),
             "headers": [(b"x-forwarded-for", b"1.2.3.4")]}
    from starlette.requests import Request

    assert client_ip(Request(scope)) == "10.0.0.5"


def test_route_roles_reads_both_declaration_styles_and_renders_the_table(settings):
    app = app_with_auth(settings, router)
    rows = route_roles(app)
    assert ("GET", "/api/v1/tallies/{tally_id}", (Role.case_handler, Role.quality_lead)) in rows
    assert ("POST", "/api/v1/tallies/{tally_id}/marks", (Role.agency_staff,)) in rows
    assert ("GET", "/api/v1/tallies", (Role.public,)) in rows
    assert not any(path in ("/healthz", "/readyz", "/metrics") for _, path, _ in rows)
    table = roles_table(app)
    assert table.splitlines()[0] == "| Method | Path | Roles |"
    assert "| POST | `/api/v1/tallies/{tally_id}/marks` | agency_staff |" in table


def test_route_roles_reads_roles_declared_on_a_whole_router(settings):
    from fastapi import APIRouter

    audit = APIRouter(prefix="/api/v1/audit", dependencies=[allow(Role.auditor)])

    @audit.get("/trail", summary="The audit trail")
    async def trail() -> list:
        return []

    assert ("GET", "/api/v1/audit/trail", (Role.auditor,)) in route_roles(app_with_auth(settings, audit))

    @audit.get("/twice", summary="Declared twice", dependencies=[allow(Role.public)])
    async def twice() -> list:
        return []

    with pytest.raises(ValueError, match="declare them once"):
        route_roles(app_with_auth(settings, audit))


async def test_openapi_shows_the_bearer_scheme_and_each_operations_roles(settings):
    async with client(settings) as http:
        schema = (await http.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "A JWT from the bureau's identity provider (dev: `make token ROLE=...`).",
    }
    read = schema["paths"]["/api/v1/tallies/{tally_id}"]["get"]
    assert read["x-roles"] == ["case_handler", "quality_lead"]
    assert read["security"] == [{"HTTPBearer": []}]
    assert read["description"].endswith("Roles: case_handler, quality_lead.")
    assert schema["paths"]["/api/v1/tallies"]["get"]["security"][0] == {}


def _cli(*args: str, env: dict | None = None) -> str:
    import os

    result = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "shared.cli", "token", *args], capture_output=True, text=True,
        env={**os.environ, **(env or {})}, timeout=60, check=True,
    )
    return result.stdout.strip()


async def test_the_token_cli_mints_tokens_the_services_accept(tmp_path):
    key = tmp_path / "key.pem"
    key.write_bytes(EC.private_pem)
    settings = ServiceSettings(**auth_settings(public_keys=[EC], auth_dev_secret="c" * 32, environment="dev"))
    env = {"FAYUAN_AUTH_ISSUER": ISSUER, "FAYUAN_AUTH_AUDIENCE": AUDIENCE}
    signed = _cli("--role", "case_handler", "--handler-id", "h1", "--private-key", str(key), "--kid", EC.kid,
                  env=env)
    dev = _cli("--role", "case_handler", "--role", "quality_lead", "--sub", "dev-1", "--handler-id", "h1",
               "--agency-id", "a1", env={**env, "FAYUAN_AUTH_DEV_SECRET": "c" * 32})
    assert jwt.get_unverified_header(signed)["alg"] == "ES256"
    assert jwt.get_unverified_header(dev)["alg"] == "HS256"
    async with client(settings) as http:
        for value in (signed, dev):
            r = await http.get("/api/v1/tallies/h1", headers=bearer(value))
            assert r.status_code == 200, r.text


def test_a_self_scoped_role_beside_an_agency_role_does_not_widen_what_the_agency_role_sees():
    staff_and_handler = Principal(sub="s", roles=frozenset({Role.agency_staff, Role.case_handler}),
                                  agency_id="chaoyang", handler_id="h1",
                                  acting=frozenset({Role.agency_staff, Role.case_handler}))
    assert agency_scope(staff_and_handler) == AgencyScope(agency_id="chaoyang")
    handler_only = Principal(sub="h", roles=frozenset({Role.case_handler}), handler_id="h1",
                             acting=frozenset({Role.case_handler}))
    assert agency_scope(handler_only) == EVERY_AGENCY  # scoped by handler_id where it reads
    staff_and_auditor = Principal(sub="a", roles=frozenset({Role.agency_staff, Role.auditor}),
                                  agency_id="chaoyang", acting=frozenset({Role.agency_staff, Role.auditor}))
    assert agency_scope(staff_and_auditor) == EVERY_AGENCY
