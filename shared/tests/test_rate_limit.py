"""The public endpoints (allow(Role.public)) are limited per client address; the others are not."""

import time

import httpx
import pytest
from pydantic import ValidationError

from shared.auth import Role
from shared.settings import ServiceSettings
from shared.testing.auth import app_with_auth, auth_settings, bearer, rsa_key, token
from shared.tests.auth_app import router

RSA = rsa_key()


def settings(limit: str = "3/minute") -> ServiceSettings:
    # Behind the test's "ingress" (the ASGI peer, 127.0.0.1): X-Forwarded-For names the client.
    return ServiceSettings(**auth_settings(public_keys=[RSA], public_rate_limit=limit,
                                           trusted_proxies="127.0.0.1/32"))


def client(values: ServiceSettings) -> httpx.AsyncClient:
    app = app_with_auth(values, router)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def at(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": f"{address}, 127.0.0.1"}


async def test_the_request_over_the_limit_is_a_429_problem_with_retry_after():
    async with client(settings("3/minute")) as http:
        allowed = [await http.get("/api/v1/tallies", headers=at("203.0.113.7")) for _ in range(3)]
        refused = await http.get("/api/v1/tallies", headers=at("203.0.113.7"))
    assert [r.status_code for r in allowed] == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["status"], problem["title"], problem["instance"]) == (429, "Too Many Requests",
                                                                          "/api/v1/tallies")
    assert "3 per 1 minute" in problem["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_the_limit_counts_per_client_address_across_the_public_endpoints():
    async with client(settings("2/minute")) as http:
        first = [await http.get("/api/v1/tallies", headers=at("203.0.113.7")),
                 await http.post("/api/v1/tallies/echo", content=b"x", headers=at("203.0.113.7"))]
        over = await http.post("/api/v1/tallies/-/check", json={"by": "a"}, headers=at("203.0.113.7"))
        other = await http.get("/api/v1/tallies", headers=at("198.51.100.23"))
    assert [r.status_code for r in first] == [200, 200]
    assert over.status_code == 429
    assert other.status_code == 200  # another client is not limited


async def test_a_token_does_not_lift_the_limit_of_a_public_endpoint():
    values = settings("1/minute")
    auditor = bearer(token(values, RSA, Role.auditor))
    async with client(values) as http:
        first = await http.get("/api/v1/tallies", headers={**at("203.0.113.9"), **auditor})
        over = await http.get("/api/v1/tallies", headers={**at("203.0.113.9"), **auditor})
    assert (first.status_code, over.status_code) == (200, 429)


async def test_endpoints_that_need_a_token_are_not_limited():
    values = settings("1/minute")
    lead = bearer(token(values, RSA, Role.quality_lead, agency_id="agency-1"))
    async with client(values) as http:
        answers = [await http.get("/api/v1/tallies/h1", headers={**at("203.0.113.7"), **lead})
                   for _ in range(5)]
        anonymous = [await http.get("/api/v1/tallies/h1", headers=at("203.0.113.7")) for _ in range(5)]
        operational = [await http.get(path, headers=at("203.0.113.7"))
                       for path in ("/healthz", "/healthz", "/metrics", "/metrics")]
    assert [r.status_code for r in answers] == [200] * 5
    assert [r.status_code for r in anonymous] == [401] * 5  # refused for the token, not counted
    assert [r.status_code for r in operational] == [200] * 4


async def test_without_trusted_proxies_the_peer_is_the_client():
    values = ServiceSettings(**auth_settings(public_keys=[RSA], public_rate_limit="1/minute"))
    async with client(values) as http:
        assert (await http.get("/api/v1/tallies", headers=at("203.0.113.7"))).status_code == 200
        # Another X-Forwarded-For from the same untrusted peer is the same client.
        assert (await http.get("/api/v1/tallies", headers=at("198.51.100.23"))).status_code == 429


async def test_the_window_moves(monkeypatch):
    values = settings("2/second")
    async with client(values) as http:
        assert [(await http.get("/api/v1/tallies", headers=at("203.0.113.7"))).status_code
                for _ in range(3)] == [200, 200, 429]
        later = time.time() + 1.5
        monkeypatch.setattr(time, "time", lambda: later)
        assert (await http.get("/api/v1/tallies", headers=at("203.0.113.7"))).status_code == 200


@pytest.mark.parametrize("value", ["60", "sixty/minute", "60/fortnight"])
def test_a_limit_that_does_not_parse_is_refused_at_start_up(value):
    with pytest.raises(ValidationError, match="public_rate_limit"):
        ServiceSettings(public_rate_limit=value)
