"""Alembic, one history per service (services/<name>/migrations/), run through the async engine.

Each service's `migrations/env.py` is two lines: it calls `run_env()` with the service's
SQLModel metadata. `upgrade()` creates the service's database when it is missing, then
migrates it to head; `pending()` tells readiness whether the database is behind the code.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

# asyncpg ships no type information (no py.typed, no stubs): its objects are Any here.
import asyncpg  # type: ignore[import-untyped]
from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from shared.settings import ServiceSettings


def alembic_config(script_location: Path, url: str, connect_args: dict[str, object] | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    # TLS settings reach env.py's engine this way: an SSLContext cannot travel in the URL.
    config.attributes["connect_args"] = connect_args or {}
    return config


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    u = make_url(url).set(drivername="postgresql")
    if database:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


async def ensure_database(settings: ServiceSettings) -> None:
    """CREATE DATABASE for the service when it does not exist yet (dev, tests, first deploy)."""
    name = make_url(settings.sqlalchemy_url).database
    conn = await asyncpg.connect(_asyncpg_dsn(settings.database_url, "postgres"),
                                 **settings.database_connect_args())
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.DuplicateDatabaseError:
                pass
    finally:
        await conn.close()


def upgrade(settings: ServiceSettings, script_location: Path) -> None:
    """Create the database if needed and migrate it to head (blocking; run it in a thread)."""
    asyncio.run(ensure_database(settings))
    config = alembic_config(script_location, settings.sqlalchemy_url, settings.database_connect_args())
    command.upgrade(config, "head")


async def pending(conn: AsyncConnection, script_location: Path) -> bool:
    """True when the database is not at the head revision the code expects."""
    head = ScriptDirectory.from_config(alembic_config(script_location, "")).get_current_head()

    def current(sync_conn: Connection) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()

    return await conn.run_sync(current) != head


def run_env(target_metadata: MetaData | None = None) -> None:
    """Body of every service's migrations/env.py (online mode, asyncpg)."""

    def do_run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        url = context.config.get_main_option("sqlalchemy.url")
        if url is None:  # alembic_config always sets it
            raise RuntimeError("the Alembic configuration has no sqlalchemy.url")
        engine = create_async_engine(url, poolclass=pool.NullPool,
                                     connect_args=context.config.attributes.get("connect_args", {}))
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    asyncio.run(run_async())
