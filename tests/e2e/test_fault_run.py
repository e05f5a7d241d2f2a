"""The fault run (docs/reliability.md, "Faults: the fault run"): a steady flow of cases through
their whole life (register, assign, record, close, check, evaluate: some fail, for lawyers and
for grassroots legal workers) while every service and every relay (each in a process of its own)
is SIGKILLed at a random moment and started again, the broker is restarted (the embedded one
empty; Apache Kafka with its data, `scripts/kafka.sh restart`) and PostgreSQL is restarted.

Afterwards every case has reached its end state, every failed evaluation has exactly one
investigation and, for a lawyer, exactly one notice to the bar association, every projection
equals a rebuild from its store, and no dead letter was made. Callers behave as outside systems
do: they retry on a dropped connection, a 5xx or a 409 in flight, with the same Idempotency-Key.

Seeded: `FAYUAN_FAULT_SEED` replays a run's schedule (it is printed); `FAYUAN_FAULT_CASES` sets
how many cases flow (24). It prints a table of what it did.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from rich.console import Console
from rich.table import Table

from devstack.embedded import (
    EmbeddedBroker,
    EmbeddedPostgres,
    free_port,
    free_ports,
    start_broker,
    start_postgres,
)
from devstack.stack import ROOT, SERVICES, Stack
from shared.contracts import BarNoticeIssued
from shared.testing.fixtures import dsn
from shared.testing.kafka import eventually, read_topic
from tests.e2e.devstack_run import run_dir
from tests.e2e.flow import (
    CRIMINAL_CHECKLIST,
    CRIMINAL_INDICATORS,
    REST_OF_THE_RECORD,
    SHANGHAI,
    case_body,
    checker,
    current_period,
    handler,
    investigator,
    now,
    quality_lead,
    reviewer,
    staff,
)
from tests.e2e.rebuild import compare_with_rebuild

pytestmark = pytest.mark.e2e

SEED = int(os.environ.get("FAYUAN_FAULT_SEED") or random.SystemRandom().randrange(1_000_000))
CASES = int(os.environ.get("FAYUAN_FAULT_CASES", "24"))
PACE_SECONDS = 1.5  # a new case every so often: a steady flow, not a burst
LAWYERS_AGENCY, WORKERS_AGENCY = "xicheng", "fengtai"  # lawyers' pool; grassroots legal workers' pool
CASE_DEADLINE_SECONDS = 240.0


@dataclass
class Fault:
    at: float  # seconds after the flow started
    part: str
    action: str = ""
    down_seconds: float = 0.0  # from the kill until it answered again


@dataclass
class Life:
    n: int
    agency: str
    fails: bool
    case: dict[str, Any] = field(default_factory=dict)
    started: float = 0.0
    assigned_after: float = 0.0
    done_after: float = 0.0
    retries: int = 0


class Caller:
    """An outside system's HTTP client: retries a call that got no answer, a 5xx or a 409 in
    flight, with the same Idempotency-Key, until it has an answer the service meant."""

    def __init__(self, stack: Stack):
        self.clients = {name: httpx.AsyncClient(base_url=stack.url(name), timeout=10)
                        for name in SERVICES}
        self.retries = 0

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    async def call(self, service: str, method: str, path: str, *, headers: dict[str, str],
                   json: Any = None, params: dict[str, Any] | None = None,
                   accept: tuple[int, ...] = (200, 201), done: Callable[[], Awaitable[bool]] | None = None,
                   life: Life | None = None) -> Any:
        """The answer's body; None when the service refused because it was done already (`done`)."""
        key = {"Idempotency-Key": str(uuid.uuid4())} if method == "POST" else {}
        deadline = time.monotonic() + CASE_DEADLINE_SECONDS
        while True:
            try:
                response = await self.clients[service].request(method, path, headers=headers | key, json=json,
                                                               params=params)
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code in accept:
                return response.json()
            if response is not None and 400 <= response.status_code < 500 and response.status_code != 409:
                if done is not None and await done():
                    return None
                raise AssertionError(f"{method} {service}{path}: {response.status_code} {response.text}")
            if response is not None and response.status_code == 409 and "Retry-After" not in response.headers:
                if done is not None and await done():
                    return None
            if time.monotonic() > deadline:
                said = "no answer" if response is None else f"{response.status_code} {response.text}"
                raise AssertionError(f"{method} {service}{path}: still failing: {said}")
            self.retries += 1
            if life is not None:
                life.retries += 1
            await asyncio.sleep(0.5)

    async def get(self, service: str, path: str, headers: dict[str, str], **params: Any) -> Any:
        return await self.call(service, "GET", path, headers=headers, params=params or None, accept=(200,))


