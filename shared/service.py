"""The composition root every service's app.py calls: one FastAPI app with its engine, relay
and consumers started in the lifespan and stopped cleanly on shutdown (SIGTERM included:
uvicorn turns it into a lifespan shutdown). Nothing is created at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from starlette.middleware import Middleware

from shared import audit_api, idempotency, tracing
from shared.auth import install_auth
from shared.consumer import ConsumerRunner, Handler
from shared.db import create_engine
from shared.deps import app_clock
from shared.events import IntegrationEvent
from shared.health import BrokerWatch
from shared.http import install_middleware, install_operational_routes, install_problem_handlers
from shared.input_guard import InputGuard
from shared.migrations import pending
from shared.openapi import install_openapi
from shared.outbox import Relay, purge
from shared.settings import ServiceSettings
from shared.uow import Projector, no_projection

log = logging.getLogger(__name__)


BackgroundJob = Callable[[FastAPI, asyncio.Event], Coroutine[Any, Any, None]]


def periodically(
    tick: Callable[[FastAPI, datetime], Awaitable[object]], *, every: Callable[[Any], float],
    at_start: bool = False, name: str | None = None,
) -> BackgroundJob:
    """A job a service does by itself (a deadline sweep, reinstatements, reminders): `tick(app,
    now)` every `every(settings)` seconds until shutdown, and once at start-up if `at_start`; 0
    seconds turns it off (operators then run the service's command from a scheduler). "Now" is
    the app's clock, which tests replace (`app.dependency_overrides[get_clock]`). A tick that
    fails is logged and the next one tries again: a request or an event never waits on it."""

    async def run_once(app: FastAPI) -> None:
        clock = app_clock(app)
        try:
            await tick(app, clock())
        except Exception:
            log.exception("%s failed", job.__name__)

    async def job(app: FastAPI, stop: asyncio.Event) -> None:
        interval = every(app.state.settings)
        if interval <= 0:
            return
        if at_start:
            await run_once(app)
        while True:
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
                return
            except TimeoutError:
                await run_once(app)

    job.__name__ = job.__qualname__ = name or tick.__name__
    return job


async def _purge(app: FastAPI, now: datetime) -> None:
    await purge(app.state.engine, app.state.settings)


# Every service purges its own outbox and inbox (shared/outbox.py's purge).
purge_periodically = periodically(_purge, every=lambda s: s.purge_interval_seconds, name="purge")
PURGE_IDEMPOTENCY_KEYS = periodically(idempotency.purge_tick, every=lambda s: s.idempotency_purge_seconds,
                                      name="purge-idempotency-keys")


@dataclass
class ServiceSpec:
    """What a service is made of; its app.py fills one in."""

    title: str
    description: str
    routers: Sequence[APIRouter]
    migrations: Path
    consumers: dict[str, dict[type[IntegrationEvent], Handler]] = field(default_factory=dict)
    projector: Projector = no_projection
    # Work the service does by itself, beside requests and events (e.g. a periodic sweep): each
    # runs as a task from start-up until `stop` is set at shutdown.
    background: Sequence[BackgroundJob] = ()
    version: str = "0.1.0"
    # The OpenAPI tags its routers use (`APIRouter(tags=[...])`) -> what each is about, in the
    # order the docs show them; the kernel adds its own (audit).
    tags: Mapping[str, str] = field(default_factory=dict)


def build_app(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    # Tracing off: no provider, no tracer, and nothing below makes a span (shared/tracing.py).
    provider = tracing.tracer_provider(settings, version=spec.version)
    tracer = tracing.tracer_of(provider, version=spec.version)
    broker = BrokerWatch(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        stop = asyncio.Event()
        app.state.engine = engine
        app.state.settings = settings
        app.state.projector = spec.projector
        app.state.relay = Relay(engine, settings, tracer=tracer) if settings.relay_enabled else None
        app.state.consumers = (
            [ConsumerRunner(engine, settings, name=n, handlers=h, projector=spec.projector, tracer=tracer)
             for n, h in spec.consumers.items()]
            if settings.consumers_enabled
            else []
        )
        tasks = [asyncio.create_task(c.run(stop), name=c.name) for c in app.state.consumers]
        if app.state.relay is not None:
            tasks.append(asyncio.create_task(app.state.relay.run(stop), name="relay"))
        tasks += [asyncio.create_task(job(app, stop), name=job.__name__, context=tracing.context_with(tracer))
                  for job in (*spec.background, purge_periodically, PURGE_IDEMPOTENCY_KEYS)]
        # Not among `tasks`: shutdown does not wait for a check in flight, it cancels it.
        watch = (asyncio.create_task(broker.run(stop), name="broker-watch")
                 if settings.broker_check_seconds > 0 else None)
        log.info("service started", extra={"port": settings.port})
        try:
            yield
        finally:
            stop.set()
            if watch is not None:
                watch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watch
            done, running = await asyncio.wait(tasks, timeout=15) if tasks else (set(), set())
            for task in running:
                task.cancel()
            await engine.dispose()
            if provider is not None:  # export what is still queued before the process ends
                await asyncio.to_thread(provider.force_flush)
            log.info("service stopped")

    app = FastAPI(
        title=spec.title,
        description=spec.description,
        version=spec.version,
        lifespan=lifespan,
        docs_url=None,  # served by install_openapi from the service's own files, not a CDN
        redoc_url=None,  # no package ships ReDoc's bundle to serve it likewise (docs/api.md)
        openapi_url="/openapi.json",
    )
    install_problem_handlers(app)
    app.state.tracer_provider = provider
    install_middleware(app, settings, tracer=tracer)
    install_auth(app, settings)
    # Innermost, in this order, whatever install_middleware adds outside them: hostile input is
    # refused before a key is claimed (docs/reliability.md).
    app.user_middleware.append(Middleware(InputGuard))
    idempotency.install(app)
    install_openapi(app, {**spec.tags, **audit_api.TAGS}, public_docs_prefix=settings.public_docs_prefix)
    for router in spec.routers:
        app.include_router(router)
    app.include_router(audit_api.router)

    migrated = False  # once at head, a running process stays there: check the revision once

    async def database() -> str | None:
        nonlocal migrated
        async with app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            if not migrated:
                if await pending(conn, spec.migrations):
                    return "migrations not applied"
                migrated = True
        return None

    # Ready = the database answers and is migrated. The broker is shown, not required (shared/health.py).
    app.state.broker = broker
    install_operational_routes(app, {"database": database}, info={"broker": broker.status})
    return app
