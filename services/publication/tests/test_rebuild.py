"""The batched rebuild (shared.projection.rebuild: the in-memory folds, then COPY) leaves
exactly the tables the per-event folds leave: closures, grades and payments noted, some of them
noted again later and earlier (the newer one wins)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from services.publication import handlers
from services.publication.app import MIGRATIONS
from services.publication.projections import REBUILT_TABLES, projection
from services.publication.settings import PublicationSettings
from shared.contracts import CaseClosed, EvaluationCompleted, SubsidyPaid
from shared.db import create_engine
from shared.testing.rebuild import both_rebuilds, planned_rows
from shared.uow import unit_of_work


def example(contract, **changes):
    data = contract.model_config["json_schema_extra"]["examples"][0] | changes
    return contract.model_validate(data)


async def test_the_batched_rebuild_leaves_the_tables_the_per_event_fold_leaves(migrated_settings):
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False)
    engine = create_engine(settings)
    try:
        for n in range(30):
            case_id = str(uuid.uuid4())
            closed = example(CaseClosed, case_id=case_id, case_number=f"FY-2026-{n:05d}")
            graded = example(EvaluationCompleted, case_id=case_id, evaluation_id=str(uuid.uuid4()),
                             case_number=closed.case_number)
            paid = example(SubsidyPaid, case_id=case_id, case_number=closed.case_number)
            notes = [(handlers.note_closure, closed), (handlers.note_grade, graded),
                     (handlers.note_payment, paid)]
            if n % 3 == 0:  # noted again: later (it wins), then earlier (it does not)
                notes += [(handlers.note_closure, closed.model_copy(update={
                              "closed_at": closed.closed_at + timedelta(days=2), "district": "海淀区"})),
                          (handlers.note_closure, closed.model_copy(update={
                              "closed_at": closed.closed_at - timedelta(days=2), "district": "西城区"}))]
            for note, event in notes:
                async with unit_of_work(engine, settings, projection) as uow:
                    await note(uow, event)
        one_by_one, batched, figures = await both_rebuilds(engine, projection, REBUILT_TABLES)
    finally:
        await engine.dispose()
    assert figures.batched and figures.folded >= 90
    assert [len(rows) for rows in one_by_one.values()] == [30, 30, 30]
    assert {r["district"] for r in one_by_one["closed_cases"]} >= {"海淀区"}
    assert batched == one_by_one
    assert await planned_rows(engine, REBUILT_TABLES) == {t.name: 30 for t in REBUILT_TABLES}


def test_every_fold_of_the_projection_has_its_in_memory_twin():
    assert projection.batchable