async def pool(caller: Caller, stack: Stack, agency: str, kind: str, count: int) -> None:
    as_staff = staff(stack, agency)
    today = now().date()
    office = await caller.call("assignment", "POST", "/api/v1/institutions", headers=as_staff, json={
        "name": f"{agency}法律服务机构", "kind": "law_firm" if kind == "lawyer" else "grassroots_office",
        "agency_id": agency, "district": "朝阳区"})
    await caller.call("assignment", "POST", f"/api/v1/institutions/{office['institution_id']}/commitment",
                      headers=as_staff, json={"signed_on": (today.replace(day=1)).isoformat(),
                                              "valid_until": today.replace(year=today.year + 1).isoformat()})
    for i in range(count):
        await caller.call("assignment", "POST", "/api/v1/handlers", headers=as_staff, json={
            "name": f"{agency}办案人{i}", "kind": kind,
            "licence_number": f"11101{1 if kind == 'lawyer' else 2}0{i:08d}",
            "institution_id": office["institution_id"], "years_of_practice": 8})


async def live(caller: Caller, stack: Stack, life: Life, started: float) -> None:
    """One case's whole life, as the agency, its handler, the checker, the lead and a reviewer."""
    life.started = time.monotonic() - started
    body = case_body(life.agency, life.n) | {"source_system": "fault-run-court",
                                             "external_reference": f"fault-{SEED}-{life.n}"}
    as_staff = staff(stack, life.agency)
    case = await caller.call("intake", "POST", "/api/v1/cases", headers=as_staff, json=body, life=life)
    case_path = f"/api/v1/cases/{case['case_id']}"

    async def seen() -> dict:
        return await caller.get("intake", case_path, as_staff)

    async def is_assigned() -> dict | None:
        current = await seen()
        return current if current.get("handler_id") else None

    case = await eventually(is_assigned, timeout=CASE_DEADLINE_SECONDS, interval=0.3)
    life.case, life.assigned_after = case, time.monotonic() - started - life.started
    as_handler = handler(stack, case["handler_id"])
    entries = ({"kind": "mandate", "agreement_signed": True, "power_of_attorney_signed": True},
               {"kind": "meeting", "rights_explained": True, "obligations_explained": True,
                "risks_explained": True, "conversation_record": "告知权利义务"}, *REST_OF_THE_RECORD)
    for entry in entries:
        await caller.call("intake", "POST", f"{case_path}/record", headers=as_handler, life=life,
                          json={"occurred_at": now().isoformat(), "entry": entry})

    async def status_is(*statuses: str) -> bool:
        return (await seen())["status"] in statuses

    await caller.call("intake", "POST", f"{case_path}/closure", headers=as_handler, life=life,
                      json={"outcome": "法院采纳部分辩护意见",
                            "ended_on": now().astimezone(SHANGHAI).date().isoformat()},
                      done=lambda: status_is("closed"))
    checklist = dict.fromkeys(("mandate_documents", "meeting_records", "file_review_notes",
                               "investigation_materials", "legal_opinion", "hearing_records",
                               "outcome_document", "reports_to_agency"), True)

    async def checked() -> bool:
        return bool((await seen()).get("closing_check_passed"))

    await caller.call("intake", "POST", f"{case_path}/closing-file", headers=as_handler, life=life,
                      json={"checklist": checklist}, done=checked)
    await caller.call("intake", "POST", f"{case_path}/closing-check", headers=checker(stack, life.agency),
                      life=life, json={"items": dict.fromkeys(CRIMINAL_CHECKLIST, True)}, done=checked)
    as_lead = quality_lead(stack, life.agency)

    async def awaiting() -> bool:
        page = await caller.get("evaluation", "/api/v1/cases/awaiting-evaluation", as_lead, limit=200)
        return any(item["case_id"] == case["case_id"] for item in page["items"])

    async def evaluated() -> bool:
        page = await caller.get("evaluation", "/api/v1/evaluations", as_lead, limit=200)
        return any(item["case_id"] == case["case_id"] for item in page["items"])

    await eventually(awaiting, timeout=CASE_DEADLINE_SECONDS, interval=0.3)
    reviewer_id = f"reviewer-{life.n % 3}"
    await caller.call("evaluation", "POST", f"/api/v1/cases/{case['case_id']}/reviewers", headers=as_lead,
                      life=life, json={"reviewer_id": reviewer_id, "name": "赵律师",
                                       "institution_id": "another-firm", "years_of_practice": 12},
                      done=lambda: asyncio.sleep(0, True))
    indicators = dict.fromkeys(CRIMINAL_INDICATORS, "good") | ({"meeting": "fail"} if life.fails else {})
    await caller.call("evaluation", "POST", "/api/v1/evaluations", life=life,
                      headers=reviewer(stack, reviewer_id, "another-firm"),
                      json={"case_id": case["case_id"], "indicators": indicators,
                            "findings": "未会见受援人" if life.fails else "办案规范"}, done=evaluated)
    life.done_after = time.monotonic() - started - life.started


