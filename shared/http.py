"""What every service's HTTP side has in common: RFC 9457 problem details, correlation ids,
request metrics, security headers, CORS, a request body limit, times shown in Beijing, a server
span per request when tracing is on, and the operational endpoints /healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from opentelemetry.trace import Tracer
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.aggregate import Conflict, DomainError, Forbidden, Invalid, NotFound
from shared.calendar import CalendarMissing
from shared.clock import BEIJING
from shared.settings import ServiceSettings
from shared.tracing import ServerSpans

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
PROBLEM_BASE = "https://fayuan.legalaid.example/problems/"

REQUESTS = Counter("fayuan_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("fayuan_http_request_seconds", "HTTP request latency", ["method", "route"])
READY = Gauge("fayuan_readiness_check_ok", "1 when the /readyz check passed at its last run", ["check"])


def problem(
    status: int, title: str, *, type_: str = "about:blank", detail: str | None = None,
    instance: str | None = None, **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extensions.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _field(loc: Sequence[str | int]) -> str:
    """('body', 'aided_person', 'name') -> 'aided_person.name'; query/path keep their origin."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


async def _validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": _field(e.get("loc", ())), "message": e.get("msg", ""), "code": e.get("type", "")}
        for e in exc.errors()
    ]
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return problem(
        422,
        "The request is not valid",
        type_=PROBLEM_BASE + "validation-error",
        detail=f"Invalid fields: {fields}",
        instance=request.url.path,
        errors=errors,
    )


async def _http_problem(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else None
    from http import HTTPStatus

    try:
        title = HTTPStatus(exc.status_code).phrase
    except ValueError:
        title = "Error"
    response = problem(exc.status_code, title, detail=detail, instance=request.url.path)
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


# The API edge's reading of the domain's refusals; the most specific class wins.
DOMAIN_ERROR_STATUS: dict[type[DomainError], int] = {
    NotFound: 404, Forbidden: 403, Invalid: 422, Conflict: 409, DomainError: 409,
}


def domain_error_status(exc: DomainError) -> int:
    return next(DOMAIN_ERROR_STATUS[cls] for cls in type(exc).__mro__ if cls in DOMAIN_ERROR_STATUS)


async def _domain_problem(request: Request, exc: DomainError) -> JSONResponse:
    kind = type(exc).__name__
    slug = "".join("-" + c.lower() if c.isupper() else c for c in kind).lstrip("-")
    return problem(domain_error_status(exc), kind, type_=PROBLEM_BASE + slug, detail=str(exc),
                   instance=request.url.path, rule=exc.rule)


async def _calendar_missing(request: Request, exc: CalendarMissing) -> JSONResponse:
    """Not the caller's fault and not a guess: the service lacks the year's official working days
    (shared.calendar) until an operator loads them."""
    return problem(503, "Working calendar missing", type_=PROBLEM_BASE + "calendar-missing",
                   detail=f"{exc}: a deadline runs into {exc.year}, whose holidays and make-up working "
                          "days the State Council's notice sets; an operator loads them.",
                   instance=request.url.path, year=exc.year)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", extra={"path": request.url.path})
    return problem(500, "Internal Server Error",
                   detail="The error was logged with this request's correlation id.",
                   instance=request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    # Starlette calls a handler only with instances of the class it is registered for, but its
    # signature asks for handlers of any Exception: it cannot say that a handler's parameter may be
    # the registered class. Hence the ignores.
    app.add_exception_handler(RequestValidationError, _validation_problem)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_problem)  # type: ignore[arg-type]
    app.add_exception_handler(DomainError, _domain_problem)  # type: ignore[arg-type]
    app.add_exception_handler(CalendarMissing, _calendar_missing)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)


class _Measure:
    """Request count and latency per route template. Pure ASGI: `@app.middleware("http")`
    (BaseHTTPMiddleware) runs every request through an anyio task group and memory streams,
    which cost more than the rest of the HTTP stack together (docs/benchmarks.md)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            template = getattr(scope.get("route"), "path", "unmatched")
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - started)
            REQUESTS.labels(scope["method"], template, str(status)).inc()


# A JSON string that is exactly an instant with its offset (what pydantic and isoformat() write):
# never part of a longer text, and never a date alone or a naive time.
_INSTANT = re.compile(rb'"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)(Z|[+-]\d{2}:\d{2})"')


def _in_beijing(found: re.Match[bytes]) -> bytes:
    if found.group(2) == b"+08:00":
        return found.group(0)
    offset = b"+00:00" if found.group(2) == b"Z" else found.group(2)
    moment = datetime.fromisoformat((found.group(1) + offset).decode())
    return b'"' + moment.astimezone(BEIJING).isoformat().encode() + b'"'


def beijing_times(body: bytes) -> bytes:
    """Every instant of a JSON document as Beijing reads it (`2026-10-09T01:00:00Z` ->
    `"2026-10-09T09:00:00+08:00"`): the same moment, so nothing else changes."""
    return _INSTANT.sub(_in_beijing, body)


class _BeijingTimes:
    """Times are stored and carried in UTC (the store, the events, the database); the people who
    read the answers are in Beijing, so every JSON answer shows its instants at +08:00. Done on
    the bytes, once, for every route: pydantic's fast path (FastAPI's response_model, dump_json),
    hand-written responses (intake's registration), problems, and the audit's event payloads
    (stored JSON, not typed) alike. Pure ASGI, like _Measure."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_in_beijing(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                kind = dict(message.get("headers", [])).get(b"content-type", b"").split(b";")[0]
                if kind == b"application/json" or kind.endswith(b"+json"):
                    start = message  # held until the body is complete
                    return
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = beijing_times(b"".join(chunks))
                headers = [(k, v) for k, v in start.get("headers", []) if k != b"content-length"]
                await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, send_in_beijing)


