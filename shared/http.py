"""What every service's HTTP side has in common: RFC 9457 problem details, correlation ids,
request metrics, and the operational endpoints /healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from shared.aggregate import DomainError

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"
PROBLEM_BASE = "https://fayuan.legalaid.example/problems/"

REQUESTS = Counter("fayuan_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("fayuan_http_request_seconds", "HTTP request latency", ["method", "route"])


def problem(
    status: int, title: str, *, type_: str = "about:blank", detail: str | None = None, instance: str | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extensions.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _field(loc: tuple | list) -> str:
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


async def _domain_problem(request: Request, exc: DomainError) -> JSONResponse:
    kind = type(exc).__name__
    slug = "".join("-" + c.lower() if c.isupper() else c for c in kind).lstrip("-")
    return problem(exc.status, kind, type_=PROBLEM_BASE + slug, detail=str(exc), instance=request.url.path, rule=exc.rule)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", extra={"path": request.url.path})
    return problem(500, "Internal Server Error", detail="The error was logged with this request's correlation id.",
                   instance=request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    app.add_exception_handler(DomainError, _domain_problem)
    app.add_exception_handler(Exception, _unexpected)


class _Measure:
    """Request count and latency per route template. Pure ASGI: `@app.middleware("http")`
    (BaseHTTPMiddleware) runs every request through an anyio task group and memory streams,
    which cost more than the rest of the HTTP stack together (docs/benchmarks.md)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message) -> None:
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


def install_middleware(app: FastAPI) -> None:
    app.add_middleware(_Measure)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Correlation-ID")


ReadinessCheck = Callable[[], Awaitable[str | None]]


def install_operational_routes(app: FastAPI, checks: dict[str, ReadinessCheck]) -> None:
    """`/healthz`: the process answers. `/readyz`: every check passes (each returns None when
    fine, or what is wrong). `/metrics`: Prometheus text format."""

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
        body = {"status": "ready" if not failing else "not ready",
                "checks": {n: (r or "ok") for n, r in results.items()}}
        return JSONResponse(body, status_code=200 if not failing else 503)

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