class Faults:
    """Kills and restarts, at seeded moments."""

    def __init__(self, stack: Stack, postgres: EmbeddedPostgres, broker: EmbeddedBroker | None,
                 kafka_port: int | None, workdir: Path):
        self.stack, self.postgres, self.broker = stack, postgres, broker
        self.kafka_port, self.workdir = kafka_port, workdir

    def plan(self, rng: random.Random, window: float) -> list[Fault]:
        parts = [*SERVICES, *(f"{s}:relay" for s in SERVICES), "broker", "PostgreSQL"]
        return sorted((Fault(at=round(rng.uniform(3.0, window), 1), part=p) for p in parts),
                      key=lambda f: f.at)

    async def run(self, plan: list[Fault], started: float) -> None:
        for fault in plan:
            await asyncio.sleep(max(0.0, started + fault.at - time.monotonic()))
            fault.at = round(time.monotonic() - started, 1)
            begun = time.monotonic()
            if fault.part == "PostgreSQL":
                await self._postgres(fault)
            elif fault.part == "broker":
                await self._broker(fault)
            else:
                self.stack.stop(fault.part, signal.SIGKILL)
                fault.action = "SIGKILL, started again"
                await asyncio.to_thread(self.stack.start, fault.part)
                await asyncio.to_thread(self.stack.wait_ready, [fault.part], 120)
            fault.down_seconds = round(time.monotonic() - begun, 1)

    async def _postgres(self, fault: Fault) -> None:
        os.kill(self.postgres.pid, signal.SIGQUIT)  # PostgreSQL's crash stop: the WAL is replayed
        await eventually(lambda: asyncio.sleep(0, not self.postgres.running()), timeout=60, interval=0.1)
        await asyncio.to_thread(self.postgres.restart)
        fault.action = "SIGQUIT (crash stop), started again on its data"

    async def _broker(self, fault: Fault) -> None:
        if self.broker is not None:
            port = int(self.broker.bootstrap.rsplit(":", 1)[1])
            self.broker.process.kill()
            self.broker.process.wait()
            self.broker = await asyncio.to_thread(start_broker, port, log_file=self.workdir / "tansu.log")
            fault.action = "SIGKILL, started again empty (Tansu keeps messages in memory)"
        else:
            env = os.environ | {"FAYUAN_APACHE_KAFKA_PORT": str(self.kafka_port)}
            await asyncio.to_thread(subprocess.run, ["bash", "scripts/kafka.sh", "restart"], cwd=ROOT,  # noqa: S607
                                    env=env, check=True, capture_output=True)
            fault.action = "SIGKILL, started again on its data (scripts/kafka.sh restart)"


