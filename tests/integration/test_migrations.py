"""Every service's migrations, as an operator runs them: a database migrated before a kernel table
existed gets it on the next `migrate`, and each service goes down to nothing and back up."""

import asyncio
import importlib
from pathlib import Path

import asyncpg
import pytest
from alembic import command

from shared.migrations import alembic_config
from shared.testing.fixtures import dsn

SERVICES = ["intake", "assignment", "evaluation", "sanctions", "publication"]
NEW_KERNEL_TABLES = ["personal_data_keys", "personal_data_reads"]


def migrations(service: str) -> Path:
    return Path(importlib.import_module(f"services.{service}").__file__).parent / "migrations"


async def tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


@pytest.mark.parametrize("service", SERVICES)
async def test_a_database_migrated_before_the_personal_data_tables_gets_them(
        service, fresh_database, make_settings, database_server_url):
    name = await fresh_database(service)
    settings = make_settings(database_name=name)
    config = alembic_config(migrations(service), settings.sqlalchemy_url)
    scripts = [p.stem for p in (migrations(service) / "versions").glob("*_kernel_personal_data.py")]
    if not scripts:  # intake's may come with its own numbering: say so rather than pass silently
        pytest.fail(f"{service} has no *_kernel_personal_data migration")
    kernel_revision = scripts[0].split("_")[0]
    # Up to the kernel migration only: the migrations after it run below, on the older database.
    await asyncio.to_thread(command.upgrade, config, kernel_revision)
    url = dsn(database_server_url, name)

    # The state of a database migrated before those tables: drop them and go back one revision
    # before the kernel migration (stamp, as the schema is otherwise that revision's).
    conn = await asyncpg.connect(url)
    await conn.execute(f"DROP TABLE {', '.join(NEW_KERNEL_TABLES)}")
    await conn.close()
    previous = f"{int(kernel_revision) - 1:04d}"
    await asyncio.to_thread(command.stamp, config, previous)

    await asyncio.to_thread(command.upgrade, config, "head")
    assert set(NEW_KERNEL_TABLES) <= await tables(url)

    await asyncio.to_thread(command.downgrade, config, "base")
    assert await tables(url) <= {"alembic_version"}
    await asyncio.to_thread(command.upgrade, config, "head")
    assert set(NEW_KERNEL_TABLES) <= await tables(url)


HELD_CASES_SNAPSHOTS_KEYS = ["parked_cases", "parked_events", "snapshots", "idempotency_keys"]


async def columns(url: str, table: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = $1", table)
        return {r["column_name"] for r in rows}
    finally:
        await conn.close()


@pytest.mark.parametrize("service", SERVICES)
async def test_a_database_migrated_before_held_cases_snapshots_and_keys_gets_them(
        service, fresh_database, make_settings, database_server_url):
    """The kernel's second wave (held cases behind a dead letter, snapshots, idempotency keys):
    a database migrated before it, as production's are, gets it on the next `migrate`."""
    from alembic.script import ScriptDirectory

    name = await fresh_database(service)
    settings = make_settings(database_name=name)
    config = alembic_config(migrations(service), settings.sqlalchemy_url)
    versions = migrations(service) / "versions"
    scripts = [p.stem for p in versions.glob("*_kernel_held_snapshot_keys.py")]
    assert scripts, f"{service} has no *_kernel_held_snapshot_keys migration"
    before = ScriptDirectory.from_config(config).get_revision(scripts[0]).down_revision
    await asyncio.to_thread(command.upgrade, config, before)
    url = dsn(database_server_url, name)
    # The state of a database migrated before them (0001 makes today's kernel tables; take them away).
    conn = await asyncpg.connect(url)
    await conn.execute(f"DROP TABLE {', '.join(HELD_CASES_SNAPSHOTS_KEYS)}")
    await conn.execute("ALTER TABLE dead_letters DROP COLUMN case_key, DROP COLUMN discarded_at")
    await conn.close()

    await asyncio.to_thread(command.upgrade, config, "head")
    assert set(HELD_CASES_SNAPSHOTS_KEYS) <= await tables(url)
    assert {"case_key", "discarded_at"} <= await columns(url, "dead_letters")
