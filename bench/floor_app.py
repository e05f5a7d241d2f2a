"""Intake's own app with three routes more, for `python -m bench.floor`: what registration costs
before its command does anything.

- `POST /api/v1/floor` takes exactly the registration's parameters (its body model, token check,
  dependencies and headers, read from `register_case` itself, so the two cannot drift apart)
  through intake's whole middleware stack, and answers 201 without running the command.
- `POST /api/v1/floor/unit-of-work` does the same and opens a unit of work that reaches the
  server (BEGIN, then COMMIT of nothing): the transaction's shell, without its statements.
- `POST /api/v1/floor/asyncpg` opens and commits the same empty transaction on an asyncpg pool
  of its own (the bare app's: 10 to 20 connections) instead: the shell a kernel without
  SQLAlchemy's engine around its units of work would have.

It serves as `python -m services.intake serve` does (one uvicorn process, no access log), from the
same environment. Never part of a service: it exists in this benchmark's process only.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI, Response
from sqlalchemy.engine import make_url

from services.intake.api import cases
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared.store import driver

FLOOR = "/api/v1/floor"
UNIT_OF_WORK = "/api/v1/floor/unit-of-work"
ASYNCPG = "/api/v1/floor/asyncpg"


def _answer() -> Response:
    return Response(b'{"case_id": "floor"}', status_code=201, media_type="application/json",
                    headers={"Location": f"{cases.router.prefix}/floor"})


def with_floor(app: FastAPI, settings: IntakeSettings) -> FastAPI:
    # functools.wraps: FastAPI reads the parameters (and resolves their annotations in
    # cases.py's namespace) from register_case itself.
    @functools.wraps(cases.register_case)
    async def floor(**_: Any) -> Response:
        return _answer()

    @functools.wraps(cases.register_case)
    async def unit_of_work(**given: Any) -> Response:
        async with given["uow"]() as uow:
            await driver(uow.conn)  # BEGIN reaches the server; COMMIT at the block's end
        return _answer()

    dsn = make_url(settings.sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    pools: list[asyncpg.Pool] = []
    opening = asyncio.Lock()

    @functools.wraps(cases.register_case)
    async def on_asyncpg(**_: Any) -> Response:
        if not pools:  # opened by the warm-up's first requests, before anything is measured
            async with opening:
                if not pools:
                    pools.append(await asyncpg.create_pool(dsn, min_size=10, max_size=20,
                                                           **settings.database_connect_args()))
        async with pools[0].acquire() as db, db.transaction():
            pass
        return _answer()

    app.add_api_route(FLOOR, floor, methods=["POST"], status_code=201, response_model=None,
                      include_in_schema=False)
    app.add_api_route(UNIT_OF_WORK, unit_of_work, methods=["POST"], status_code=201, response_model=None,
                      include_in_schema=False)
    app.add_api_route(ASYNCPG, on_asyncpg, methods=["POST"], status_code=201, response_model=None,
                      include_in_schema=False)
    return app


def main() -> None:
    settings = IntakeSettings()
    app = with_floor(create_app(settings), settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False,
                timeout_graceful_shutdown=20)


if __name__ == "__main__":
    main()
