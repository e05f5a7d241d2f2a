"""The composition root every service's app.py calls: one FastAPI app with its engine, relay
and consumers started in the lifespan and stopped cleanly on shutdown (SIGTERM included:
uvicorn turns it into a lifespan shutdown). Nothing is created at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# aiokafka ships no type information (no py.typed, no stubs): its objects are Any here.
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped]
from fastapi import APIRouter, FastAPI
from sqlalchemy import text

from shared import audit_api
from shared.auth import install_auth
from shared.consumer import ConsumerRunner, Handler
from shared.db import create_engine
from shared.events import IntegrationEvent
from shared.http import install_middleware, install_operational_routes, install_problem_handlers
from shared.migrations import pending
from shared.openapi import install_openapi
from shared.outbox import Relay
from shared.settings import ServiceSettings
from shared.uow import Projector, no_projection

log = logging.getLogger(__name__)


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
    background: Sequence[Callable[[FastAPI, asyncio.Event], Coroutine[Any, Any, None]]] = ()
    version: str = "0.1.0"
    # The OpenAPI tags its routers use (`APIRouter(tags=[...])`) -> what each is about, in the
    # order the docs show them; the kernel adds its own (audit).
    tags: Mapping[str, str] = field(default_factory=dict)


def build_app(spec: ServiceSpec, settings: ServiceSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        stop = asyncio.Event()
        app.state.engine = engine
        app.state.settings = settings
        app.state.projector = spec.projector
        app.state.relay = Relay(engine, settings) if settings.relay_enabled else None
        app.state.consumers = (
            [ConsumerRunner(engine, settings, name=n, handlers=h, projector=spec.projector)
             for n, h in spec.consumers.items()]
            if settings.consumers_enabled
            else []
        )
        tasks = [asyncio.create_task(c.run(stop), name=c.name) for c in app.state.consumers]
        if app.state.relay is not None:
            tasks.append(asyncio.create_task(app.state.relay.run(stop), name="relay"))
        tasks += [asyncio.create_task(job(app, stop), name=job.__name__) for job in spec.background]
        log.info("service started", extra={"port": settings.port})
        try:
            yield
        finally:
            stop.set()
            done, running = await asyncio.wait(tasks, timeout=15) if tasks else (set(), set())
            for task in running:
                task.cancel()
            await engine.dispose()
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
    install_middleware(app, settings)
    install_auth(app, settings)
    install_openapi(app, {**spec.tags, **audit_api.TAGS})
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

    async def broker() -> str | None:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers,
                                    request_timeout_ms=1500, **settings.kafka_security())
        await admin.start()
        await admin.close()
        return None

    install_operational_routes(app, {"database": database, "broker": broker})
    return app
