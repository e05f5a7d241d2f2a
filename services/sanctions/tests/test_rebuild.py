"""Rebuilding sanctions' read models from its store (`python -m services.sanctions rebuild`): every
read is the same afterwards, the duty record included (what sanctions heard from other services is
left, its own sanctions are written again), and the batched rebuild (in memory, then COPY) leaves
the tables the per-event one leaves."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.sanctions.projections import HEARD_TABLES, METADATA, REBUILT_TABLES, projection
from services.sanctions.tests.test_bar_outcomes_api import DISCIPLINE, chase, outcomes
from services.sanctions.tests.test_duty_records_api import YEAR, assigned, at, closed, graded
from services.sanctions.tests.test_investigations_api import LAWYER, evaluation_failed, investigation_of
from services.sanctions.tests.test_lifecycle_api import (
    AGENCY,
    COMPLAINT,
    ORGAN,
    heard,
    registration,
    service,  # noqa: F401 - the fixture
)
from shared.auth import Role
from shared.clock import local_date, now
from shared.contracts import CaseAssigned
from shared.testing.auth import as_role
from shared.testing.kafka import publish
from shared.testing.rebuild import both_rebuilds, contents, planned_rows


async def _a_bit_of_everything(service) -> list[str]:  # noqa: F811
    """A failed case investigated, decided with a suspension, closed and told to its organ; its bar
    notice chased and answered with a discipline; a suspension decided by hand and lifted; a
    complaint lodged, investigated and answered; a year's duty record published and a commendation
    list confirmed; beside what sanctions hears of other services' cases. The paths to read."""
    settings, app, client = service
    failure = evaluation_failed(LAWYER)
    await publish(settings, registration(failure.case_id, failure.case_number), source="/fayuan/intake")
    await publish(settings, failure, source="/fayuan/evaluation")
    heard_of = [assigned(LAWYER, at(3)), closed(LAWYER, at(6)), graded(LAWYER, "good", at(7)),
                graded(LAWYER, "excellent", at(5, YEAR - 1))]
    await publish(settings, *heard_of, source="/fayuan/test")
    opened = await investigation_of(client, failure)
    notice = opened["bar_notice"]
    assert await chase(app, now() + timedelta(days=400)) == 1

    investigator = as_role(settings, Role.bureau_investigator, sub="investigator-wang")
    path = f"/api/v1/investigations/{opened['investigation_id']}"
    decision: dict[str, Any] = {
        "violation": True, "measures": ["order_to_correct", "suspension_from_assignment"],
        "reasoning": "未履行会见职责", "suspension_scope": "agency", "suspension_months": 3}
    for step, body in (("assignment", {"assignee_id": "investigator-wang"}),
                       ("notes", {"text": "已调取卷宗"}),
                       ("evidence", {"reference": "朝司调〔2026〕17号-3", "description": "会见登记表复印件"}),
                       ("findings", {"findings": "未会见犯罪嫌疑人，属实"}), ("decision", decision)):
        done = await client.post(f"{path}/{step}", json=body, headers=investigator)
        assert done.status_code in (200, 201), done.text
    suspension_id = (await client.get(path)).json()["suspension_id"]
    assert (await client.post(f"{path}/closure", headers=investigator)).status_code == 200

    bar = as_role(settings, Role.bar_association)
    for answer in ({"outcome": "received"}, DISCIPLINE):
        assert (await client.post(outcomes(notice["notice_id"]), headers=bar, json=answer)).status_code == 201

    by_hand = await client.post("/api/v1/suspensions", headers=investigator, json={
        "handler_id": "lawyer-zhou", "reason": "多次无故拒绝指派", "months": 1, "scope": "city",
        "case_id": "case-zhou"})
    assert by_hand.status_code == 201, by_hand.text
    lifted = await client.post(f"/api/v1/suspensions/{by_hand.json()['suspension_id']}/reinstatement",
                               headers=investigator, json={"reason": "已完成整改"})
    assert lifted.status_code == 200, lifted.text

    case_id = str(uuid.uuid4())
    case_number = f"FY-2026-{case_id[:6]}"
    await publish(settings, registration(case_id, case_number, source_system=None), source="/fayuan/intake")
    await publish(settings, CaseAssigned(case_id=case_id, case_number=case_number, handler=LAWYER,
                                         method="rotation", assigned_at=datetime.now(UTC)),
                  source="/fayuan/assignment")
    await heard(app, 2 + len(heard_of) + 2)
    agency = as_role(settings, Role.agency_staff, agency_id=AGENCY)
    received = str(local_date(datetime.now(UTC)) - timedelta(days=1))
    lodged = await client.post("/api/v1/complaints", headers=agency,
                               json={"case_id": case_id, "received_on": received, "text": COMPLAINT})
    assert lodged.status_code == 201, lodged.text
    complaint = f"/api/v1/complaints/{lodged.json()['complaint_id']}"
    assert (await client.post(f"{complaint}/investigation")).status_code == 201
    assert (await client.post(f"{complaint}/answer", json={"answer": "已立案调查，结果将书面告知。"})
            ).status_code == 200

    assert (await client.post(f"/api/v1/duty-records/{YEAR - 1}/publication")).status_code == 201
    assert (await client.post(f"/api/v1/commendations/{YEAR - 1}/confirmation")).status_code == 201

    investigations = (await client.get("/api/v1/investigations")).json()["items"]
    assert len(investigations) == 2
    paths = ["/api/v1/investigations", "/api/v1/bar-notices", "/api/v1/bar-notices/unanswered",
             f"/api/v1/bar-notices/{notice['notice_id']}", "/api/v1/suspensions", "/api/v1/complaints",
             complaint, f"/api/v1/suspensions/{suspension_id}", f"/api/v1/duty-records/{YEAR}",
             f"/api/v1/duty-records/{YEAR - 1}", f"/api/v1/commendations/{YEAR - 1}",
             f"/api/v1/commendations/{YEAR}", "/api/v1/organ-reports"]
    for investigation in investigations:
        paths += [f"/api/v1/investigations/{investigation['investigation_id']}{part}"
                  for part in ("", "/notes", "/evidence")]
    return paths


