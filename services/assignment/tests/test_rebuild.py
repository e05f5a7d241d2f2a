"""The batched rebuild (shared.projection.rebuild: the in-memory folds, then COPY) leaves
exactly the tables the per-event folds leave, on a history with every kind of event the
projection folds: registry, decisions, turns, a withdrawal, unavailability, a decline, a
termination, cases blocked (their candidates kept while blocked, not once ended)."""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime, timedelta

import asyncpg
from rich.progress import Progress

from bench.seed import BENCH_CAP, Size, _pools, history, raw_dsn, register_pools
from services.assignment import handlers
from services.assignment.app import MIGRATIONS, AssignmentSettings
from services.assignment.projections import METADATA, case_assignments, projection
from shared.contracts import CaseFlags, CaseKind, CaseRegistered, CaseTerminated
from shared.contracts.assignment import DeclineReason
from shared.db import create_engine
from shared.testing.rebuild import both_rebuilds
from shared.uow import UnitOfWork, unit_of_work


async def test_the_batched_rebuild_leaves_the_tables_the_per_event_fold_leaves(migrated_settings):
    settings = await migrated_settings(AssignmentSettings, MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False, monthly_case_cap=BENCH_CAP)
    size = Size("test", 120, 3, pool=4)
    with Progress(disable=True) as progress:
        await register_pools(settings, size, progress)
    pools = await _pools(settings, size)
    batches: list[list[tuple]] = []
    history(size, pools, until=datetime.now(UTC) - timedelta(days=1), on_batch=batches.append)
    db = await asyncpg.connect(raw_dsn(settings))
    try:
        for batch in batches:
            await db.copy_records_to_table("events", records=batch, columns=[
                "stream_id", "version", "event_id", "type", "data", "metadata", "recorded_at"])
    finally:
        await db.close()
    engine = create_engine(settings)

    def uow() -> AbstractAsyncContextManager[UnitOfWork]:
        return unit_of_work(engine, settings, projection)

    try:
        # Then the rotation's read model as the seed left it: a rebuild, so the live commands see it.
        await both_rebuilds(engine, projection, METADATA.sorted_tables)
        agency = "agency-0000"
        firm = pools[agency][0].institution_id
        handler = pools[agency][1].handler_id
        await handlers.record_unavailability(uow, handler, unavailable_from=date.today() + timedelta(days=3),
                                             unavailable_to=date.today() + timedelta(days=5))

        async def register(n: int) -> str:
            event = CaseRegistered(case_id=str(uuid.uuid4()), case_number=f"FY-REBUILD-{n}",
                                   case_kind=CaseKind.civil, cause="劳动争议", district="朝阳区",
                                   agency_id=agency,
                                   flags=CaseFlags(group_case=n == 3), adverse_party_hashes=[f"{n:064x}"],
                                   aided_person_hash=f"{n + 7:064x}", registered_at=datetime.now(UTC))
            async with uow() as unit:
                await handlers.assign_registered_case(unit, event)
            return event.case_id

        cases = [await register(n) for n in range(4)]
        async with engine.connect() as conn:
            assigned = dict((await conn.execute(case_assignments.select().with_only_columns(
                case_assignments.c.case_id, case_assignments.c.handler_id))).all())
        declined = next(c for c in cases if assigned[c] is not None)
        await handlers.decline_case(uow, declined, handler_id=assigned[declined],
                                    reason=DeclineReason.workload, explanation="本月承办案件已满负荷")
        await handlers.withdraw_commitment(uow, firm, withdrawn_on=date.today() - timedelta(days=2),
                                           reason="律师事务所退出法律援助服务")
        # The agency's whole pool is the firm's: no one may take a case now.
        blocked, ended = await register(4), await register(5)
        async with uow() as unit:
            await handlers.terminate_case(unit, CaseTerminated(
                case_id=ended, case_number="FY-REBUILD-5", agency_id=agency, reason="aided_person_withdrew",
                terminated_at=datetime.now(UTC)))

        one_by_one, batched, figures = await both_rebuilds(engine, projection, METADATA.sorted_tables)
    finally:
        await engine.dispose()

    assert figures.batched and figures.folded > 240
    assert {name: len(rows) for name, rows in batched.items()} == {
        name: len(rows) for name, rows in one_by_one.items()}
    assert len(one_by_one["case_assignments"]) == 126 and one_by_one["rotation_state"]
    rows = {r["case_id"]: r for r in one_by_one["case_assignments"]}
    assert rows[blocked]["status"] == "blocked" and len(rows[blocked]["candidates"]) == 4
    assert rows[ended]["status"] == "released"
    assert all(r["candidates"] == [] for r in rows.values() if r["status"] != "blocked")
    assert batched == one_by_one


def test_every_fold_of_the_projection_has_its_in_memory_twin():
    assert projection.batchable
