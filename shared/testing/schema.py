"""Does a service's migrated database have the tables its SQLModel classes declare?

Each table is written twice, once as a SQLModel class (what the code reads and writes) and
once as DDL in a migration (what the database has); this compares the two with Alembic's own
autogenerate comparison, so a column, type, nullability, index or constraint that one has and
the other lacks is a failing test, not a surprise in production. The kernel's tables
(shared/db.py) are left out: their DDL is written once, in the kernel.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, String, Text
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from shared.db import KERNEL_TABLES, create_engine
from shared.migrations import upgrade
from shared.settings import ServiceSettings

_LEFT_OUT = set(KERNEL_TABLES) | {"alembic_version"}


def _compare_type(context: Any, inspected_column: Any, metadata_column: Any, inspected_type: Any,
                  metadata_type: Any) -> bool | None:
    # SQLModel declares `str` as a VARCHAR without length, the migrations write `text`: in
    # PostgreSQL they are the same type. Everything else by Alembic's own rules (None).
    unbounded = (Text, String)
    if isinstance(metadata_type, TypeDecorator):  # SQLModel's AutoString wraps a String
        metadata_type = metadata_type.impl_instance
    if (isinstance(metadata_type, unbounded) and getattr(metadata_type, "length", None) is None
            and isinstance(inspected_type, unbounded) and getattr(inspected_type, "length", None) is None):
        return False
    return None


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table not in _LEFT_OUT


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    return not (type_ == "table" and name in _LEFT_OUT)  # not even reflected


def _differences(conn: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(conn, opts={
        "compare_type": _compare_type, "include_object": _include, "include_name": _include_name})
    return list(compare_metadata(context, metadata))


async def schema_differences(settings: ServiceSettings, metadata: MetaData, migrations: Path) -> list[Any]:
    """Migrate the settings' database to head, then list what differs between it and `metadata`
    (Alembic's diff tuples: `("add_column", ...)` means the code has a column the database lacks)."""
    await asyncio.to_thread(upgrade, settings, migrations)
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_differences, metadata)
    finally:
        await engine.dispose()
