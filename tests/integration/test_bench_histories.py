"""The histories `make bench-growth` seeds into evaluation's and sanctions' stores
(bench/evaluation_history.py, bench/sanctions_history.py) are ones the live folds take: rebuilt one
event at a time and in memory, they leave the same tables, a row for each thing seeded."""

from collections import Counter
from datetime import UTC, datetime

import asyncpg

from bench import evaluation_history, sanctions_history
from bench.seed import raw_dsn
from services.evaluation import projections as evaluation
from services.evaluation.app import MIGRATIONS as EVALUATION_MIGRATIONS
from services.evaluation.settings import EvaluationSettings
from services.sanctions import projections as sanctions
from services.sanctions.app import MIGRATIONS as SANCTIONS_MIGRATIONS
from services.sanctions.settings import SanctionsSettings
from shared.db import create_engine
from shared.testing.rebuild import both_rebuilds


async def _seeded(settings, history, cases: int, agencies: int) -> Counter:  # noqa: ANN001
    """The history COPYed into the store; how many events of each type."""
    batches: list[list[tuple]] = []
    history(cases, agencies, until=datetime.now(UTC), on_batch=batches.append)
    db = await asyncpg.connect(raw_dsn(settings))
    try:
        for batch in batches:
            await db.copy_records_to_table("events", records=batch, columns=[
                "stream_id", "version", "event_id", "type", "data", "metadata", "recorded_at"])
    finally:
        await db.close()
    return Counter(record[3] for batch in batches for record in batch)


async def _rebuilt(settings, projection, tables):  # noqa: ANN001, ANN202
    engine = create_engine(settings)
    try:
        one_by_one, batched, figures = await both_rebuilds(engine, projection, tables)
    finally:
        await engine.dispose()
    assert figures.batched
    assert batched == one_by_one
    return {name: len(rows) for name, rows in batched.items()}


async def test_evaluations_history_rebuilds_alike_one_at_a_time_and_in_memory(migrated_settings):
    settings = await migrated_settings(EvaluationSettings, EVALUATION_MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False)
    stored = await _seeded(settings, evaluation_history.history, 600, 4)
    rows = await _rebuilt(settings, evaluation.projection, evaluation.REBUILT_TABLES)
    assert rows["subsidies"] == stored["SubsidyComputed"] > 500
    assert rows["evaluations"] == stored["EvaluationCompleted"] > 20
    assert rows["review_assignments"] == stored["ReviewerGiven"]
    assert rows["corrections"] == stored["CorrectionRequested"] > 0
    assert rows["subsidy_schedule_versions"] == 4
    assert stored["SubsidyPaid"] and stored["SubsidyApproved"] and stored["CorrectionRecorded"]


async def test_sanctions_history_rebuilds_alike_one_at_a_time_and_in_memory(migrated_settings):
    settings = await migrated_settings(SanctionsSettings, SANCTIONS_MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False)
    stored = await _seeded(settings, sanctions_history.history, 4_000, 4)
    rows = await _rebuilt(settings, sanctions.projection, sanctions.REBUILT_TABLES)
    assert rows["investigations"] == stored["InvestigationOpened"] > 10
    assert rows["bar_notices"] == stored["BarNoticeIssued"] > 0
    assert rows["suspensions"] == stored["SuspensionDecided"] > 0
    assert rows["complaints"] == stored["ComplaintLodged"] > 0
    assert rows["investigation_notes"] == stored["NoteAdded"]
    assert stored["InvestigationClosed"] and stored["BarOutcomeRecorded"] and stored["HandlerReinstated"]