async def count(server_url: str, database: str, sql: str) -> int:
    conn = await asyncpg.connect(dsn(server_url, database))
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def test_the_flow_survives_every_part_killed_the_broker_and_postgres_restarted(capsys):
    rng = random.Random(SEED)
    print(f"\nfault run: seed {SEED} (FAYUAN_FAULT_SEED={SEED} replays this schedule), {CASES} cases")
    workdir = run_dir()
    postgres = start_postgres(workdir / "pgdata", keep_data=True)
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    broker = None if external else start_broker(free_port(), log_file=workdir / "tansu.log")
    bootstrap = external or broker.bootstrap  # type: ignore[union-attr]
    prefix = f"f{uuid.uuid4().hex[:8]}"
    parts = [*SERVICES, *(f"{name}:relay" for name in SERVICES)]
    ports = dict(zip(parts, free_ports(len(parts)), strict=True))
    stack = Stack(database_url=postgres.url, bootstrap=bootstrap, workdir=workdir, ports=ports,
                  database_prefix=prefix, relays_apart=True, movable_ports=True,
                  env={"FAYUAN_TOPIC_PREFIX": f"{prefix}.", "FAYUAN_RELAY_POLL_SECONDS": "0.05",
                       "FAYUAN_RELAY_EPOCH_CHECK_SECONDS": "1", "FAYUAN_PUBLIC_RATE_LIMIT": "100000/minute",
                       "FAYUAN_DATABASE_POOL_SIZE": "5"})
    faults = Faults(stack, postgres, broker, int(bootstrap.rsplit(":", 1)[1]) if external else None, workdir)
    caller = Caller(stack)
    began = time.monotonic()
    try:
        await asyncio.to_thread(stack.migrate)
        for name in ports:
            stack.start(name)
        await asyncio.to_thread(stack.wait_ready, None, 120)
        lawyer_cases = CASES - CASES // 3
        await pool(caller, stack, LAWYERS_AGENCY, "lawyer", lawyer_cases // 5 + 2)
        await pool(caller, stack, WORKERS_AGENCY, "grassroots_legal_worker", (CASES - lawyer_cases) // 5 + 2)
        lives = [Life(n, LAWYERS_AGENCY if n % 3 else WORKERS_AGENCY, fails=rng.random() < 0.5)
                 for n in range(CASES)]
        lives[1].fails, lives[0].fails = True, True  # at least one failure of each kind of handler
        window = CASES * PACE_SECONDS + 10
        plan = faults.plan(rng, window)
        started = time.monotonic()
        fault_task = asyncio.create_task(faults.run(plan, started))

        async def paced(life: Life) -> None:
            await asyncio.sleep(life.n * PACE_SECONDS)
            await live(caller, stack, life, started)

        await asyncio.gather(*(paced(life) for life in lives))
        await fault_task
        flow_seconds = time.monotonic() - started

        # --- every case at its end ---------------------------------------------------------
        failed = {life.case["case_id"]: life for life in lives if life.fails}
        for life in lives:
            seen = await caller.get("intake", f"/api/v1/cases/{life.case['case_id']}",
                                    staff(stack, life.agency))
            assert seen["status"] == "closed" and seen["closing_check_passed"] is True, seen

        async def investigations() -> list[dict]:
            page = await caller.get("sanctions", "/api/v1/investigations", investigator(stack), limit=200)
            return page["items"] if len(page["items"]) >= len(failed) else []

        opened = await eventually(investigations, timeout=180, interval=0.5)
        lawyers_failed = {c for c, life in failed.items() if life.agency == LAWYERS_AGENCY}
        topic = f"{prefix}.{BarNoticeIssued.topic}"
        notices = await read_topic(bootstrap, topic, expect=len(lawyers_failed), quiet_seconds=3.0,
                                   timeout=120)

        async def disclosed() -> dict:
            body = await caller.get("publication", f"/api/v1/disclosures/drafts/{current_period()}",
                                    investigator(stack))
            return body if body["summary"]["cases_evaluated"] >= CASES else {}

        draft = await eventually(disclosed, timeout=120, interval=0.5)
        # Settled: read the investigations again, so a late double would be seen.
        await asyncio.sleep(3)
        opened = (await caller.get("sanctions", "/api/v1/investigations", investigator(stack),
                                   limit=200))["items"]
        per_case = Counter(i["case_id"] for i in opened)
        assert set(per_case) == set(failed), "an investigation for every failed case, for no other"
        assert set(per_case.values()) == {1}, f"doubled investigations: {per_case}"
        notice_ids: dict[str, set[str]] = {}
        for notice in notices:
            notice_ids.setdefault(notice.data["case_id"], set()).add(notice.id)
        assert set(notice_ids) == lawyers_failed, "a notice for each failed lawyer's case, for no other"
        assert all(len(ids) == 1 for ids in notice_ids.values()), f"doubled notices: {notice_ids}"
        grades = {r["case_number"]: r["grade"] for r in draft["tables"]["evaluation_results"]["rows"]}
        assert len(draft["tables"]["evaluation_results"]["rows"]) == CASES
        assert {life.case["case_number"]: ("fail" if life.fails else "pass") for life in lives} == {
            k: ("fail" if v == "fail" else "pass") for k, v in grades.items()}
        assigned = await count(postgres.url, f"{prefix}_intake",
                               "SELECT count(*) FROM events WHERE type = 'HandlerAssigned'")
        assert assigned == CASES, f"{assigned} assignments recorded for {CASES} cases"

        # --- no dead letters; every projection equals its rebuild ----------------------------
        dead = {name: await count(postgres.url, f"{prefix}_{name}", "SELECT count(*) FROM dead_letters")
                for name in SERVICES}
        comparisons = [await compare_with_rebuild(stack, postgres.url, name) for name in SERVICES]
        events = {c.service: c.events for c in comparisons}
        total = time.monotonic() - began
    finally:
        await caller.close()
        stack.stop_all()
        if faults.broker is not None:
            faults.broker.stop()
        postgres.stop()

    table = Table(title=f"fault run, seed {SEED}: {CASES} cases, {len(failed)} failed "
                        f"({len(lawyers_failed)} lawyers'), broker {'Apache Kafka' if external else 'Tansu'}")
    for column in ("t (s)", "part", "what", "back after (s)"):
        table.add_column(column)
    for fault in plan:
        table.add_row(f"{fault.at:.1f}", fault.part, fault.action, f"{fault.down_seconds:.1f}")
    summary = Table(title="outcome")
    summary.add_column("what")
    summary.add_column("value", justify="right")
    assign = sorted(life.assigned_after for life in lives)
    done = sorted(life.done_after for life in lives)
    for what, value in (
        ("cases closed, checked and evaluated", f"{CASES}/{CASES}"),
        ("investigations (one per failed case)", str(len(opened))),
        ("bar notices (one per failed lawyer's case, by id)", str(len(notice_ids))),
        ("bar notice messages read (re-sent copies included)", str(len(notices))),
        ("dead letters", str(sum(dead.values()))),
        ("events in the stores", ", ".join(f"{k} {v}" for k, v in events.items())),
        ("projections equal to their rebuild (tables compared)",
         f"{sum(not c.differences for c in comparisons)}/5 ({sum(len(c.tables) for c in comparisons)})"),
        ("tables kept by consumers, not folded from the store", ", ".join(
            f"{c.service}.{t}" for c in comparisons for t in c.not_folded)),
        ("caller retries", str(caller.retries)),
        ("registered -> assigned, median / max (s)", f"{assign[len(assign) // 2]:.1f} / {assign[-1]:.1f}"),
        ("a case's whole life, median / max (s)", f"{done[len(done) // 2]:.1f} / {done[-1]:.1f}"),
        ("flow, run (s)", f"{flow_seconds:.0f}, {total:.0f}"),
    ):
        summary.add_row(what, value)
    with capsys.disabled():
        console = Console(width=120)
        console.print(table)
        console.print(summary)
    assert dead == dict.fromkeys(SERVICES, 0), f"dead letters: {dead}"
    differing = {c.service: c.differences for c in comparisons if c.differences}
    assert not differing, f"projections that differ from their rebuild: {differing}"
    with contextlib.suppress(Exception):
        import shutil

        shutil.rmtree(workdir)
