"""The baseline registration is measured against: a bare FastAPI endpoint that parses the same
body and inserts one row through an asyncpg pool, nothing else (no event store, no outbox, no
projection, no middleware).

It runs as its own uvicorn process the way every service does (`shared.cli`: one process, the
same host, uvloop and httptools, no access log), on its own database of the same PostgreSQL,
so the ratio registration/bare prices what the kernel and intake add per case, not the server
or the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import uvicorn
from fastapi import FastAPI, Request
from pydantic import BaseModel
from sqlalchemy.engine import make_url

from devstack.embedded import free_port
from devstack.stack import ROOT

BARE_DATABASE = "fayuan_bench_bare"

TABLE = """
CREATE TABLE IF NOT EXISTS registrations (
    case_id    uuid        PRIMARY KEY,
    case_kind  text        NOT NULL,
    cause      text        NOT NULL,
    district   text        NOT NULL,
    agency_id  text        NOT NULL,
    body       jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""


class Registration(BaseModel):
    case_kind: str
    cause: str
    district: str
    agency_id: str
    flags: dict = {}
    aided_person: dict


async def prepare(admin_dsn: str, dsn: str, database: str) -> None:
    """Create the baseline's database and its one table (the bench calls this before serving)."""
    admin = await asyncpg.connect(admin_dsn)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(TABLE)
    finally:
        await conn.close()


def create_app(dsn: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The same ceiling of connections as a service's engine (pool 10 + overflow 10).
        app.state.pool = await asyncpg.create_pool(dsn, min_size=10, max_size=20)
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(title="bare baseline", lifespan=lifespan)

    @app.post("/api/v1/cases", status_code=201)
    async def register(body: Registration, request: Request) -> dict[str, str]:
        case_id = uuid.uuid4()
        async with request.app.state.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO registrations (case_id, case_kind, cause, district, agency_id, body) "
                "VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
                case_id, body.case_kind, body.cause, body.district, body.agency_id,
                json.dumps(body.model_dump(), ensure_ascii=False),
            )
        return {"case_id": str(case_id)}

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app


def _dsn(server_url: str, database: str) -> str:
    return make_url(server_url).set(drivername="postgresql", database=database).render_as_string(
        hide_password=False
    )


def start_bare_app(database_url: str, workdir: Path) -> tuple[subprocess.Popen, str]:
    """This app as a process of its own on its own database of the server at `database_url`
    (created first), ready; its log in `workdir`/logs/bare.log."""
    port = free_port()
    log = open(workdir / "logs" / "bare.log", "ab")  # noqa: SIM115 - the child owns it
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "bench.bare_app", "--port", str(port), "--database", BARE_DATABASE,
         "--dsn", _dsn(database_url, BARE_DATABASE), "--admin-dsn", _dsn(database_url, "postgres")],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the bare app exited with {process.returncode}; see {workdir}/logs/bare.log")
        try:
            if httpx.get(url + "/readyz", timeout=1.0).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError("the bare app is not ready after 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True, help="asyncpg DSN of the baseline's own database")
    parser.add_argument("--admin-dsn", help="when given, create the database and table first")
    parser.add_argument("--database", default="fayuan_bench_bare")
    args = parser.parse_args()
    if args.admin_dsn:
        asyncio.run(prepare(args.admin_dsn, args.dsn, args.database))
    uvicorn.run(create_app(args.dsn), host="127.0.0.1", port=args.port, log_config=None, access_log=False,
                timeout_graceful_shutdown=20)


if __name__ == "__main__":
    main()
