"""Rebuilding evaluation's read models from its store (`python -m services.evaluation rebuild`):
every read is the same afterwards, what came from intake's events included, and the batched
rebuild (in memory, then COPY) leaves the tables the per-event one leaves."""

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.evaluation.domain import seed_for
from services.evaluation.projections import (
    HEARD_TABLES,
    METADATA,
    REBUILT_TABLES,
    SEEDED_TABLES,
    projection,
)
from services.evaluation.tests.test_evaluations_api import (
    HANDLER,
    REVIEWER,
    case_closed,
    closed_and_known,
    evaluation_of,
    grade,
    reviewer,
)
from services.evaluation.tests.test_quality_dimensions import (
    PERIOD,
    city_bureau,
    organ,
    quality_lead,
    registered,
    service,  # noqa: F401 - the fixture
)
from services.evaluation.tests.test_quality_record import follow_up, terminated
from services.evaluation.tests.test_rounds import QUALIFIED, open_round, reading, register_pool
from services.evaluation.tests.test_subsidies import (
    OTHER_FIRM_HANDLER,
    VERSION,
    computed,
    finance,
    grade_fail,
)
from services.evaluation.tests.test_subsidies import registered as registered_for_subsidy
from shared import clock
from shared.auth import Role
from shared.contracts import CaseKind, DeadlineMissed
from shared.contracts.intake import CriminalStage
from shared.testing.auth import as_role
from shared.testing.kafka import eventually, publish
from shared.testing.rebuild import both_rebuilds, contents, planned_rows

AGENCY = "chaoyang-centre"


async def _handled(app, kind: str, count: int) -> None:
    """Wait until the consumers handled `count` events whose type names `kind`."""
    async def done():
        async with app.state.engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM inbox WHERE type LIKE :t"),
                                       {"t": f"%{kind}%"})).scalar_one() >= count
    await eventually(done)


