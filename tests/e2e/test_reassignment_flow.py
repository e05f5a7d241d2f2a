"""An accepted request for another handler, across intake and assignment as processes: assignment
names the next handler and intake folds it in as a change of handler; then the case's next stage
is a new case that assignment assigns on its own."""

from __future__ import annotations

import httpx
import pytest

from shared.testing.kafka import eventually
from tests.e2e.flow import assigned, case_body, close, ok, recruit_pool, staff

pytestmark = pytest.mark.e2e


async def test_an_accepted_request_brings_another_handler_and_the_next_stage_its_own_case(stack):
    # The agency's staff make every call here but the closure, which is the handler's.
    intake = httpx.AsyncClient(base_url=stack.url("intake"), timeout=10, headers=staff(stack, "haidian"))
    assignment = httpx.AsyncClient(base_url=stack.url("assignment"), timeout=10)
    try:
        _, lawyers = await recruit_pool(assignment, stack, agency_id="haidian", lawyers=2)
        body = {**case_body("haidian"), "criminal_stage": "investigation", "criminal_role": "defence"}
        case = await ok(await intake.post("/api/v1/cases", json=body), 201)
        first = await assigned(intake, stack, case)
        url = f"/api/v1/cases/{case['case_id']}"
        asked = await ok(await intake.post(f"{url}/reassignment-requests", json={
            "category": "breakdown_of_trust", "reason": "受援人与律师沟通不畅"}), 201)
        await ok(await intake.post(f"{url}/reassignment-requests/{asked['request_id']}/acceptance",
                                   json={}))

        async def changed():
            now = await ok(await intake.get(url))
            return now if now["handler_id"] not in (None, first["handler_id"]) else None

        now = await eventually(changed, timeout=90, interval=0.2)
        assert now["handler_id"] in {h["handler_id"] for h in lawyers} and now["reassigned_at"]
        timeline = await ok(await intake.get(f"{url}/timeline"))
        assert [t["action"] for t in timeline][-3:] == ["reassignment_requested", "reassignment_accepted",
                                                         "reassigned"]

        await close(intake, stack, now)
        nxt = await ok(await intake.post(f"{url}/next-stage",
                                         json={"criminal_stage": "prosecution_review"}), 201)
        nxt = await assigned(intake, stack, nxt)
        assert nxt["previous_case_id"] == case["case_id"] and nxt["case_number"] != case["case_number"]
        assert (await ok(await intake.get(url)))["next_case_id"] == nxt["case_id"]
    finally:
        await intake.aclose()
        await assignment.aclose()
