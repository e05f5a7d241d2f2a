"""`Idempotency-Key` on every POST of every service (docs/reliability.md "Idempotency").

A client that sends a command and hears nothing back (a timeout, a dropped connection, a
restarted pod) cannot know whether it was recorded. With an `Idempotency-Key` header it sends
the same request again and gets the first answer (status, body and the headers that belong to
it, e.g. `Location`) without the command running twice. The answer carries
`Idempotent-Replayed: true`.

- A key belongs to a caller and an endpoint: the token's subject, the method and the path. Two
  callers never see each other's answers, and one key may be reused on another path.
- The same key with another request (body or query) is a 422 validation problem naming the
  header: the client has a bug, and answering the first request's result would hide it.
- While the first request runs, the same key again gets a 409 problem with `Retry-After: 1`
  (it does not wait: a client retrying in a loop must not pile up connections). A process
  killed while answering leaves its claim; after `idempotency_in_flight_seconds` a retry runs
  the command again.
- Only an answer that recorded something (2xx) is kept: a refused request (4xx) or a failure
  (5xx) changed nothing, and the same key may be sent again once the cause is fixed.
- Keys are kept `idempotency_key_hours`, then purged (`purge`, every
  `idempotency_purge_seconds`: shared.service.build_app runs it).

It is a pure ASGI layer inside every other one (shared.service.build_app), so it applies to
every POST a service adds without the endpoint doing anything; the OpenAPI document shows the
header on each of them (`document`). An endpoint that reads the header itself (intake's
registration, evaluation's payment, sanctions' bar-notice outcomes) keeps its own, stronger
rule: the key is stored in the command's own transaction, so not even a process killed between
the commit and the answer can make it run twice. This layer leaves those endpoints alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import InvalidToken, verifier
from shared.deps import app_clock
from shared.http import PROBLEM_BASE, problem
from shared.input_guard import http_problem, read_body, replaying, routes

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
FIELD = f"header.{HEADER}"
MAX_KEY = 200
# What the stored answer keeps of its headers: all the endpoint set but these, which belong to
# the transport or to this request (the outer layers add them again to the replay).
_NOT_KEPT = {b"content-length", b"date", b"server", b"x-correlation-id", b"transfer-encoding"}
PARAMETER: dict[str, Any] = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "A key of the client's choosing (1 to 200 printable ASCII characters, e.g. a UUID) "
                   "that makes a retry safe: the same request again with the same key answers what the "
                   "first answered (`Idempotent-Replayed: true`) and records nothing; the same key with "
                   "another request is a 422 problem, and while the first still runs a 409 problem "
                   "(`Retry-After`). Kept per caller and path for a day (docs/reliability.md).",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY, "pattern": "^[\\x20-\\x7E]+$"},
}


def _declares_key(dependant: Dependant) -> bool:
    if any((p.alias or p.name).lower() == HEADER.lower() for p in dependant.header_params):
        return True
    return any(_declares_key(d) for d in dependant.dependencies)


def _post_routes(app: FastAPI) -> list[tuple[Any, bool]]:
    """(route, reads the header itself) of every POST route, read once per app."""
    cached: list[tuple[Any, bool]] | None = getattr(app.state, "idempotent_posts", None)
    if cached is None:
        cached = [(r, _declares_key(r.dependant)) for r in routes(app)
                  if "POST" in (getattr(r, "methods", None) or ()) and hasattr(r, "dependant")]
        app.state.idempotent_posts = cached
    return cached


def _route_of(app: FastAPI, scope: Scope) -> tuple[Any, bool] | None:
    for route, own in _post_routes(app):
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return route, own
    return None


def _header(scope: Scope, name: bytes) -> bytes | None:
    return next((v for k, v in scope["headers"] if k == name), None)


async def _caller(app: FastAPI, scope: Scope) -> str | None:
    """The token's subject, or None (no token or a bad one: the route answers 401)."""
    authorization = (_header(scope, b"authorization") or b"").decode("latin-1")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        claims = await verifier(app).verify(token.strip())
    except InvalidToken:
        return None
    subject = claims.get("sub")
    return subject if isinstance(subject, str) and subject else None