async def _a_bit_of_everything(service) -> dict[str, list[str]]:  # noqa: F811
    """A round (a fail re-read, a result disputed, closed), cases graded by hand, subsidies computed,
    paid and cut after a fail, a correction made, opinions, a follow-up, a termination, a late file,
    an agency's grading rule, an expert updated and a standard's new edition; the ids to read."""
    settings, app, client = service
    await register_pool(client)
    moved = {**QUALIFIED["expert-5"], "institution_name": "北京己律师事务所（更名）"}
    assert (await client.put("/api/v1/experts/expert-5", json=moved)).status_code == 200

    # The round first: its draw takes every closed case of the period not given by hand.
    drawn = [await closed_and_known(service, case_closed()) for _ in range(2)]
    round_ = await open_round(client, seed="rebuild-round")
    files = (await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/files")).json()["items"]
    failing, disputed = files
    url = f"/api/v1/review-files/{failing['file_id']}/readings"
    first = failing["readers"][0]["reviewer_id"]
    assert (await client.post(url, json=reading("good", fail=True), headers=reviewer(settings, first))
            ).status_code == 201
    after = (await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/files")).json()["items"][0]
    re_readers = [r["reviewer_id"] for r in after["readers"] if r["stage"] == "re-read"]
    for rid, body in zip(re_readers, (reading("good", fail=True), reading("excellent")), strict=True):
        assert (await client.post(url, json=body, headers=reviewer(settings, rid))).status_code == 201
    url = f"/api/v1/review-files/{disputed['file_id']}/readings"
    only = disputed["readers"][0]["reviewer_id"]
    assert (await client.post(url, json=reading("excellent"), headers=reviewer(settings, only))
            ).status_code == 201
    again = await client.post(f"/api/v1/review-files/{disputed['file_id']}/disputes",
                              json={"reason": "承办律师补正了会见笔录"})
    assert again.status_code == 201, again.text
    for r in again.json()["readers"]:
        if r["stage"] != "first":
            assert (await client.post(url, json=reading("good"), headers=reviewer(settings, r["reviewer_id"]))
                    ).status_code == 201
    assert (await client.post(f"/api/v1/evaluation-rounds/{round_['round_id']}/closure")).status_code == 200

    # Another agency's grading rule (this agency's cases keep the default).
    assert (await client.put("/api/v1/grading-rules/agencies/haidian-centre",
                             headers=quality_lead(settings, "haidian-centre"),
                             json={"rule_version": "points-90-80-60", "reason": "区局通知：百分制"})
            ).status_code == 200

    # Subsidies: the agency's schedule version, one paid and then failed (recovery), one failed
    # before its approval (reduced by the version's rule).
    assert (await client.post(f"/api/v1/subsidy-schedules/{AGENCY}/versions", json=VERSION,
                              headers=finance(settings))).status_code == 201
    paid = registered_for_subsidy(stage=CriminalStage.investigation)
    await computed(service, paid)
    steps: list[tuple[str, dict[str, str] | None]] = [
        ("approval", None), ("payment", {"paid_on": "2026-11-25", "payment_reference": "CZ-9"})]
    for action, sent in steps:
        assert (await client.post(f"/api/v1/subsidies/{paid.case_id}/{action}", json=sent,
                                  headers=finance(settings))).status_code == 200
    await grade_fail(service, paid)
    reduced = registered_for_subsidy(stage=CriminalStage.investigation)
    await computed(service, reduced, OTHER_FIRM_HANDLER)
    await grade_fail(service, reduced, OTHER_FIRM_HANDLER)

    # Graded by hand with a pass: a correction, made by the handler.
    corrected = await closed_and_known(service, case_closed())
    indicators = evaluation_of(corrected)["indicators"] | {"meeting": "pass"}
    graded = (await grade(service, corrected, indicators=indicators)).json()

    async def asked():
        items = (await client.get("/api/v1/corrections", params={"limit": 100})).json()["items"]
        return [i for i in items if i["correction_id"] == graded["evaluation_id"]]

    await eventually(asked)
    handler = as_role(settings, Role.case_handler, handler_id=HANDLER.handler_id, sub="user-lawyer-li")
    assert (await client.post(f"/api/v1/corrections/{graded['evaluation_id']}/correction",
                              json={"note": "补充会见笔录"}, headers=handler)).status_code == 200

    # Intake's registration, follow-up and closure, and the organs' opinions; a terminated case;
    # a late closing file.
    heard = case_closed()
    await publish(settings, registered(heard, source_system="chaoyang-procuratorate"),
                  follow_up(heard, 1, "satisfied", datetime(2026, 11, 5).date()), source="/fayuan/intake")
    await closed_and_known(service, heard)
    opinion = {"case_id": heard.case_id, "organ_kind": "court", "relation": "heard",
               "assessment": "satisfied", "remarks": "辩护意见针对性强"}
    court = organ(settings, "chaoyang-court")
    assert (await client.post("/api/v1/case-opinions", json=opinion, headers=court)).status_code == 201
    ended = await closed_and_known(service, case_closed())
    late = DeadlineMissed(case_id=heard.case_id, case_number=heard.case_number, agency_id=AGENCY,
                          deadline="closing_file", due_at=datetime(2026, 11, 19, 16, tzinfo=UTC),
                          handler=HANDLER, detected_at=datetime(2026, 11, 20, tzinfo=UTC))
    await publish(settings, terminated(ended), late, source="/fayuan/intake")

    # A new edition of the criminal standard (beside the migration's seed), last: later criminal
    # cases would be graded under it.
    criminal = seed_for(CaseKind.criminal).terms.model_dump(mode="json")
    edition = {**criminal, "code": "SF/T 0086-2026", "effective_from": str(clock.local_date(clock.now()))}
    assert (await client.post("/api/v1/evaluation-standards/criminal/versions", json=edition,
                              headers=city_bureau(settings))).status_code == 201

    # Everything the consumers still had to do: the round's and the hand-graded results' corrections,
    # the subsidies cut after the fails, the termination and the late file.
    await _handled(app, "evaluation-completed", 5)
    await _handled(app, "evaluation-failed", 3)
    await _handled(app, "deadline-missed", 1)
    await _handled(app, "case-terminated", 1)
    for case in (paid, reduced):
        async def cut(case_id=case.case_id):
            return (await client.get(f"/api/v1/subsidies/{case_id}")).json()["adjustment"]
        await eventually(cut)
    cases = [*(c.case_id for c in (*drawn, corrected, heard, ended)), paid.case_id, reduced.case_id]
    readers = sorted({*QUALIFIED, str(REVIEWER["reviewer_id"])})
    return {"cases": cases, "heard": [heard.case_id], "rounds": [round_["round_id"]], "readers": readers}


async def _every_read(service, ids: dict[str, list[str]]) -> dict[str, Any]:  # noqa: F811
    """What the API answers, for every list and every thing of the flow."""
    settings, _, client = service
    paths = ["/api/v1/cases/awaiting-evaluation", "/api/v1/evaluations?limit=100",
             "/api/v1/subsidies?limit=100", f"/api/v1/subsidy-schedules/{AGENCY}",
             "/api/v1/evaluation-standards", "/api/v1/evaluation-standards/criminal-v2",
             "/api/v1/evaluation-standards/criminal-v1",
             "/api/v1/grading-rules/agencies/haidian-centre", f"/api/v1/grading-rules/agencies/{AGENCY}",
             "/api/v1/corrections?limit=100", "/api/v1/experts?limit=100", "/api/v1/evaluation-rounds",
             f"/api/v1/quality-rates?period={PERIOD}",
             f"/api/v1/quality-rates?period={PERIOD}&by=institution"]
    for case_id in ids["cases"]:
        paths += [f"/api/v1/evaluations/quality-records/{case_id}", f"/api/v1/subsidies/{case_id}",
                  f"/api/v1/cases/{case_id}/reviewers"]
    for round_id in ids["rounds"]:
        paths += [f"/api/v1/evaluation-rounds/{round_id}{part}"
                  for part in ("", "/files", "/agreement", "/bulletin")]
    read: dict[str, Any] = {}
    for path in paths:
        response = await client.get(path)
        read[path] = (response.status_code, response.json())
    for evaluation in (await client.get("/api/v1/evaluations?limit=100")).json()["items"]:
        path = f"/api/v1/evaluations/{evaluation['evaluation_id']}"
        read[path] = (await client.get(path)).json()
    for rid in ids["readers"]:
        read[f"review-files of {rid}"] = (await client.get("/api/v1/review-files",
                                                           headers=reviewer(settings, rid))).json()
    return read


async def test_the_rebuild_command_leaves_every_read_as_it_was(service):  # noqa: F811
    settings, app, _ = service
    ids = await _a_bit_of_everything(service)
    before = await _every_read(service, ids)
    assert before["/api/v1/evaluations?limit=100"][1]["total"] == 5
    assert before[f"/api/v1/evaluations/quality-records/{ids['heard'][0]}"][1]["satisfaction"] == "satisfied"
    # Garbled, so that the rebuild must write them again: the folded tables, and what the folds
    # write into the tables it leaves (a case marked evaluated, a standard's registered edition).
    async with app.state.engine.begin() as conn:
        await conn.execute(text("UPDATE subsidies SET amount = 0, status = 'garbled'"))
        await conn.execute(text("DELETE FROM file_readers"))
        await conn.execute(text("UPDATE closed_cases SET evaluation_id = NULL"))
        await conn.execute(text("DELETE FROM evaluation_standard_versions WHERE version = 'criminal-v2'"))
    env = {**os.environ, "FAYUAN_DATABASE_URL": settings.database_url,
           "FAYUAN_DATABASE_NAME": make_url(settings.sqlalchemy_url).database}
    done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "services.evaluation", "rebuild"],
                                   env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert await _every_read(service, ids) == before


async def test_the_batched_rebuild_leaves_the_tables_the_per_event_fold_leaves(service):  # noqa: F811
    _, app, _ = service
    await _a_bit_of_everything(service)
    engine = app.state.engine
    left = HEARD_TABLES + SEEDED_TABLES
    kept = await contents(engine, left)
    one_by_one, batched, figures = await both_rebuilds(engine, projection, REBUILT_TABLES)
    assert figures.batched and figures.folded > 40
    assert batched == one_by_one
    assert all(one_by_one[t.name] for t in REBUILT_TABLES), "a table the flow never filled"
    assert await contents(engine, left) == kept
    assert await planned_rows(engine, REBUILT_TABLES) == {name: len(rows)
                                                          for name, rows in one_by_one.items()}


def test_a_rebuild_empties_only_what_the_store_fills():
    assert {t.name for t in REBUILT_TABLES} == {
        "review_assignments", "evaluations", "subsidy_schedule_versions", "subsidies", "experts",
        "evaluation_rounds", "round_files", "file_readers", "agency_grading_rules", "organ_opinions",
        "corrections"}
    assert {t.name for t in REBUILT_TABLES} | {t.name for t in HEARD_TABLES + SEEDED_TABLES} == set(
        METADATA.tables)


def test_every_fold_of_the_projection_has_its_in_memory_twin():
    assert projection.batchable
