"""Keys from the identity provider's JWKS URL: fetched, cached, fetched again when a token names a
key the service does not know (a rotation needs no restart), and an unreachable provider refuses
what it cannot check (401) without failing the request (500) or blocking the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from pydantic import ValidationError

from devstack.embedded import free_port
from shared.auth import Role
from shared.settings import ServiceSettings
from shared.testing.auth import KeyPair, app_with_auth, auth_settings, bearer, ec_key, rsa_key, token
from shared.testing.kafka import eventually
from shared.tests.auth_app import router

A = rsa_key("idp-2025-a")
B = ec_key("idp-2026-b")
FORGER = rsa_key("idp-2026-z")  # a key the provider never published


class IdentityProvider:
    """A JWKS endpoint on 127.0.0.1, in a thread: what it publishes can change while it runs."""

    def __init__(self, *keys: KeyPair):
        self.keys = list(keys)
        self.fetches = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                provider.fetches += 1
                body = json.dumps({"keys": [k.jwk() for k in provider.keys]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> IdentityProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def provider(*keys: KeyPair) -> Iterator[IdentityProvider]:
    with IdentityProvider(*keys) as running:
        yield running


def settings(url: str, **overrides: object) -> ServiceSettings:
    return ServiceSettings(**auth_settings(auth_jwks_url=url, **overrides))


def client(values: ServiceSettings) -> httpx.AsyncClient:
    app = app_with_auth(values, router)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def read(
    http: httpx.AsyncClient, values: ServiceSettings, key: KeyPair, **claims: Any
) -> httpx.Response:
    lead = bearer(token(values, key, Role.quality_lead, **{"agency_id": "agency-1", **claims}))
    return await http.get("/api/v1/tallies/h1", headers=lead)


async def test_the_providers_keys_verify_and_are_fetched_once_for_many_tokens():
    with provider(A, B) as idp:
        values = settings(idp.url)
        async with client(values) as http:
            answers = [await read(http, values, key, sub=f"u-{n}") for n in range(5) for key in (A, B)]
        assert [r.status_code for r in answers] == [200] * 10
        assert idp.fetches == 1  # ten different tokens, one fetch


async def test_a_rotated_key_is_picked_up_without_a_restart_and_the_withdrawn_one_is_refused():
    with provider(A) as idp:
        values = settings(idp.url, auth_jwks_refetch_seconds=0)
        async with client(values) as http:
            old = token(values, A, Role.quality_lead, agency_id="agency-1")
            assert (await http.get("/api/v1/tallies/h1", headers=bearer(old))).status_code == 200
            idp.keys = [B]  # the provider rotates: B published, A withdrawn
            assert (await read(http, values, B)).status_code == 200
            assert idp.fetches == 2  # the unknown kid fetched the set again
            # The verdict cached for the token signed with A went with the key.
            withdrawn = await http.get("/api/v1/tallies/h1", headers=bearer(old))
        assert withdrawn.status_code == 401
        assert "idp-2025-a" in withdrawn.headers["www-authenticate"]


async def test_an_unknown_kid_is_401_after_one_refetch_and_cannot_make_the_service_fetch_again():
    with provider(A) as idp:
        values = settings(idp.url, auth_jwks_refetch_seconds=60)
        async with client(values) as http:
            assert (await read(http, values, A)).status_code == 200
            assert idp.fetches == 1
            # Within auth_jwks_refetch_seconds of a fetch, an unknown kid is refused from the set at hand.
            made_up = [await read(http, values, FORGER, sub=f"x-{n}") for n in range(5)]
            assert idp.fetches == 1
    assert [r.status_code for r in made_up] == [401] * 5
    assert all('error="invalid_token"' in r.headers["www-authenticate"] for r in made_up)
    assert "no key with kid 'idp-2026-z'" in made_up[0].json()["detail"]

    with provider(A) as idp:
        values = settings(idp.url, auth_jwks_refetch_seconds=0)
        async with client(values) as http:
            assert (await read(http, values, A)).status_code == 200
            unknown = await read(http, values, FORGER)
        assert (unknown.status_code, idp.fetches) == (401, 2)  # fetched again, still unknown: 401


async def test_an_unreachable_provider_is_a_401_and_a_log_line_not_a_500(caplog):
    values = settings(f"http://127.0.0.1:{free_port()}/jwks.json")  # nothing listens there
    caplog.set_level(logging.WARNING, logger="shared.auth")
    async with client(values) as http:
        refused = await read(http, values, A)
        public = await http.get("/api/v1/tallies", headers=bearer(token(values, A, Role.auditor)))
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert "could not be fetched" in refused.json()["detail"]
    assert public.status_code == 200 and public.json()["actor"] == "anonymous"  # public stays open
    [line] = [r.getMessage() for r in caplog.records
              if "identity provider keys not fetched" in r.getMessage()]
    assert values.auth_jwks_url in line  # one line for both requests: the next attempt waits


async def test_while_the_provider_is_away_the_keys_fetched_before_still_verify():
    with provider(A) as idp:
        values = settings(idp.url, auth_jwks_cache_seconds=0.2, auth_jwks_refetch_seconds=0)
        async with client(values) as http:
            assert (await read(http, values, A, sub="before")).status_code == 200
            idp.stop()
            await asyncio.sleep(0.3)  # the set is stale; fetching it again fails
            after = await read(http, values, A, sub="after")
            unknown = await read(http, values, B)
    assert after.status_code == 200
    assert unknown.status_code == 401


async def test_the_fetch_runs_off_the_event_loop_and_once_for_concurrent_requests(monkeypatch):
    fetching: list[int] = []
    released = threading.Event()
    fetch = jwt.PyJWKClient.get_signing_keys

    def held_until_released(self: jwt.PyJWKClient, refresh: bool = False) -> list[jwt.PyJWK]:
        fetching.append(threading.get_ident())
        # Only the event loop sets the event: were the fetch on the loop's thread, nothing could.
        assert released.wait(10), "the event loop was blocked by the fetch"
        return fetch(self, refresh)

    monkeypatch.setattr(jwt.PyJWKClient, "get_signing_keys", held_until_released)
    with provider(A) as idp:
        values = settings(idp.url)
        async with client(values) as http:
            requests = asyncio.gather(*(read(http, values, A, sub=f"u-{n}") for n in range(8)))
            await eventually(lambda: asyncio.sleep(0, fetching), timeout=10)
            released.set()  # the loop runs while the fetch waits
            answers = await requests
        assert [r.status_code for r in answers] == [200] * 8
        assert idp.fetches == 1 and len(fetching) == 1  # eight requests waited for one fetch
        assert fetching[0] != threading.get_ident()


async def test_static_keys_still_work_beside_the_url(tmp_path):
    from shared.testing.auth import write_jwks

    with provider(A) as idp:
        values = settings(idp.url, jwks_file=write_jwks(tmp_path / "jwks.json", B))
        async with client(values) as http:
            assert (await read(http, values, B)).status_code == 200
            assert idp.fetches == 0  # a kid the file holds needs no fetch
            assert (await read(http, values, A)).status_code == 200
            assert idp.fetches == 1


@pytest.mark.parametrize(("url", "environment", "accepted"), [
    ("https://id.example/jwks", "prod", True),
    ("http://id.example/jwks", "prod", False),
    ("http://127.0.0.1:8080/jwks", "test", True),
    ("file:///etc/jwks.json", "dev", False),
])
def test_the_jwks_url_is_https_in_production(url, environment, accepted):
    def build() -> ServiceSettings:
        return ServiceSettings(auth_jwks_url=url, environment=environment)

    if accepted:
        assert build().auth_jwks_url == url
    else:
        with pytest.raises(ValidationError, match="auth_jwks_url"):
            build()
