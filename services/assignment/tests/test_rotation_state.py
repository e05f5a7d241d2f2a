"""The rotation's stream grows by one event per case, so no decision folds it: it reads the
rotation from its read model (at the stream's version) or, on a full load, from the stream's
latest snapshot. Each way must decide as the fold of the whole stream would.

- pure: a snapshot's state, folded on, equals the whole fold; a decision on the part of the
  rotation a decision reads equals the decision on the whole fold;
- on PostgreSQL: the read model after random turns (by random writers, concurrently) is the part
  of the whole fold; the unit of work's load from a snapshot equals the fold of the whole stream;
  the migration fills the read model from a stream stored before it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.assignment import queries
from services.assignment.app import MIGRATIONS, AssignmentSettings
from services.assignment.domain import CaseAssignment, Rotation, TurnTaken
from services.assignment.domain.rotation import MonthNotRead
from services.assignment.projections import projection
from services.assignment.tests.test_domain import IN_FORCE, case
from services.assignment.tests.test_domain import candidate as make_candidate
from shared import snapshot, store
from shared.clock import local_month
from shared.contracts.assignment import AssignmentMethod
from shared.db import create_engine
from shared.uow import unit_of_work

START = datetime(2026, 1, 31, 15, 0, tzinfo=UTC)  # an hour before February begins in Beijing
HANDLERS = [f"h{i}" for i in range(6)]

# One turn: (case number, handler, group case, hours after START). Few cases, so a case takes
# several turns (reassignments) and some are told twice.
turns = st.lists(st.tuples(st.integers(0, 12), st.sampled_from(HANDLERS), st.booleans(),
                           st.integers(0, 2000)), max_size=60)


def fold(history: list[tuple[int, str, bool, int]]) -> Rotation:
    rotation = Rotation("a1")
    for n, handler_id, group_case, hours in sorted(history, key=lambda t: t[3]):
        rotation.take_turn(case_id=f"c{n}", handler_id=handler_id, method=AssignmentMethod.rotation,
                           group_case=group_case, at=START + timedelta(hours=hours))
    rotation.version, rotation.pending = len(rotation.pending), []
    return rotation


def part_of(whole: Rotation, month: str, case_ids: list[str]) -> Rotation:
    """What the read model holds of `whole` for a decision in `month` on `case_ids`."""
    return Rotation.part(whole.id, version=whole.version, turns=whole.turns, last_turn=whole.last_turn,
                         month=month, counts={h: n for (h, m), n in whole.monthly.items() if m == month},
                         case_turns=[(c, h) for c, h in whole.cases if c in case_ids])


def mid(month: str) -> datetime:
    return datetime.fromisoformat(f"{month}-15T04:00+08:00")


def state(rotation: Rotation) -> tuple[object, ...]:
    return rotation.version, rotation.turns, rotation.last_turn, rotation.monthly, rotation.cases


@settings(max_examples=150, deadline=None)
@given(history=turns, cut=st.integers(0, 60))
def test_folding_on_from_a_snapshot_equals_the_whole_fold(history, cut):
    ordered = sorted(history, key=lambda t: t[3])
    whole = fold(ordered)
    before = fold(ordered[:cut])
    # Through JSON, as the snapshots table keeps it.
    restored = Rotation.restored("a1", before.version, json.loads(json.dumps(before.snapshot_state())))
    assert state(restored) == state(before)
    for n, handler_id, group_case, hours in ordered[cut:]:
        restored.take_turn(case_id=f"c{n}", handler_id=handler_id, method=AssignmentMethod.rotation,
                           group_case=group_case, at=START + timedelta(hours=hours))
    restored.version += len(restored.pending)
    restored.pending = []
    assert state(restored) == state(whole)


@settings(max_examples=150, deadline=None)
@given(history=turns, n=st.integers(0, 13), hours=st.integers(0, 2000), cap=st.integers(1, 4),
       group_case=st.booleans())
def test_a_decision_on_the_part_read_equals_the_decision_on_the_whole_fold(history, n, hours, cap,
                                                                           group_case):
    whole = fold(history)
    at = START + timedelta(hours=hours)
    part = part_of(whole, local_month(at), [f"c{n}"])
    pool = [make_candidate(h, i, commitments=IN_FORCE) for i, h in enumerate(HANDLERS)]
    decided = []
    for rotation in (whole, part):
        assignment = CaseAssignment(f"c{n}")
        assignment.decide(case=case(f"c{n}", group_case=group_case), pool=pool, named=None,
                          rotation=rotation, at=at, monthly_cap=cap)
        chosen = assignment.decisions[-1]
        rotation_before = (rotation.turns, dict(rotation.last_turn))
        if hasattr(chosen, "handler"):
            rotation.take_turn(case_id=f"c{n}", handler_id=chosen.handler.handler_id,
                               method=AssignmentMethod.rotation, group_case=group_case, at=at)
        decided.append((chosen.model_dump(), rotation_before, [e.model_dump() for e in rotation.pending]))
    assert decided[0] == decided[1]


def test_a_part_read_for_one_month_refuses_to_answer_for_another():
    part = Rotation.part("a1", version=3, turns=3, last_turn={"h1": 3}, month="2026-11", counts={"h1": 2},
                         case_turns=[])
    assert part.cases_in("h1", "2026-11") == 2 and part.cases_in("h2", "2026-11") == 0
    with pytest.raises(MonthNotRead):
        part.cases_in("h1", "2026-12")


# --- on PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture
async def database(migrated_settings):
    app_settings = await migrated_settings(AssignmentSettings, MIGRATIONS, consumers_enabled=False,
                                           relay_enabled=False)
    db = create_engine(app_settings)
    yield db, app_settings
    await db.dispose()


async def take_turn(uow, agency: str, case_id: str, handler_id: str, group_case: bool, at: datetime) -> None:
    """A decision's write to the rotation, as the engine's handlers do it: read the part, take
    the turn, append at the version read (a concurrent writer conflicts and tries again)."""
    for _ in range(50):
        try:
            async with uow() as u:
                rotation = await queries.rotation(u.conn, agency, at=at, case_ids=[case_id])
                rotation.take_turn(case_id=case_id, handler_id=handler_id, method=AssignmentMethod.rotation,
                                   group_case=group_case, at=at)
                await u.save(rotation)
            return
        except store.ConcurrencyError:
            await asyncio.sleep(0.001)
    raise AssertionError("fifty conflicts in a row")


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(st.tuples(st.integers(0, 12), st.sampled_from(HANDLERS), st.booleans(),
                                  st.integers(0, 2000)), max_size=30))
async def test_the_read_model_is_the_part_of_the_whole_fold_after_concurrent_turns(database, history,
                                                                                    monkeypatch):
    db, app_settings = database
    monkeypatch.setattr(Rotation, "snapshot_every", 7)
    agency = f"agency-{uuid.uuid4().hex[:8]}"

    def uow():
        return unit_of_work(db, app_settings, projection)

    ordered = sorted(history, key=lambda t: t[3])
    # Four writers at once, each in the history's order: conflicts, retries, never a lost turn.
    writers = [ordered[i::4] for i in range(4)]

    async def write(share):
        for n, handler_id, group_case, hours in share:
            await take_turn(uow, agency, f"c{n}", handler_id, group_case, START + timedelta(hours=hours))

    await asyncio.gather(*(write(share) for share in writers))
    async with db.connect() as conn:
        rows = await store.load(conn, Rotation.stream_id(agency))
    whole = Rotation.fold(agency, [(r.type, r.data, r.recorded_at) for r in rows])
    async with uow() as u:
        loaded = await u.get(Rotation, agency)  # from its latest snapshot, if one was taken
        assert state(loaded) == state(whole)
        for month in sorted({local_month(START + timedelta(hours=t[3])) for t in history}) or ["2026-02"]:
            for n in range(13):
                read = await queries.rotation(u.conn, agency, at=mid(month), case_ids=[f"c{n}"])
                assert state(read) == state(part_of(whole, month, [f"c{n}"]))
    # Each writer appended what it decided: one turn per (case, handler), however often told.
    assert len(rows) == len({(n, h) for n, h, _, _ in history})


async def test_a_full_load_starts_from_the_latest_snapshot_and_ignores_one_of_another_shape(database,
                                                                                             monkeypatch):
    db, app_settings = database
    monkeypatch.setattr(Rotation, "snapshot_every", 4)
    agency = f"agency-{uuid.uuid4().hex[:8]}"

    def uow():
        return unit_of_work(db, app_settings, projection)

    for i in range(10):
        await take_turn(uow, agency, f"c{i}", HANDLERS[i % 3], False, START)

    async def stored():
        async with db.connect() as conn:
            taken = await snapshot.load(conn, Rotation, Rotation.stream_id(agency))
            rows = await store.load(conn, Rotation.stream_id(agency))
        return taken, Rotation.fold(agency, [(r.type, r.data, r.recorded_at) for r in rows])

    taken, whole = await stored()
    assert taken is None  # decisions read the read model and write no snapshot
    async with uow() as u:
        assert state(await u.get(Rotation, agency)) == state(whole)
    taken, _ = await stored()
    assert taken is not None and taken.version == 10  # the full load kept one: ten events since none
    # A snapshot that says otherwise than the events is what the load starts from: proof it reads
    # it, and folds only the events after it.
    async with db.begin() as conn:
        await (await store.driver(conn)).execute(
            "UPDATE snapshots SET state = jsonb_set(state, '{turns}', '99') WHERE stream_id = $1",
            Rotation.stream_id(agency))
    await take_turn(uow, agency, "c10", HANDLERS[0], False, START)
    async with uow() as u:
        assert (await u.get(Rotation, agency)).turns == 99 + 1
    # Of another shape (a later release changed the state): ignored, the stream folded whole.
    monkeypatch.setattr(Rotation, "snapshot_schema", "2")
    _, whole = await stored()
    async with uow() as u:
        assert state(await u.get(Rotation, agency)) == state(whole)


def _migration():
    path = MIGRATIONS / "versions" / "0006_rotation_state.py"
    spec = importlib.util.spec_from_file_location("rotation_state_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_migration_fills_the_read_model_from_the_streams_stored_before_it(database):
    db, _ = database
    agency = f"agency-{uuid.uuid4().hex[:8]}"
    history = [(i % 5, HANDLERS[i % 4], i % 3 == 0, i * 90) for i in range(40)]
    whole = fold(history)
    whole.id = agency
    stored: list[store.NewEvent] = []
    seen: set[tuple[str, str]] = set()
    for n, handler_id, group_case, hours in history:
        at = START + timedelta(hours=hours)
        if (f"c{n}", handler_id) in seen:
            continue
        seen.add((f"c{n}", handler_id))
        turn = TurnTaken(case_id=f"c{n}", handler_id=handler_id, method=AssignmentMethod.rotation,
                         month=local_month(at), counts_toward_cap=not group_case, taken_at=at)
        stored.append(store.NewEvent(type="TurnTaken", data=turn.model_dump(mode="json")))
    async with db.begin() as conn:  # the stream as a release before the read model stored it
        await store.append(conn, Rotation.stream_id(agency), 0, stored)
        for statement in _migration().STATEMENTS:
            await conn.exec_driver_sql(statement)
    async with db.connect() as conn:
        for month in sorted({m for (_, m) in whole.monthly}):
            for n in range(5):
                read = await queries.rotation(conn, agency, at=mid(month), case_ids=[f"c{n}"])
                assert state(read) == state(part_of(whole, month, [f"c{n}"]))
