import asyncio
from datetime import UTC, datetime

import pytest

from shared import store
from shared.aggregate import Aggregate, DomainEvent
from shared.store import ConcurrencyError, NewEvent
from shared.tests.helpers import Noted
from shared.uow import retry_on_conflict, unit_of_work


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


async def test_concurrent_appends_at_the_same_expected_version_exactly_one_wins(kernel_db):
    engine, _ = kernel_db
    async with engine.begin() as conn:
        await store.append(conn, "case-9", 0, [NewEvent("Registered", {})])

    async def writer(n: int) -> int:
        async with engine.begin() as conn:
            await store.append(conn, "case-9", 1, [NewEvent("Noted", {"writer": n})])
        return n

    results = await asyncio.gather(*(writer(n) for n in range(12)), return_exceptions=True)

    winners = [r for r in results if isinstance(r, int)]
    assert len(winners) == 1
    assert all(isinstance(r, ConcurrencyError) for r in results if not isinstance(r, int))
    async with engine.connect() as conn:
        loaded = await store.load(conn, "case-9")
    assert [(e.version, e.data) for e in loaded] == [(1, {}), (2, {"writer": winners[0]})]


class Tallied(DomainEvent):
    by: str


class Tally(Aggregate):
    """A tiny aggregate for the kernel's tests: counts who tallied."""

    stream_prefix = "tally"

    def __init__(self, id: str):
        super().__init__(id)
        self.marks: list[str] = []

    def tally(self, by: str) -> None:
        self.record(Tallied(by=by))

    def when_Tallied(self, event: Tallied) -> None:
        self.marks.append(event.by)


Tally.handles(Tallied)


async def test_a_command_that_loses_the_race_is_retried_on_fresh_state_and_succeeds(kernel_db):
    engine, settings = kernel_db
    async with unit_of_work(engine, settings) as uow:
        first = Tally("t1")
        first.tally("setup")
        await uow.save(first)
    both_loaded = asyncio.Barrier(2)
    attempts: list[tuple[str, int]] = []

    @retry_on_conflict
    async def tally(by: str) -> Tally:
        async with unit_of_work(engine, settings) as uow:
            tally = await uow.get(Tally, "t1")
            attempts.append((by, tally.version))
            if len(attempts) <= 2:
                await both_loaded.wait()  # both commands decided on version 1
            tally.tally(by)
            await uow.save(tally)
            return tally

    results = await asyncio.gather(tally("a"), tally("b"))

    assert sorted(len(r.marks) for r in results) == [2, 3]
    assert len(attempts) == 3 and attempts[2][1] == 2  # the loser ran again, on version 2
    async with unit_of_work(engine, settings) as uow:
        final = await uow.get(Tally, "t1")
    assert final.version == 3
    assert final.marks[0] == "setup" and sorted(final.marks[1:]) == ["a", "b"]


async def test_append_outbox_and_projection_commit_together_or_not_at_all(kernel_db):
    """The kernel speaks asyncpg under SQLAlchemy's transaction; a failure after the append
    must leave no event and no outbox row behind."""
    engine, settings = kernel_db

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with unit_of_work(engine, settings) as uow:
            tally = Tally("t2")
            tally.tally("nobody")
            await uow.save(tally)
            uow.emit(Noted(stream="t2", n=1))
            await uow.flush()
            raise Boom
    async with engine.connect() as conn:
        db = await store.driver(conn)
        assert await db.fetchval("SELECT count(*) FROM events") == 0
        assert await db.fetchval("SELECT count(*) FROM outbox") == 0


async def test_a_command_that_always_loses_the_race_gives_up_after_five_attempts():
    attempts = 0

    @retry_on_conflict
    async def always_late() -> None:
        nonlocal attempts
        attempts += 1
        raise ConcurrencyError("t1", attempts)

    with pytest.raises(ConcurrencyError):
        await always_late()
    assert attempts == 5


async def test_events_and_outbox_rows_written_one_after_another_get_ids_in_the_same_order(kernel_db):
    # Time-ordered event ids (UUID version 7, shared/ids.py): the unique indexes on the store's and
    # the outbox's event_id take each new event at their edge, not on a random page of a national
    # year's index (docs/benchmarks.md "Growth").
    engine, settings = kernel_db
    for n in range(5):
        async with unit_of_work(engine, settings) as uow:
            await store.append(uow.conn, f"case-{n}", 0, [NewEvent("A", {}), NewEvent("B", {})])
            uow.emit(Noted(stream=f"case-{n}", n=n))
    async with engine.connect() as conn:
        db = await store.driver(conn)
        stored = [r["event_id"] for r in await db.fetch("SELECT event_id FROM events ORDER BY position")]
        queued = [r["event_id"] for r in await db.fetch("SELECT event_id FROM outbox ORDER BY position")]
    for ids in (stored, queued):
        assert all(event_id.version == 7 for event_id in ids)
        assert sorted(ids) == ids and len(set(ids)) == len(ids)
    assert len(stored) == 10 and len(queued) == 5