def fingerprint(body: bytes, query: bytes) -> str:
    """The same request, however its JSON is spaced or its keys ordered."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False).encode()
    except (ValueError, RecursionError):
        canonical = body
    return hashlib.sha256(query + b"\0" + canonical).hexdigest()


def _refuse(scope: Scope, status: int, title: str, message: str, code: str,
            headers: dict[str, str] | None = None) -> Any:
    slug = "validation-error" if status == 422 else code.replace("_", "-")
    response = problem(status, title, type_=PROBLEM_BASE + slug,
                       detail=f"{HEADER}: {message}", instance=scope["path"],
                       errors=[{"field": FIELD, "message": message, "code": code}])
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _now(app: FastAPI) -> datetime:
    # app_clock: get_clock is `async def` (shared/deps.py), so calling it gives a coroutine, not
    # the clock; a test's override is a plain function returning one.
    return app_clock(app)()


class Idempotency:
    """The layer (see the module's docstring)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        raw_key = _header(scope, b"idempotency-key")
        app: FastAPI | None = scope.get("app")
        if raw_key is None or app is None:
            await self.app(scope, receive, send)
            return
        found = _route_of(app, scope)
        if found is None or found[1]:  # no such route (404), or it keeps its own keys
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not 1 <= len(key) <= MAX_KEY or not all(" " <= c <= "~" for c in key):
            await _refuse(scope, 422, "The request is not valid",
                          f"1 to {MAX_KEY} printable ASCII characters", "idempotency_key_invalid",
                          )(scope, receive, send)
            return
        caller = await _caller(app, scope)
        if caller is None:  # not authenticated: the route refuses it, nothing to remember
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive)
        except StarletteHTTPException as exc:
            await http_problem(exc, scope, receive, send)
            return
        await _Keyed(app, caller, key, scope).answer(self.app, body, receive, send)


