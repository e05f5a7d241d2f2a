"""The kernel's snapshots (shared/snapshot.py) through the unit of work, with a toy aggregate
whose stream grows without bound: a load from a snapshot equals the fold of the whole stream,
for random streams and snapshot intervals; the snapshot is taken in the append's transaction
(a rolled-back append leaves none); deleting every snapshot changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared import snapshot, store
from shared.aggregate import DomainEvent, Snapshotted
from shared.uow import unit_of_work


class Counted(DomainEvent):
    key: str
    amount: int


class Tally(Snapshotted):
    stream_prefix = "tally"
    snapshot_every = 3

    def __init__(self, id: str):
        super().__init__(id)
        self.totals: dict[str, int] = {}
        self.seen = 0

    def count(self, key: str, amount: int) -> None:
        self.record(Counted(key=key, amount=amount))

    def when_Counted(self, e: Counted) -> None:
        self.totals[e.key] = self.totals.get(e.key, 0) + e.amount
        self.seen += 1

    def snapshot_state(self) -> dict[str, Any]:
        return {"totals": self.totals, "seen": self.seen}

    def restore_state(self, state: dict[str, Any]) -> None:
        self.totals, self.seen = dict(state["totals"]), state["seen"]


Tally.handles(Counted)


async def whole_fold(engine, id: str) -> Tally:
    async with engine.connect() as conn:
        rows = await store.load(conn, Tally.stream_id(id))
    return Tally.fold(id, [(r.type, r.data, r.recorded_at) for r in rows])


def state(t: Tally) -> tuple[object, ...]:
    return t.version, t.totals, t.seen


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(st.tuples(st.sampled_from("abc"), st.integers(-5, 5)), min_size=1,
                                 max_size=4), max_size=12),
       every=st.integers(1, 5))
async def test_a_load_from_a_snapshot_equals_the_fold_of_the_whole_stream(kernel_db, batches, every):
    engine, settings_ = kernel_db
    Tally.snapshot_every = every
    id = str(uuid.uuid4())  # one database for every example: a stream of its own
    for batch in batches:
        async with unit_of_work(engine, settings_) as uow:
            tally = await uow.get(Tally, id)
            assert state(tally) == state(await whole_fold(engine, id))
            for key, amount in batch:
                tally.count(key, amount)
            await uow.save(tally)
    async with unit_of_work(engine, settings_) as uow:
        assert state(await uow.get(Tally, id)) == state(await whole_fold(engine, id))
    async with engine.connect() as conn:
        taken = await snapshot.load(conn, Tally, Tally.stream_id(id))
    total = sum(len(b) for b in batches)
    assert (taken is None) == (total < every)
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DELETE FROM snapshots")
    async with unit_of_work(engine, settings_) as uow:
        assert state(await uow.get(Tally, id)) == state(await whole_fold(engine, id))


async def test_a_rolled_back_append_leaves_no_snapshot(kernel_db):
    engine, settings_ = kernel_db
    Tally.snapshot_every = 2

    class Refused(Exception):
        pass

    try:
        async with unit_of_work(engine, settings_) as uow:
            tally = await uow.get(Tally, "t1")
            tally.count("a", 1)
            tally.count("b", 2)
            await uow.save(tally)
            raise Refused
    except Refused:
        pass
    async with engine.connect() as conn:
        assert await snapshot.load(conn, Tally, Tally.stream_id("t1")) is None
        assert await store.load(conn, Tally.stream_id("t1")) == []
