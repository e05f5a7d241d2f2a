"""Rebuilding intake's projections from its store (the `rebuild-projections` verb) gives the
same tables, whatever happened to the cases."""

import asyncio
import os
import subprocess
import sys
from datetime import UTC, timedelta

from sqlalchemy import select
from sqlalchemy import text as sql
from sqlalchemy.engine import make_url

from services.intake.projections import REBUILT_TABLES, cases, checklist_versions, projection
from services.intake.tests.conftest import today
from services.intake.tests.test_deadlines import ASSIGNED, at
from services.intake.tests.test_handling import CHECKLIST, ENTRIES, MEETING_IN_FULL
from services.intake.tests.test_reassignment import SECOND
from shared.auth import Role
from shared.deps import get_clock
from shared.testing.auth import as_role
from shared.testing.rebuild import both_rebuilds, planned_rows


async def _a_bit_of_everything(intake_service) -> None:
    client = intake_service.client
    archived = await intake_service.register(criminal_stage="investigation")
    url = f"/api/v1/cases/{archived['case_id']}"
    await intake_service.assign(archived, at=ASSIGNED.astimezone(UTC))
    for entry in ENTRIES[:3]:
        await intake_service.record(archived["case_id"], entry)
    await client.post(f"{url}/reassignment-requests",
                      json={"request_id": "r", "category": "other", "reason": "x"})
    await client.post(f"{url}/reassignment-requests/r/acceptance", json={})
    await intake_service.assign(archived, SECOND, at=ASSIGNED.astimezone(UTC) + timedelta(days=3))
    # The rest of the record the closing check asks for, by the second handler.
    for entry in [ENTRIES[1], *ENTRIES[3:], MEETING_IN_FULL]:
        await intake_service.record(archived["case_id"], entry, author="lawyer-2")
    await client.post(f"{url}/closure", headers=intake_service.handler("lawyer-2"),
                      json={"outcome": "移送审查起诉", "ended_on": today()})
    await client.post(f"{url}/closing-file", headers=intake_service.handler("lawyer-2"),
                      json={"checklist": CHECKLIST})
    checklist = (await client.get("/api/v1/cases/closing-checklists/criminal")).json()
    items = {i["key"]: True for i in checklist["items"]}
    await client.post(f"{url}/closing-check", json={"items": {**items, "hearing": False}})
    await client.post(f"{url}/closing-check", json={"items": items})
    await client.post(f"{url}/closing-check/sign-off", json={})
    assert (await client.post(f"{url}/archive", json={})).status_code == 200
    # The agency's own version of a checklist (a projection of its own stream).
    staff = as_role(intake_service.app.state.settings, Role.agency_staff, sub="s",
                    agency_id="chaoyang-centre")
    seed = (await client.get("/api/v1/cases/closing-checklists/civil")).json()["items"]
    assert (await client.post("/api/v1/cases/closing-checklists/civil/versions", headers=staff,
                              json={"items": seed[::-1]})).status_code == 201
    await client.post(f"{url}/follow-ups", json={"visited_on": "2026-12-01", "channel": "visit",
                                                 "satisfaction": "basically_satisfied"})
    assert (await client.post(f"{url}/next-stage",
                              json={"criminal_stage": "prosecution_review"})).status_code == 201
    ended = await intake_service.register(case_kind="civil", criminal_stage=None, criminal_role=None)
    await intake_service.assign(ended)
    await client.post(f"/api/v1/cases/{ended['case_id']}/termination",
                      json={"reason": "aided_person_withdrew"})
    late = await intake_service.register()
    await intake_service.assign(late, at=ASSIGNED.astimezone(UTC))
    intake_service.app.dependency_overrides[get_clock] = at(ASSIGNED + timedelta(days=10))
    # The late case's first meeting and mandate, and the new handler's mandate too.
    assert (await client.post("/api/v1/worklist/sweep")).json()["recorded"] == 3


async def test_the_rebuild_projections_verb_gives_identical_tables(intake_service):
    await _a_bit_of_everything(intake_service)
    engine, settings = intake_service.app.state.engine, intake_service.app.state.settings

    async def table():
        async with engine.connect() as conn:
            rows = (await conn.execute(select(cases))).mappings().all()
            return sorted(map(dict, rows), key=lambda r: r["case_id"])

    async def versions():
        async with engine.connect() as conn:
            return (await conn.execute(select(checklist_versions))).mappings().all()

    before, versions_before = await table(), await versions()
    assert len(before) == 4 and len(versions_before) == 1
    assert {r["status"] for r in before} == {"archived", "registered", "terminated", "assigned"}
    async with engine.begin() as conn:
        await conn.execute(sql("UPDATE cases SET status = 'garbled', handler_name = NULL, "
                               "next_case_id = NULL"))
    env = {**os.environ, "FAYUAN_DATABASE_URL": settings.database_url,
           "FAYUAN_DATABASE_NAME": make_url(settings.sqlalchemy_url).database}
    done = await asyncio.to_thread(subprocess.run,
                                   [sys.executable, "-m", "services.intake", "rebuild-projections"],
                                   env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert await table() == before
    assert await versions() == versions_before


async def test_every_case_as_of_now_is_the_case_list_s_row(intake_service):
    await _a_bit_of_everything(intake_service)
    client = intake_service.client
    listed = (await client.get("/api/v1/cases")).json()["items"]
    assert len(listed) == 4
    for case in listed:
        folded = await client.get(f"/api/v1/cases/{case['case_id']}",
                                  params={"as_of": "2100-01-01T00:00:00+08:00"})
        assert folded.json() == case


async def test_the_batched_rebuild_leaves_the_tables_the_per_event_fold_leaves(intake_service):
    """The in-memory twins (the batched rebuild: rows held in memory, then COPY) against the SQL
    folds, over cases that were reassigned, recorded, checked twice, signed off, archived, followed
    up, taken to their next stage, terminated and swept for missed deadlines."""
    await _a_bit_of_everything(intake_service)
    engine = intake_service.app.state.engine
    one_by_one, batched, figures = await both_rebuilds(engine, projection, REBUILT_TABLES)
    assert figures.batched and figures.folded > 30
    assert [len(rows) for rows in one_by_one.values()] == [4, 1]
    assert {r["status"] for r in one_by_one["cases"]} == {"archived", "registered", "terminated", "assigned"}
    assert batched == one_by_one
    assert await planned_rows(engine, REBUILT_TABLES) == {"cases": 4, "closing_checklist_versions": 1}


def test_every_fold_of_the_projection_has_its_in_memory_twin():
    assert projection.batchable
