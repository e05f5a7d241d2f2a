"""R-EVL-5 and termination: intake's FollowUpCompleted and CaseTerminated, through the broker,
as evaluation shows them over HTTP."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from services.evaluation.app import MIGRATIONS, EvaluationSettings, create_app
from services.evaluation.tests.test_evaluations_api import (
    HANDLER,
    case_closed,
    closed_and_known,
    evaluation_of,
    give,
    grade,
    reviewer,
)
from shared.contracts import CaseTerminated, FollowUpCompleted
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish


@pytest.fixture
async def service(migrated_settings):
    settings = await migrated_settings(EvaluationSettings, MIGRATIONS)
    app = create_app(settings)
    async with serve_in_process(app) as client:
        yield settings, app, client


def follow_up(case, n: int, satisfaction: str, visited_on: date) -> FollowUpCompleted:
    return FollowUpCompleted(case_id=case.case_id, case_number=case.case_number, case_kind=case.case_kind,
                             agency_id=case.agency_id, handler=HANDLER, follow_up_id=f"{case.case_id}-fu-{n}",
                             visited_on=visited_on, channel="phone", satisfaction=satisfaction,
                             recorded_at=datetime.now(UTC))


def terminated(case) -> CaseTerminated:
    return CaseTerminated(case_id=case.case_id, case_number=case.case_number, agency_id=case.agency_id,
                          handler=HANDLER, reason="own_lawyer_engaged", terminated_at=datetime.now(UTC))


async def _handled(app, count: int) -> None:
    async def done():
        async with app.state.engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM inbox"))).scalar_one() >= count
    await eventually(done)


async def test_the_aided_persons_satisfaction_is_part_of_the_quality_record(service):
    settings, app, client = service
    case = case_closed()
    # A follow-up during the case, then the closure, then one after it (told twice).
    await publish(settings, follow_up(case, 1, "dissatisfied", date(2026, 10, 1)), source="/fayuan/intake")
    await closed_and_known(service, case)
    later = follow_up(case, 2, "basically_satisfied", date(2026, 11, 5))
    await publish(settings, later, later, source="/fayuan/intake")
    await _handled(app, 4)
    [item] = (await client.get("/api/v1/cases/awaiting-evaluation")).json()["items"]
    assert item["satisfaction"] == "basically_satisfied"
    assert [(f["visited_on"], f["satisfaction"]) for f in item["follow_ups"]] == [
        ("2026-10-01", "dissatisfied"), ("2026-11-05", "basically_satisfied")]
    record = (await client.get(f"/api/v1/evaluations/quality-records/{case.case_id}")).json()
    assert record["awaiting_evaluation"] and record["evaluation"] is None and len(record["follow_ups"]) == 2

    graded = (await grade(service, case)).json()
    assert graded["satisfaction"] == "basically_satisfied" and len(graded["follow_ups"]) == 2
    record = (await client.get(f"/api/v1/evaluations/quality-records/{case.case_id}")).json()
    assert not record["awaiting_evaluation"]
    assert record["evaluation"]["evaluation_id"] == graded["evaluation_id"]
    listed = (await client.get("/api/v1/evaluations", params={"case_id": case.case_id})).json()["items"]
    assert listed[0]["satisfaction"] == "basically_satisfied"
    assert (await client.get("/api/v1/evaluations/quality-records/unknown")).status_code == 404


async def test_a_terminated_case_is_not_evaluated(service):
    settings, app, client = service
    kept, dropped, never = case_closed(), case_closed(), case_closed()
    await closed_and_known(service, kept)
    await closed_and_known(service, dropped)
    await publish(settings, terminated(dropped), terminated(never), never, source="/fayuan/intake")
    await _handled(app, 5)
    awaiting = (await client.get("/api/v1/cases/awaiting-evaluation")).json()
    assert [i["case_id"] for i in awaiting["items"]] == [kept.case_id] and awaiting["total"] == 1
    assert (await give(client, dropped)).status_code == 404
    refused = await client.post("/api/v1/evaluations", json=evaluation_of(dropped),
                                headers=reviewer(settings))
    assert refused.status_code == 404
