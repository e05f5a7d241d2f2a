"""Does a service's read model equal a rebuild from its store? Fold the service's `events` table,
through the service's own projection, into a fresh database migrated to head, and compare every
projection table's rows with the running database's (read in one snapshot with its events, so a
command committing meanwhile cannot make them differ).

Used by the fault run (tests/e2e/test_fault_run.py) for all five services; each also has a
rebuild of its own (`python -m services.<name> rebuild`, docs/operations.md section 8), which
folds the same way into the tables its store fills.
"""

from __future__ import annotations

import asyncio
import importlib
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

from devstack.stack import Stack
from shared.db import KERNEL_TABLES, create_engine
from shared.migrations import upgrade
from shared.settings import ServiceSettings
from shared.store import RecordedEvent, driver, from_jsonb
from shared.testing.fixtures import dsn

COLUMNS = "stream_id, version, event_id, type, data, metadata, recorded_at, position"


@dataclass
class Comparison:
    service: str
    events: int
    tables: dict[str, int]  # projection table compared -> its rows in the running database
    differences: dict[str, str]  # table -> what differs (empty: the read model equals the rebuild)
    # Tables the fold never writes but the running service filled: read models its consumers keep
    # from other services' integration events (their truth is the inbox, not this store).
    not_folded: list[str]


def _rows(records: list[Any]) -> list[str]:
    return sorted(json.dumps(dict(r), default=str, sort_keys=True, ensure_ascii=False) for r in records)


async def _snapshot(url: str, tables: list[str]) -> tuple[list[Any], dict[str, list[str]]]:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            events = await conn.fetch(f"SELECT {COLUMNS} FROM events ORDER BY position")  # noqa: S608
            rows = {t: _rows(await conn.fetch(f'SELECT * FROM "{t}"')) for t in tables}  # noqa: S608
    finally:
        await conn.close()
    return events, rows


async def compare_with_rebuild(stack: Stack, server_url: str, service: str) -> Comparison:
    """The service's projection tables against a fold of its store into a fresh database."""
    app = importlib.import_module(f"services.{service}.app")
    spec = app.SPEC
    source = f"{stack.database_prefix}_{service}"
    fresh = f"{source}_rebuilt"
    admin = await asyncpg.connect(dsn(server_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{fresh}"')
        await admin.execute(f'CREATE DATABASE "{fresh}"')
    finally:
        await admin.close()
    settings = ServiceSettings(service_name=service, database_url=server_url, database_name=fresh,
                               environment="dev", auth_dev_secret=stack.auth_dev_secret, log_json=False)
    await asyncio.to_thread(upgrade, settings, spec.migrations)
    fresh_conn = await asyncpg.connect(dsn(server_url, fresh))
    try:
        # The projection tables: the service's own list where it keeps one (intake's, which its
        # rebuild truncates), else every table of its own that migrations leave empty (tables
        # they fill, such as the working calendar, are reference data, not folded from events).
        projections = importlib.import_module(f"services.{service}.projections")
        declared = getattr(projections, "PROJECTION_TABLES", None)
        tables = [t.name for t in declared] if declared else [
            r["tablename"] for r in await fresh_conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            if r["tablename"] not in (*KERNEL_TABLES, "alembic_version")
            and not await fresh_conn.fetchval(f'SELECT EXISTS (SELECT FROM "{r["tablename"]}")')]  # noqa: S608
    finally:
        await fresh_conn.close()
    events, running = await _snapshot(dsn(server_url, source), tables)
    engine = create_engine(settings)
    try:
        for start in range(0, len(events), 500):
            async with engine.begin() as conn:
                db = await driver(conn)
                for row in events[start:start + 500]:
                    await db.execute(
                        f"INSERT INTO events ({COLUMNS}) "  # noqa: S608
                        "VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8)",
                        row["stream_id"], row["version"], row["event_id"], row["type"], row["data"],
                        row["metadata"], row["recorded_at"], row["position"])
                    await spec.projector(conn, RecordedEvent(
                        stream_id=row["stream_id"], version=row["version"], event_id=row["event_id"],
                        type=row["type"], data=from_jsonb(row["data"]), metadata=from_jsonb(row["metadata"]),
                        recorded_at=row["recorded_at"], position=row["position"]))
    finally:
        await engine.dispose()
    _, rebuilt = await _snapshot(dsn(server_url, fresh), tables)
    differences: dict[str, str] = {}
    not_folded = [t for t in tables if running[t] and not rebuilt[t]]
    tables = [t for t in tables if t not in not_folded]
    for table in tables:
        have, want = set(running[table]), set(rebuilt[table])
        if running[table] != rebuilt[table]:
            only_running = sorted(have - want)[:2]
            only_rebuilt = sorted(want - have)[:2]
            differences[table] = (f"{len(running[table])} rows, rebuilt {len(rebuilt[table])}; "
                                  f"only running: {only_running}; only rebuilt: {only_rebuilt}")
    return Comparison(service=service, events=len(events), tables={t: len(running[t]) for t in tables},
                      differences=differences, not_folded=not_folded)
