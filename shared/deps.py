"""The dependencies routers declare, defined once (full-stack-fastapi-template's `deps.py`).

They read what the composition root (shared/service.py) put on `app.state` at start-up, so
this module imports no part of the app and anything may import it (the audit router, every
service's api.py) without a circle.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import clock
from shared.settings import ServiceSettings
from shared.uow import UnitOfWorkFactory, unit_of_work


def get_engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


def get_settings(request: Request) -> ServiceSettings:
    """The service's settings; each service's `settings.py` declares the alias typed with its
    own class (`IntakeSettingsDep`), so its fields are read without `getattr` and defaults."""
    settings: ServiceSettings = request.app.state.settings
    return settings


def get_unit_of_work(request: Request) -> UnitOfWorkFactory:
    """A factory of units of work for command handlers (each opens and commits its own, so it
    can retry on a concurrency conflict)."""
    state = request.app.state
    return lambda: unit_of_work(state.engine, state.settings, state.projector)


def get_clock() -> clock.Clock:
    """The time a route reads "now" from: tests replace it (`app.dependency_overrides[get_clock]`)
    instead of waiting for days to pass."""
    return clock.now


EngineDep = Annotated[AsyncEngine, Depends(get_engine)]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
UowFactoryDep = Annotated[UnitOfWorkFactory, Depends(get_unit_of_work)]
ClockDep = Annotated[clock.Clock, Depends(get_clock)]