async def _every_read(service, paths: list[str]) -> dict[str, Any]:  # noqa: F811
    settings, _, client = service
    bar = as_role(settings, Role.bar_association)
    organ = as_role(settings, Role.judicial_organ, institution_id=ORGAN)
    read: dict[str, Any] = {}
    for path in paths:
        headers = (organ if path.startswith("/api/v1/organ-reports")
                   else bar if path.startswith("/api/v1/duty-records") else {})
        response = await client.get(path, headers=headers)
        read[path] = (response.status_code, response.json())
    return read


async def test_the_rebuild_command_leaves_every_read_as_it_was(service):  # noqa: F811
    settings, app, _ = service
    paths = await _a_bit_of_everything(service)
    before = await _every_read(service, paths)
    li = next(line for line in before[f"/api/v1/duty-records/{YEAR}"][1]["lawyers"]
              if line["subject_id"] == LAWYER.handler_id)
    assert (li["counts"]["assigned"], li["counts"]["completed"], li["counts"]["sanctions"]) == (2, 1, 2)
    # Garbled, so that the rebuild must write them again: the folded tables, and the duty facts of
    # sanctions' own decisions (in a table it leaves, beside the facts it heard).
    async with app.state.engine.begin() as conn:
        await conn.execute(text("UPDATE investigations SET status = 'garbled', measures = '[]'"))
        await conn.execute(text("UPDATE bar_notices SET reminders_sent = 0, status = 'garbled'"))
        await conn.execute(text("DELETE FROM duty_facts WHERE kind = 'sanctioned'"))
    env = {**os.environ, "FAYUAN_DATABASE_URL": settings.database_url,
           "FAYUAN_DATABASE_NAME": make_url(settings.sqlalchemy_url).database}
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "services.sanctions", "rebuild"],
                                   env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert await _every_read(service, paths) == before


async def test_the_batched_rebuild_leaves_the_tables_the_per_event_fold_leaves(service):  # noqa: F811
    _, app, _ = service
    await _a_bit_of_everything(service)
    engine = app.state.engine
    kept = await contents(engine, HEARD_TABLES)
    assert sum(f["kind"] == "sanctioned" for f in kept["duty_facts"]) == 3
    one_by_one, batched, figures = await both_rebuilds(engine, projection, REBUILT_TABLES)
    assert figures.batched and figures.folded > 20
    assert batched == one_by_one
    assert all(one_by_one[t.name] for t in REBUILT_TABLES), "a table the flow never filled"
    assert await contents(engine, HEARD_TABLES) == kept
    assert await planned_rows(engine, REBUILT_TABLES) == {name: len(rows)
                                                          for name, rows in one_by_one.items()}


def test_a_rebuild_empties_only_what_the_store_fills():
    assert {t.name for t in HEARD_TABLES} == {"known_cases", "duty_facts"}
    assert {t.name for t in REBUILT_TABLES} == set(METADATA.tables) - {"known_cases", "duty_facts"}


def test_every_fold_of_the_projection_has_its_in_memory_twin():
    assert projection.batchable
