"""Idempotency-Key on intake's POSTs (shared/idempotency.py), and concurrent commands on one case:
a retry answers the first answer without recording again, another request under the same key
is refused naming the header, and concurrent commands never lose an event."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from services.intake.tests.test_handling import ENTRIES
from shared import idempotency


async def _events(app, case_id: str) -> int:
    async with app.state.engine.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM events WHERE stream_id = :s"),
                                   {"s": f"case-{case_id}"})).scalar_one()


async def _assigned_case(intake_service) -> tuple[dict, str]:
    case = await intake_service.register()
    await intake_service.assign(case)
    return case, f"/api/v1/cases/{case['case_id']}/record"


def _entry(entry: dict) -> dict:
    return {"occurred_at": "2026-11-20T09:00:00+08:00", "entry": entry}


async def test_a_retry_with_the_same_key_answers_the_first_answer_and_records_nothing(intake_service):
    client, app = intake_service.client, intake_service.app
    case, url = await _assigned_case(intake_service)
    headers = {**intake_service.handler(), "Idempotency-Key": "rec-7f3a"}
    first = await client.post(url, json=_entry(ENTRIES[2]), headers=headers)
    assert first.status_code == 201, first.text
    recorded = await _events(app, case["case_id"])
    # The same JSON, spaced and ordered otherwise, is the same request.
    respaced = json.dumps({"entry": {"notes": ENTRIES[2]["notes"], "kind": "file_review"},
                           "occurred_at": "2026-11-20T09:00:00+08:00"}, indent=2).encode()
    again = await client.post(url, content=respaced, headers={**headers, "content-type": "application/json"})
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await _events(app, case["case_id"]) == recorded
    # Without the key, the same request is another command.
    fresh = await client.post(url, json=_entry(ENTRIES[2]), headers=intake_service.handler())
    assert fresh.status_code == 201
    assert await _events(app, case["case_id"]) == recorded + 1


async def test_the_same_key_with_another_request_is_a_problem_naming_the_header(intake_service):
    client, app = intake_service.client, intake_service.app
    case, url = await _assigned_case(intake_service)
    headers = {**intake_service.handler(), "Idempotency-Key": "rec-1"}
    assert (await client.post(url, json=_entry(ENTRIES[2]), headers=headers)).status_code == 201
    recorded = await _events(app, case["case_id"])
    other = await client.post(url, json=_entry(ENTRIES[3]), headers=headers)
    assert other.status_code == 422 and other.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in other.json()["errors"]] == ["header.Idempotency-Key"]
    assert "Idempotency-Key" in other.json()["detail"]
    assert await _events(app, case["case_id"]) == recorded
    # A key is the caller's: another caller's same key is its own (here: another handler, 404).
    assert (await client.post(url, json=_entry(ENTRIES[3]), headers={
        **intake_service.handler("lawyer-2"), "Idempotency-Key": "rec-1"})).status_code == 404
    # A key that is not printable ASCII is refused, naming the header.
    bad = await client.post(url, json=_entry(ENTRIES[3]), headers={**intake_service.handler(),
                                                                   "Idempotency-Key": "x" * 201})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "header.Idempotency-Key"


async def test_a_refused_request_keeps_no_answer_so_its_key_can_be_sent_again(intake_service):
    client = intake_service.client
    case = await intake_service.register()
    url = f"/api/v1/cases/{case['case_id']}/record"
    headers = {**intake_service.handler(), "Idempotency-Key": "rec-early"}
    early = await client.post(url, json=_entry(ENTRIES[2]), headers=headers)
    assert early.status_code == 404  # nobody's handler yet
    await intake_service.assign(case)
    assert (await client.post(url, json=_entry(ENTRIES[2]), headers=headers)).status_code == 201


async def test_concurrent_retries_of_one_key_run_the_command_once(intake_service):
    client, app = intake_service.client, intake_service.app
    case, url = await _assigned_case(intake_service)
    before = await _events(app, case["case_id"])
    headers = {**intake_service.handler(), "Idempotency-Key": "rec-burst"}
    answers = await asyncio.gather(*(client.post(url, json=_entry(ENTRIES[2]), headers=headers)
                                     for _ in range(6)))
    # One runs; each other one is either its replay or a 409 problem (still running), never a second run.
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409} and 201 in statuses, statuses
    for answer in answers:
        if answer.status_code == 409:
            assert answer.headers["retry-after"] == "1"
            assert answer.json()["errors"][0]["field"] == "header.Idempotency-Key"
    assert await _events(app, case["case_id"]) == before + 1


async def test_concurrent_different_commands_on_one_case_all_land(intake_service):
    client, app = intake_service.client, intake_service.app
    case, url = await _assigned_case(intake_service)
    timeline = f"/api/v1/cases/{case['case_id']}/timeline"
    before = await _events(app, case["case_id"])
    shown = len((await client.get(timeline)).json())
    entries = [ENTRIES[2], ENTRIES[3], ENTRIES[5], ENTRIES[6], {**ENTRIES[2], "notes": "第二次阅卷"},
               {**ENTRIES[6], "subject": "庭后沟通"}]
    answers = await asyncio.gather(*(client.post(url, json=_entry(e), headers=intake_service.handler())
                                     for e in entries))
    # Each one lands (the store's optimistic concurrency runs the loser again) or is a 409 problem.
    landed = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    assert all(a.status_code == 409 and a.headers["content-type"] == "application/problem+json"
               for a in refused), [a.text for a in refused]
    assert landed
    assert await _events(app, case["case_id"]) == before + len(landed)
    assert len((await client.get(timeline)).json()) == shown + len(landed)


async def test_keys_older_than_their_time_are_purged(intake_service):
    client, app = intake_service.client, intake_service.app
    _, url = await _assigned_case(intake_service)
    headers = {**intake_service.handler(), "Idempotency-Key": "rec-old"}
    assert (await client.post(url, json=_entry(ENTRIES[2]), headers=headers)).status_code == 201
    hours = app.state.settings.idempotency_key_hours
    await idempotency.purge_tick(app, datetime.now(UTC) + timedelta(hours=hours) - timedelta(minutes=1))
    assert (await client.post(url, json=_entry(ENTRIES[2]), headers=headers)).headers.get(
        "idempotent-replayed") == "true"
    await idempotency.purge_tick(app, datetime.now(UTC) + timedelta(hours=hours, minutes=1))
    async with app.state.engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM idempotency_keys"))).scalar_one() == 0
    # Purged, the key is new again: the same request runs as a new command.
    again = await client.post(url, json=_entry(ENTRIES[2]), headers=headers)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
