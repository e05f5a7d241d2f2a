import base64
import hashlib
import re

import httpx
import pytest

from shared.settings import ServiceSettings
from shared.testing.auth import app_with_auth, auth_settings
from shared.tests.auth_app import router


def client(**overrides: object) -> httpx.AsyncClient:
    app = app_with_auth(ServiceSettings(**auth_settings(**overrides)), router)
    # An unexpected exception must come back as the 500 problem, not be re-raised into the test.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def assert_hardened(r: httpx.Response) -> None:
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-security-policy"].startswith("default-src 'none'; frame-ancestors 'none'")
    assert "strict-transport-security" not in r.headers
    assert "access-control-allow-origin" not in r.headers


async def test_every_kind_of_response_carries_the_security_headers():
    async with client() as http:
        responses = {
            "200": await http.get("/api/v1/tallies"),
            "401": await http.get("/api/v1/tallies/h1"),
            "404": await http.get("/api/v1/nothing-here"),
            "422": await http.post("/api/v1/tallies/-/check", json={}),
            "500": await http.get("/api/v1/tallies/-/boom"),
            "metrics": await http.get("/metrics"),
            "healthz": await http.get("/healthz"),
        }
    for name, r in responses.items():
        assert_hardened(r)
        if name.isdigit():
            assert r.status_code == int(name), name
    assert responses["500"].headers["content-type"] == "application/problem+json"


async def test_hsts_only_when_tls_is_terminated_in_front():
    async with client(tls_terminated=True) as http:
        r = await http.get("/healthz")
    assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_the_docs_page_may_load_the_services_own_swagger_ui_and_its_inline_script_only():
    async with client() as http:
        r = await http.get("/docs")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    inline = re.search(r"<script>(.*?)</script>", r.text, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}';" in csp
    assert "style-src 'self';" in csp
    assert "'unsafe-inline'" not in csp and "https:" not in csp
    assert "frame-ancestors 'none'" in csp
    assert int(r.headers["content-length"]) == len(r.content)


async def test_cors_is_closed_by_default():
    async with client() as http:
        r = await http.options("/api/v1/tallies", headers={
            "Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert r.status_code >= 400
    assert "access-control-allow-origin" not in r.headers


async def test_cors_opens_for_a_configured_origin_only():
    async with client(cors_allowed_origins="https://portal.legalaid.example") as http:
        allowed = await http.options("/api/v1/tallies", headers={
            "Origin": "https://portal.legalaid.example", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})
        other = await http.options("/api/v1/tallies", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
        simple = await http.get("/api/v1/tallies", headers={"Origin": "https://portal.legalaid.example"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://portal.legalaid.example"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == "https://portal.legalaid.example"


@pytest.mark.parametrize("path", ["/api/v1/tallies/echo", "/api/v1/tallies/-/check"], ids=["raw", "model"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_body_over_the_limit_is_413_problem(chunked, path):
    body = b'{"by": "' + b"x" * 2048 + b'"}'

    async def chunks():
        for i in range(0, len(body), 256):
            yield body[i:i + 256]

    async with client(max_body_bytes=1024) as http:
        r = await http.post(path, content=chunks() if chunked else body,
                            headers={"Content-Type": "application/json"})
        fits = await http.post("/api/v1/tallies/echo", content=b"x" * 1024)
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert "1024 bytes" in r.json()["detail"]
    assert_hardened(r)
    assert fits.status_code == 200 and fits.json() == {"bytes": 1024}
