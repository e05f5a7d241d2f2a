import asyncio
from datetime import UTC, datetime

import pytest

from shared import store
from shared.store import ConcurrencyError, NewEvent


async def test_append_then_load_returns_events_in_version_order(kernel_db):
    engine, _ = kernel_db
    async with engine.begin() as conn:
        recorded = await store.append(conn, "case-1", 0, [NewEvent("A", {"n": 1}), NewEvent("B", {"n": 2})])
    assert [r.version for r in recorded] == [1, 2]
    async with engine.connect() as conn:
        loaded = await store.load(conn, "case-1")
    assert [(e.type, e.data, e.version) for e in loaded] == [("A", {"n": 1}, 1), ("B", {"n": 2}, 2)]


async def test_append_at_a_stale_version_raises_concurrency_error_and_writes_nothing(kernel_db):
    engine, _ = kernel_db
    async with engine.begin() as conn:
        await store.append(conn, "case-1", 0, [NewEvent("A", {})])
    with pytest.raises(ConcurrencyError):
        async with engine.begin() as conn:
            await store.append(conn, "case-1", 0, [NewEvent("B", {})])
    async with engine.connect() as conn:
        assert [e.type for e in await store.load(conn, "case-1")] == ["A"]


async def test_load_as_of_a_time_folds_only_what_was_recorded_by_then(kernel_db):
    engine, _ = kernel_db
    async with engine.begin() as conn:
        await store.append(conn, "s", 0, [NewEvent("A", {})])
    await asyncio.sleep(0.01)
    between = datetime.now(UTC)
    await asyncio.sleep(0.01)
    async with engine.begin() as conn:
        await store.append(conn, "s", 1, [NewEvent("B", {})])
    async with engine.connect() as conn:
        assert [e.type for e in await store.load(conn, "s", as_of=between)] == ["A"]
        assert [e.type for e in await store.load(conn, "s")] == ["A", "B"]
