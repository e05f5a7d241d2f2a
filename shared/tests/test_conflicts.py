"""A command that PostgreSQL aborts for another's sake runs again (shared.uow.retry_on_conflict)."""

import asyncio

from shared.store import driver
from shared.uow import retry_on_conflict, unit_of_work


async def test_a_command_aborted_in_a_deadlock_runs_again_and_both_take_effect(kernel_db):
    engine, settings = kernel_db
    async with engine.begin() as conn:
        db = await driver(conn)
        await db.execute("CREATE TABLE counters (name text PRIMARY KEY, n int NOT NULL)")
        await db.execute("INSERT INTO counters VALUES ('a', 0), ('b', 0)")
    both_hold_their_first = asyncio.Barrier(2)
    attempts = {"a": 0, "b": 0}

    @retry_on_conflict
    async def count_both(first: str, second: str) -> None:
        # Each takes its first row's lock, then waits for the other's: PostgreSQL finds the
        # deadlock and aborts one of them.
        attempts[first] += 1
        async with unit_of_work(engine, settings) as uow:
            db = await driver(uow.conn)
            await db.execute("UPDATE counters SET n = n + 1 WHERE name = $1", first)
            if attempts[first] == 1:
                await both_hold_their_first.wait()
            await db.execute("UPDATE counters SET n = n + 1 WHERE name = $1", second)

    await asyncio.wait_for(asyncio.gather(count_both("a", "b"), count_both("b", "a")), timeout=60)

    assert sorted(attempts.values()) == [1, 2]  # one side was aborted, and ran again
    async with engine.connect() as conn:
        db = await driver(conn)
        assert dict(await db.fetch("SELECT name, n FROM counters")) == {"a": 2, "b": 2}