# JSON APIs load nothing and may be framed by no one.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI's page (/docs, shared/openapi.py) loads its bundle, stylesheet and favicon from the
# service itself, fetches its OpenAPI document there (and, with "Try it out", the API), and starts
# with one inline script, allowed by its hash (computed from the page itself, so a FastAPI upgrade
# cannot silently widen it). Its icons are data: URIs in its stylesheet. No inline style: React
# sets styles through the DOM, which style-src does not govern.
DOCS_URL = "/docs"
DOCS_CSP = ("default-src 'none'; script-src 'self' {hashes}; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


class _SecurityHeaders:
    """Outermost layer (outside Starlette's error middleware), so 500s and /metrics get the
    headers too. Pure ASGI for the cost reason _Measure gives."""

    def __init__(self, app: ASGIApp, *, hsts: bool, docs_page: str | None):
        self.app = app
        self.docs_page = docs_page
        self.common: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
        ]
        if hsts:
            self.common.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Behind a proxy prefix, the path starts with the root_path (ASGI); the page is the same.
        if scope["path"].removeprefix(scope.get("root_path", "").rstrip("/")) == self.docs_page:
            await self._docs(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._merge(message.get("headers", []), API_CSP.encode())
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _merge(self, headers: Iterable[tuple[bytes, bytes]], csp: bytes) -> list[tuple[bytes, bytes]]:
        merged = list(headers)
        present = {k.lower() for k, _ in merged}
        extra = [*self.common, (b"content-security-policy", csp), (b"cache-control", b"no-store")]
        return merged + [(k, v) for k, v in extra if k not in present]

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The docs page is small and not streamed: hold it to hash its inline scripts."""
        start: Message | None = None
        body = b""

        async def hold(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                start = message
                return
            body += message.get("body", b"")
            if message.get("more_body"):
                return
            assert start is not None  # ASGI: the response starts before its body
            hashes = " ".join(
                "'sha256-" + base64.b64encode(hashlib.sha256(s).digest()).decode() + "'"
                for s in _INLINE_SCRIPT.findall(body)
            )
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": self._merge(headers, DOCS_CSP.format(hashes=hashes).encode())})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, hold)


class BodyTooLarge(StarletteHTTPException):
    def __init__(self, limit: int):
        super().__init__(413, detail=f"The request body is larger than {limit} bytes.")


class _BodyLimit:
    """Counts the bytes actually received, so a chunked body (no Content-Length) or a lying
    Content-Length cannot get past the limit. Over it, reading the body raises BodyTooLarge, which
    the problem handlers turn into a 413; a declared length over the limit is refused up front."""

    def __init__(self, app: ASGIApp, *, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            response = problem(413, "Content Too Large", detail=str(BodyTooLarge(self.limit).detail),
                               instance=scope["path"])
            await response(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, counting_receive, send)


def install_middleware(app: FastAPI, settings: ServiceSettings | None = None, *,
                       tracer: Tracer | None = None) -> None:
    settings = settings or ServiceSettings()
    app.add_middleware(_BeijingTimes)
    app.add_middleware(_Measure)
    app.add_middleware(_BodyLimit, limit=settings.max_body_bytes)
    if settings.cors_origins:
        # Bearer tokens travel in a header, never in cookies: credentials stay off.
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
                           allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Idempotency-Key",
                                          "X-Correlation-ID"],
                           expose_headers=["X-Correlation-ID", "Location", "ETag"], max_age=600)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Correlation-ID")
    if tracer is not None:  # the outermost of ours: the span covers the others (shared/tracing.py)
        app.add_middleware(ServerSpans, tracer=tracer)
    build = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return _SecurityHeaders(build(), hsts=settings.tls_terminated, docs_page=DOCS_URL)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]


ReadinessCheck = Callable[[], Awaitable[str | None]]


def install_operational_routes(
    app: FastAPI, checks: dict[str, ReadinessCheck], info: dict[str, Callable[[], Any]] | None = None,
) -> None:
    """`/healthz`: the process answers. `/readyz`: every check passes (each returns None when
    fine, or what is wrong); `info` adds what operators may want to see beside them (the broker)
    without deciding readiness. `/metrics`: Prometheus text format."""

    @app.get("/healthz", tags=["operations"], include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], include_in_schema=False)
    async def readyz() -> JSONResponse:
        async def run(name: str, check: ReadinessCheck) -> tuple[str, str | None]:
            try:
                return name, await asyncio.wait_for(check(), timeout=2.0)
            except Exception as exc:
                return name, f"{type(exc).__name__}: {exc}"

        results = dict(await asyncio.gather(*(run(n, c) for n, c in checks.items())))
        failing = {n: r for n, r in results.items() if r}
        for name, result in results.items():
            READY.labels(name).set(0 if result else 1)
        body: dict[str, Any] = {"status": "ready" if not failing else "not ready",
                                "checks": {n: (r or "ok") for n, r in results.items()}}
        body |= {name: describe() for name, describe in (info or {}).items()}
        return JSONResponse(body, status_code=200 if not failing else 503)

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