class _Keyed:
    """One keyed request: claim the key, or replay its answer, or refuse."""

    def __init__(self, app: FastAPI, caller: str, key: str, scope: Scope):
        self.app = app
        self.scope = scope
        self.caller, self.key, self.path = caller, key, scope["path"]
        self.id = hashlib.sha256("\0".join((caller, "POST", self.path, key)).encode()).hexdigest()
        self.engine: AsyncEngine = app.state.engine
        self.settings = app.state.settings

    async def answer(self, downstream: ASGIApp, body: bytes, receive: Receive, send: Send) -> None:
        scope = self.scope
        fp = fingerprint(body, scope.get("query_string", b""))
        for _ in range(3):  # a row purged or taken over between two statements: look again
            if await self._claim(fp):
                await self._run(downstream, body, receive, send)
                return
            row = await self._stored()
            if row is None:
                continue
            if row["fingerprint"] != fp:
                await _refuse(scope, 422, "The request is not valid",
                              "this key was sent before with another request; a new request needs a new key",
                              "idempotency_key_reused")(scope, receive, send)
                return
            if row["status"] is not None:
                await self._replay(row, send)
                return
            in_flight = timedelta(seconds=self.settings.idempotency_in_flight_seconds)
            if row["created_at"] + in_flight > _now(self.app) or not await self._take_over(row, fp):
                await _refuse(scope, 409, "Conflict", "a request with this key is still being answered; "
                              "send it again in a moment", "idempotency_key_in_flight",
                              headers={"Retry-After": "1"})(scope, receive, send)
                return
            await self._run(downstream, body, receive, send)
            return
        raise RuntimeError(f"{HEADER}: the key's row changed under three attempts")

    async def _claim(self, fp: str) -> bool:
        async with self.engine.begin() as conn:
            claimed = await conn.execute(text(
                "INSERT INTO idempotency_keys (id, caller, method, path, key, fingerprint, created_at) "
                "VALUES (:id, :caller, 'POST', :path, :key, :fp, :now) "
                "ON CONFLICT (id) DO NOTHING RETURNING id"),
                {"id": self.id, "caller": self.caller, "path": self.path, "key": self.key, "fp": fp,
                 "now": _now(self.app)})
            return claimed.first() is not None

    async def _stored(self) -> Any:
        async with self.engine.connect() as conn:
            result = await conn.execute(text(
                "SELECT fingerprint, status, headers, body, created_at FROM idempotency_keys WHERE id = :id"),
                {"id": self.id})
            return result.mappings().first()

    async def _take_over(self, row: Any, fp: str) -> bool:
        """A claim older than the in-flight limit: its process died; this request runs instead."""
        async with self.engine.begin() as conn:
            taken = await conn.execute(text(
                "UPDATE idempotency_keys SET created_at = :now WHERE id = :id AND status IS NULL "
                "AND created_at = :then AND fingerprint = :fp RETURNING id"),
                {"id": self.id, "now": _now(self.app), "then": row["created_at"], "fp": fp})
            return taken.first() is not None

    async def _replay(self, row: Any, send: Send) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in row["headers"]]
        body: bytes = row["body"] or b""
        headers += [(b"content-length", str(len(body)).encode()), (b"idempotent-replayed", b"true")]
        await send({"type": "http.response.start", "status": row["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _run(self, downstream: ASGIApp, body: bytes, receive: Receive, send: Send) -> None:
        status = 0
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _NOT_KEPT]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await downstream(self.scope, replaying(body, receive), keep)
        except BaseException:
            await self._forget()
            raise
        if 200 <= status < 300:
            await self._keep(status, headers, b"".join(chunks))
        else:
            await self._forget()

    async def _keep(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(text(
                    "UPDATE idempotency_keys SET status = :status, headers = CAST(:headers AS jsonb), "
                    "body = :body, completed_at = :now WHERE id = :id"),
                    {"id": self.id, "status": status, "body": body, "now": _now(self.app),
                     "headers": json.dumps([[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers])})
        except Exception:  # answered already; the claim stays until the in-flight limit
            log.exception("the answer of an idempotent request could not be kept")

    async def _forget(self) -> None:
        try:
            async with self.engine.begin() as conn:
                await conn.execute(text("DELETE FROM idempotency_keys WHERE id = :id AND status IS NULL"),
                                   {"id": self.id})
        except Exception:
            log.exception("the claim of an idempotent request could not be released")


async def purge(engine: AsyncEngine, *, older_than: datetime) -> int:
    """Forget the keys claimed before `older_than`; how many."""
    async with engine.begin() as conn:
        result = await conn.execute(text("DELETE FROM idempotency_keys WHERE created_at < :before"),
                                    {"before": older_than})
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_tick(app: FastAPI, now: datetime) -> None:
    """shared.service.periodically's tick: the keys older than `idempotency_key_hours`."""
    settings = app.state.settings
    purged = await purge(app.state.engine, older_than=now - timedelta(hours=settings.idempotency_key_hours))
    if purged:
        log.info("idempotency keys purged", extra={"purged": purged})


def document(app: FastAPI) -> None:
    """Show the header on every POST of the app's OpenAPI document (an endpoint that declares
    it itself keeps its own description)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        for operations in schema.get("paths", {}).values():
            operation = operations.get("post")
            if operation is None:
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("in") == "header" and p.get("name", "").lower() == HEADER.lower()
                       for p in parameters):
                parameters.append(dict(PARAMETER))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    """Add the layer innermost (inside the body limit, the correlation id and the metrics, just
    outside the routes' own error handling) and the header to the OpenAPI document."""
    app.user_middleware.append(Middleware(Idempotency))
    document(app)
