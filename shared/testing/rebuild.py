"""For each service's test that its batched rebuild (in memory, then COPY) leaves exactly the
tables the per-event fold leaves: both rebuilds, then every row of every table compared."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.projection import Projection, Rebuilt, rebuild


async def contents(engine: AsyncEngine, tables: Sequence[Table]) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in primary-key order (all columns when there is none)."""
    found: dict[str, list[dict[str, Any]]] = {}
    async with engine.connect() as conn:
        for table in tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = (await conn.execute(select(table).order_by(*order))).mappings().all()
            found[table.name] = [dict(r) for r in rows]
    return found


async def both_rebuilds(engine: AsyncEngine, projection: Projection, tables: Sequence[Table]
                        ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]], Rebuilt]:
    """The tables after a per-event rebuild and after a batched one (and the batched one's figures).
    The batched one builds every table's indexes after its COPY, as a national store's large
    tables get them (shared.projection.BULK_ROWS), and must leave every index and key as it was."""
    await rebuild(engine, projection, tables, batched=False)
    one_by_one = await contents(engine, tables)
    before = await indexes(engine, tables)
    batched = await rebuild(engine, projection, tables, batched=True, page=97, bulk_rows=1)
    after = await indexes(engine, tables)
    assert after == before, f"the rebuild changed the tables' indexes or keys: {before} became {after}"
    return one_by_one, await contents(engine, tables), batched


async def indexes(engine: AsyncEngine, tables: Sequence[Table]) -> list[tuple[str, str, str]]:
    """Every index of the tables, and every constraint, as PostgreSQL would write them again."""
    async with engine.connect() as conn:
        rows = await conn.execute(text(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(:names) "
            "UNION ALL SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid = ANY(CAST(:names AS text[])::regclass[]) ORDER BY 1, 2, 3"),
            {"names": [t.name for t in tables]})
        return [tuple(r) for r in rows]


async def planned_rows(engine: AsyncEngine, tables: Sequence[Table]) -> dict[str, int]:
    """The rows the planner believes each table holds (`pg_class.reltuples`, which ANALYZE sets;
    -1 or 0 when the table was emptied and never analyzed since)."""
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(:names) "
                                       "AND relkind = 'r'"), {"names": [t.name for t in tables]})
        return {name: int(tuples) for name, tuples in rows}
