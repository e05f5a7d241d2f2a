"""The dependencies routers declare, defined once (full-stack-fastapi-template's `deps.py`).

They read what the composition root (shared/service.py) put on `app.state` at start-up, so
this module imports no part of the app and anything may import it (the audit router, every
service's api.py) without a circle.

Every one is `async def` although none awaits: FastAPI runs a plain `def` dependency in the
thread pool, a thread hop per dependency per request that cost registration about a tenth of
its time (docs/benchmarks.md, "Where registration's time goes").
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import clock
from shared.settings import ServiceSettings
from shared.uow import UnitOfWorkFactory, unit_of_work


async def get_engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


async def get_settings(request: Request) -> ServiceSettings:
    """The service's settings; each service's `settings.py` declares the alias typed with its
    own class (`IntakeSettingsDep`), so its fields are read without `getattr` and defaults."""
    settings: ServiceSettings = request.app.state.settings
    return settings


async def get_unit_of_work(request: Request) -> UnitOfWorkFactory:
    """A factory of units of work for command handlers (each opens and commits its own, so it
    can retry on a concurrency conflict)."""
    state = request.app.state
    return lambda: unit_of_work(state.engine, state.settings, state.projector)


async def get_clock() -> clock.Clock:
    """The time a route reads "now" from: tests replace it (`app.dependency_overrides[get_clock]`)
    instead of waiting for days to pass."""
    return clock.now


def app_clock(app: FastAPI) -> clock.Clock:
    """The clock of an app's own jobs (outside a request): the test's override of `get_clock`
    when there is one, else the real one."""
    override = app.dependency_overrides.get(get_clock)
    return override() if override is not None else clock.now


EngineDep = Annotated[AsyncEngine, Depends(get_engine)]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
UowFactoryDep = Annotated[UnitOfWorkFactory, Depends(get_unit_of_work)]
ClockDep = Annotated[clock.Clock, Depends(get_clock)]
