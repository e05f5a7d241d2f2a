"""A legal-aid case from registration to a failed evaluation, an investigation, a notice to the
bar association and the half-year's disclosure, across the five services as processes."""

from __future__ import annotations

import httpx
import pytest

from shared.contracts import BarNoticeIssued
from shared.testing.kafka import eventually, read_topic
from tests.e2e.flow import (
    ID_NUMBER,
    assigned,
    case_body,
    close,
    closing_check,
    current_period,
    fail_evaluation,
    investigator,
    ok,
    record_work,
    recruit_pool,
    register,
)

pytestmark = pytest.mark.e2e


async def test_failed_case_reaches_investigation_bar_notice_and_disclosure(stack, kafka_bootstrap):
    clients = {name: httpx.AsyncClient(base_url=stack.url(name), timeout=10) for name in stack.ports}
    intake, assignment, evaluation, sanctions, publication = (
        clients[n] for n in ("intake", "assignment", "evaluation", "sanctions", "publication"))
    try:
        firm, (lawyer,) = await recruit_pool(assignment, stack, agency_id="chaoyang", lawyers=1)

        case = await register(intake, stack, case_body("chaoyang"))
        case = await assigned(intake, stack, case)
        assert case["handler_id"] == lawyer["handler_id"]
        assert case["institution_name"] == firm["name"]

        recorded = await record_work(intake, stack, case, "告知权利义务, 了解案情")
        assert recorded["record_entries"] == 2
        closed = await close(intake, stack, case)
        assert closed["status"] == "closed"
        checked = await closing_check(intake, stack, case)
        assert checked["closing_check_passed"] is True
        result = await fail_evaluation(evaluation, stack, case)
        assert result["grade"] == "fail"

        async def investigation():
            page = await ok(await sanctions.get("/api/v1/investigations", headers=investigator(stack)))
            return next((i for i in page["items"] if i["case_id"] == case["case_id"]), None)

        opened = await eventually(investigation, timeout=60)
        assert opened["handler"]["handler_id"] == lawyer["handler_id"]

        # The bar association reads its topic with a plain consumer, as its own system would.
        topic = stack.env["FAYUAN_TOPIC_PREFIX"] + BarNoticeIssued.topic
        notices = await read_topic(kafka_bootstrap, topic, expect=1, quiet_seconds=1.0)
        assert {n.type for n in notices} == {BarNoticeIssued.type}
        notice = BarNoticeIssued.model_validate(notices[0].data)
        assert notice.case_number == case["case_number"]
        assert notice.lawyer.licence_number == lawyer["licence_number"]
        assert "张三" not in notices[0].data.__repr__() and ID_NUMBER not in notices[0].data.__repr__()

        async def disclosed():  # the bureau's live draft: the public reads it once it is published
            body = await ok(await publication.get(f"/api/v1/disclosures/drafts/{current_period()}",
                                                  headers=investigator(stack)))
            rows = body["tables"]["evaluation_results"]["rows"]
            return next((r for r in rows if r["case_number"] == case["case_number"]), None)

        row = await eventually(disclosed, timeout=60)
        assert row["grade"] == "fail"
        assert row["handler_name"] == lawyer["name"]
    finally:
        for client in clients.values():
            await client.aclose()
