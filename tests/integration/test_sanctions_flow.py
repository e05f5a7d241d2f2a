"""The issue's end-to-end case for sanctions, in process: the sanctions and assignment apps on
the real broker and databases (not the five processes of tests/e2e). With two handlers: a fail
opens one investigation, also when the event arrives three times; the bureau records findings
and decides a three-month suspension; the next cases go to the other handler; the suspension
ends by itself after its last day (the sweep's tick at an injected moment) and the handler
takes cases again (R-SAN-1, R-SAN-2, R-SAN-3, R-ASG-6)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text

from services.assignment.tests.conftest import (  # noqa: F401, I001 (fixture)
    AGENCY,
    assigned_handler,
    decision,
    handler,
    institution,
    registered,
    running,
)
from services.sanctions.app import MIGRATIONS as SANCTIONS_MIGRATIONS
from services.sanctions.app import SanctionsSettings, reinstate_due_now
from services.sanctions.app import create_app as sanctions_app
from shared.auth import Role
from shared.contracts import EvaluationFailed, HandlerRef
from shared.deps import get_clock
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish


async def test_a_fail_is_investigated_once_suspends_the_handler_and_the_suspension_ends_by_itself(
        running, migrated_settings):  # noqa: F811
    async with running() as (assignment, settings):
        sanctions_settings = await migrated_settings(SanctionsSettings, SANCTIONS_MIGRATIONS,
                                                     responsible_bureaus={AGENCY: "chaoyang-bureau"})
        app = sanctions_app(sanctions_settings)
        async with serve_in_process(app) as sanctions:
            firm = await institution(assignment)
            first, second = await handler(assignment, firm, "甲"), await handler(assignment, firm, "乙")
            failed_case = registered()
            await publish(settings, failed_case)
            record = await decision(assignment, failed_case.case_id)
            assert record["handler"]["handler_id"] == first

            failure = EvaluationFailed(
                evaluation_id=f"evaluation-{uuid.uuid4().hex[:6]}", case_id=failed_case.case_id,
                case_number=failed_case.case_number, case_kind=failed_case.case_kind, agency_id=AGENCY,
                handler=HandlerRef.model_validate(record["handler"]), findings="未会见犯罪嫌疑人",
                failed_at=datetime.now(UTC))
            for _ in range(3):  # told three times (three deliveries, three event ids)
                await publish(settings, failure, source="/fayuan/evaluation")

            async def all_three_heard():
                async with app.state.engine.connect() as conn:
                    heard = await conn.execute(text("SELECT count(*) FROM inbox WHERE type = :t"),
                                               {"t": EvaluationFailed.type})
                    return heard.scalar_one() == 3 or None

            await eventually(all_three_heard)
            listed = (await sanctions.get("/api/v1/investigations")).json()
            assert listed["total"] == 1
            [investigation] = listed["items"]
            assert (investigation["case_id"], investigation["bureau_id"]) == (failed_case.case_id,
                                                                              "chaoyang-bureau")

            bureau = as_role(sanctions_settings, Role.bureau_investigator, sub="investigator-wang")
            path = f"/api/v1/investigations/{investigation['investigation_id']}"
            found = await sanctions.post(f"{path}/findings", headers=bureau,
                                         json={"findings": "经调查，承办人未会见犯罪嫌疑人，属实。"})
            assert found.status_code == 200, found.text
            decided = await sanctions.post(f"{path}/decision", headers=bureau, json={
                "violation": True, "measures": ["suspension_from_assignment"], "reasoning": "未履行会见职责",
                "suspension_scope": "agency", "suspension_months": 3})
            assert decided.status_code == 200, decided.text
            suspension_id = decided.json()["suspension_id"]
            suspension = (await sanctions.get(f"/api/v1/suspensions/{suspension_id}")).json()
            assert (suspension["handler_id"], suspension["status"]) == (first, "in_force")
            last_day = date.fromisoformat(suspension["until"])
            assert date.fromisoformat(suspension["starts_on"]) + timedelta(days=88) <= last_day

            def suspended_in_assignment(expected: bool):
                async def check():
                    view = (await assignment.get(f"/api/v1/handlers/{first}")).json()
                    return view["suspended"] is expected or None
                return check

            await eventually(suspended_in_assignment(True))
            # Without the suspension the rotation would give the second of these to the first handler.
            next_cases = [registered(), registered()]
            await publish(settings, *next_cases)
            assert [await assigned_handler(assignment, c.case_id) for c in next_cases] == [second, second]
            last = (await decision(assignment, next_cases[1].case_id))["decisions"][-1]["candidates"]
            assert {c["handler_id"]: c["reasons"] for c in last}[first] == ["suspended"]

            # The sweep's tick just after the last day (Beijing) reinstates the handler at that moment.
            the_day_after = datetime(last_day.year, last_day.month, last_day.day, 16, 1, tzinfo=UTC)
            app.dependency_overrides[get_clock] = lambda: (lambda: the_day_after)
            assert await reinstate_due_now(app) == 1
            ended = (await sanctions.get(f"/api/v1/suspensions/{suspension['suspension_id']}")).json()
            assert (ended["status"], ended["automatic"]) == ("reinstated", True)
            assert datetime.fromisoformat(ended["reinstated_at"]) == the_day_after
            await eventually(suspended_in_assignment(False))
            after = registered()
            await publish(settings, after)
            assert await assigned_handler(assignment, after.case_id) == first
