"""SIGKILL a service in the middle of the flow, start it again, and show that the flow completes
with no event lost and none applied twice: the outbox re-sends what was committed, consumers
resume from committed offsets and the inbox skips what they had already applied."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

import asyncpg
import httpx
import pytest

from shared.contracts import BarNoticeIssued
from shared.testing.fixtures import dsn
from shared.testing.kafka import eventually, read_topic
from tests.e2e.flow import (
    assigned,
    case_body,
    close,
    current_period,
    fail_evaluation,
    investigator,
    ok,
    recruit_pool,
    register,
)

pytestmark = pytest.mark.e2e

CASES = 16


async def count_events(database_server_url: str, database: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn(database_server_url, database))
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


async def test_killed_services_restart_and_the_flow_completes_exactly_once(stack, kafka_bootstrap,
                                                                           database_server_url):
    clients = {name: httpx.AsyncClient(base_url=stack.url(name), timeout=20) for name in stack.ports}
    intake, assignment, evaluation, sanctions, publication = (
        clients[n] for n in ("intake", "assignment", "evaluation", "sanctions", "publication"))
    try:
        await recruit_pool(assignment, stack, agency_id="haidian", lawyers=4)  # 4 x 5 a month = room for 16

        # Half the cases, then kill assignment as soon as it has decided one, mid-stream.
        first = [await register(intake, stack, case_body("haidian", n)) for n in range(CASES // 2)]
        await assigned(intake, stack, first[0])
        stack.stop("assignment", signal.SIGKILL)
        # The other half is registered while assignment is dead: it must pick them up on return.
        second = [await register(intake, stack, case_body("haidian", n)) for n in range(CASES // 2, CASES)]
        stack.start("assignment")
        stack.wait_ready(["assignment"])
        cases = [await assigned(intake, stack, c, timeout=120) for c in first + second]

        # Close and fail them all; kill sanctions once it has opened its first investigation.
        for case in cases:  # each by its own handler
            await close(intake, stack, case)
        await fail_evaluation(evaluation, stack, cases[0])

        async def investigations() -> list[dict]:
            return (await ok(await sanctions.get("/api/v1/investigations", params={"limit": 200},
                                                 headers=investigator(stack))))["items"]

        await eventually(investigations, timeout=90)
        stack.stop("sanctions", signal.SIGKILL)
        await asyncio.gather(*(fail_evaluation(evaluation, stack, c) for c in cases[1:]))
        stack.start("sanctions")
        stack.wait_ready(["sanctions"])

        async def all_investigated() -> list[dict]:
            items = await investigations()
            return items if len(items) >= CASES else []

        opened = await eventually(all_investigated, timeout=120)

        # Nothing applied twice ...
        assert sorted(i["case_id"] for i in opened) == sorted(c["case_id"] for c in cases)
        prefix = stack.database_prefix
        assigned_events = await count_events(
            database_server_url, f"{prefix}_intake",
            "SELECT stream_id, count(*) AS n FROM events WHERE type = 'HandlerAssigned' GROUP BY stream_id")
        assert len(assigned_events) == CASES and {r["n"] for r in assigned_events} == {1}
        turns = await count_events(database_server_url, f"{prefix}_assignment",
                                   "SELECT count(*) AS n FROM events WHERE type = 'HandlerAssigned'")
        assert turns[0]["n"] == CASES
        per_handler = Counter(c["handler_id"] for c in cases)
        assert max(per_handler.values()) <= 5  # R-ASG-4 held across the crash

        # ... and nothing lost: one notice per case reached the bar association (a re-sent copy
        # carries the same CloudEvents id, which is how the bar association dedupes).
        topic = stack.env["FAYUAN_TOPIC_PREFIX"] + BarNoticeIssued.topic
        notices = await read_topic(kafka_bootstrap, topic, expect=CASES, quiet_seconds=2.0, timeout=90)
        by_case: dict[str, set[str]] = {}
        for notice in notices:
            by_case.setdefault(notice.data["case_id"], set()).add(notice.id)
        assert sorted(by_case) == sorted(c["case_id"] for c in cases)
        assert all(len(ids) == 1 for ids in by_case.values())

        async def disclosed() -> dict:
            body = await ok(await publication.get(f"/api/v1/disclosures/drafts/{current_period()}",
                                                 headers=investigator(stack)))
            return body if body["summary"]["cases_evaluated"] == CASES else {}

        disclosure = await eventually(disclosed, timeout=60)
        assert {r["grade"] for r in disclosure["tables"]["evaluation_results"]["rows"]} == {"fail"}
    finally:
        for client in clients.values():
            await client.aclose()
