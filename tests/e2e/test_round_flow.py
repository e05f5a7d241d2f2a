"""An evaluation round across the five services as processes (R-EVL-6, R-SAN-1): a closed case is
drawn into the agency's round, its first reader fails it, two more re-read it and one of them
fails it too, so the panel's fail stands; the round's closure publishes ONE EvaluationFailed, and
sanctions opens one investigation and issues one bar notice, and publication counts the panel's
final grade."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from shared.auth import Role
from shared.contracts import BarNoticeIssued, EvaluationCompleted, EvaluationFailed
from shared.testing.kafka import eventually, read_topic
from tests.e2e.flow import (
    CRIMINAL_INDICATORS,
    SHANGHAI,
    assigned,
    case_body,
    close,
    current_period,
    investigator,
    ok,
    quality_lead,
    record_work,
    recruit_pool,
    register,
    reviewer,
)

pytestmark = pytest.mark.e2e


def expert(n: int, today) -> dict:
    """A qualified expert of another firm and district than the case's (朝阳区): 16 years of
    practice, criminal, trained before the round, never disciplined."""
    return {"reviewer_id": f"expert-{n}", "name": f"专家{n}", "licence_number": f"1110120050000000{n}",
            "practising_since": "2010-03-01", "fields": ["criminal"], "district": "海淀区",
            "institution_id": f"panel-firm-{n}", "institution_name": f"北京专家{n}律师事务所",
            "assigning_agencies": [], "trained_on": [(today - timedelta(days=10)).isoformat()],
            "disciplined_on": [], "active": True}


def reading(fail: bool) -> dict:
    indicators = dict.fromkeys(CRIMINAL_INDICATORS, "good") | ({"meeting": "fail"} if fail else {})
    return {"indicators": indicators, "findings": "未会见受援人" if fail else "符合标准"}


async def publication_rows(publication: httpx.AsyncClient, stack) -> list[dict]:
    """The evaluation results publication would disclose for the half-year now: the bureau's live
    draft."""
    draft = await publication.get(f"/api/v1/disclosures/drafts/{current_period()}",
                                  headers=investigator(stack))
    return (await ok(draft))["tables"]["evaluation_results"]["rows"]


async def test_a_panels_fail_reaches_one_investigation_one_bar_notice_and_the_disclosure(stack,
                                                                                          kafka_bootstrap):
    clients = {name: httpx.AsyncClient(base_url=stack.url(name), timeout=10) for name in stack.ports}
    intake, assignment, evaluation, sanctions, publication = (
        clients[n] for n in ("intake", "assignment", "evaluation", "sanctions", "publication"))
    bureau = stack.headers(Role.bureau_investigator, sub="bureau-pool-keeper")
    today = datetime.now(SHANGHAI).date()
    try:
        firm, (lawyer,) = await recruit_pool(assignment, stack, agency_id="chaoyang", lawyers=1)
        case = await assigned(intake, stack, await register(intake, stack, case_body("chaoyang")))
        await record_work(intake, stack, case, "告知权利义务, 了解案情")
        await close(intake, stack, case)
        experts = [expert(n, today) for n in range(3)]
        for e in experts:
            await ok(await evaluation.post("/api/v1/experts", headers=bureau, json=e), 201)
        as_lead = quality_lead(stack, "chaoyang")

        async def closed_case_known():
            page = await ok(await evaluation.get("/api/v1/cases/awaiting-evaluation", headers=as_lead))
            return any(item["case_id"] == case["case_id"] for item in page["items"])

        await eventually(closed_case_known, timeout=90, interval=0.2)

        # The quality lead opens the round: every case of the period, one reader first.
        round_ = await ok(await evaluation.post("/api/v1/evaluation-rounds", headers=as_lead, json={
            "period_from": today.isoformat(), "period_to": today.isoformat(), "draw_rule": "all",
            "seed": "e2e-round", "readers": "one-then-two"}), 201)
        files = await ok(await evaluation.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/files",
                                              headers=as_lead))
        (file,) = files["items"]
        assert file["case_id"] == case["case_id"]
        # Drawn into the round, the case is not given by hand as well.
        by_hand = await evaluation.post(f"/api/v1/cases/{case['case_id']}/reviewers", headers=as_lead, json={
            "reviewer_id": "reviewer-1", "name": "赵律师", "institution_id": "another-firm",
            "years_of_practice": 12})
        assert by_hand.status_code == 409, by_hand.text

        institution = {e["reviewer_id"]: e["institution_id"] for e in experts}
        url = f"/api/v1/review-files/{file['file_id']}/readings"

        async def read(reviewer_id: str, fail: bool) -> dict:
            return await ok(await evaluation.post(url, json=reading(fail), headers=reviewer(
                stack, reviewer_id, institution[reviewer_id])), 201)

        first = file["readers"][0]["reviewer_id"]
        assert (await read(first, fail=True))["my_grade"] == "fail"
        file = await ok(await evaluation.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/files",
                                             headers=as_lead))
        re_readers = [r["reviewer_id"] for r in file["items"][0]["readers"] if r["stage"] == "re-read"]
        assert sorted([first, *re_readers]) == sorted(institution)  # the two others re-read it
        await read(re_readers[0], fail=True)
        await read(re_readers[1], fail=False)
        closed = await ok(await evaluation.post(f"/api/v1/evaluation-rounds/{round_['round_id']}/closure",
                                                headers=as_lead))
        assert closed["status"] == "closed"

        # ONE EvaluationFailed for the panel's result (not one per failing reading).
        topic = stack.env["FAYUAN_TOPIC_PREFIX"] + EvaluationFailed.topic
        told = await read_topic(kafka_bootstrap, topic, expect=2, quiet_seconds=1.0)
        assert sorted(e.type for e in told) == sorted([EvaluationCompleted.type, EvaluationFailed.type])
        (failed,) = [EvaluationFailed.model_validate(e.data) for e in told if e.type == EvaluationFailed.type]
        assert (failed.case_id, failed.evaluation_id) == (case["case_id"], file["items"][0]["file_id"])

        async def investigations():
            page = await ok(await sanctions.get("/api/v1/investigations", headers=investigator(stack)))
            found = [i for i in page["items"] if i["case_id"] == case["case_id"]]
            return found or None

        (opened,) = await eventually(investigations, timeout=60)
        assert opened["handler"]["handler_id"] == lawyer["handler_id"]
        notices = await read_topic(kafka_bootstrap, stack.env["FAYUAN_TOPIC_PREFIX"] + BarNoticeIssued.topic,
                                   expect=1, quiet_seconds=1.0)
        assert [BarNoticeIssued.model_validate(n.data).case_number for n in notices] == [case["case_number"]]

        async def disclosed():
            rows = await publication_rows(publication, stack)
            return [r for r in rows if r["case_number"] == case["case_number"]] or None

        (row,) = await eventually(disclosed, timeout=60)
        assert (row["grade"], row["handler_name"], row["institution_name"]) == (
            "fail", lawyer["name"], firm["name"])
        # Still one investigation once everything has settled.
        assert len(await investigations() or []) == 1
    finally:
        for client in clients.values():
            await client.aclose()
