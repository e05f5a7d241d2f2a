"""What `make run` (`python -m devstack run`) does itself: it restarts a broker or a PostgreSQL
that died, saying so, and the services catch up by themselves (new cases are assigned again);
and SIGINT stops it, even when it was started with SIGINT ignored, leaving no process behind."""

from __future__ import annotations

import signal
import time

import httpx
import psutil
import pytest

from shared.testing.kafka import embedded_broker_only, eventually
from tests.e2e.devstack_run import devstack_run, run_dir
from tests.e2e.flow import assigned, case_body, recruit_pool, staff

# A run may take minutes to start beside the rest of the suite (devstack_run.START_TIMEOUT).
pytestmark = [pytest.mark.e2e, embedded_broker_only, pytest.mark.timeout(900)]

BROKER_KILLS = 3


async def register_when_up(intake: httpx.AsyncClient, run, n: int) -> dict:
    """Register a case, retrying while the service has no database (it answers 503 then)."""
    body = case_body("dongcheng", n)

    async def registered():
        try:
            response = await intake.post("/api/v1/cases", json=body, headers=staff(run.stack, "dongcheng"))
        except httpx.TransportError:
            return None
        return response.json() if response.status_code == 201 else None

    return await eventually(registered, timeout=120, interval=0.5)


async def test_make_run_restarts_a_dead_broker_and_new_cases_are_assigned():
    with devstack_run(run_dir()) as run:
        intake = httpx.AsyncClient(base_url=run.stack.url("intake"), timeout=20)
        assignment = httpx.AsyncClient(base_url=run.stack.url("assignment"), timeout=20)
        try:
            await recruit_pool(assignment, run.stack, agency_id="dongcheng", lawyers=4)
            cases = [await register_when_up(intake, run, 0)]
            await assigned(intake, run.stack, cases[0])
            for kill in range(1, BROKER_KILLS + 1):
                broker = run.part("broker", "--listener-url")
                broker.send_signal(signal.SIGKILL)
                # Registered while the broker is dead or just back: in the outbox until it is.
                cases.append(await register_when_up(intake, run, 10 * kill))
                run.wait_for("broker restarted", count=kill)
                assert run.part("broker", "--listener-url").pid != broker.pid
                cases.append(await register_when_up(intake, run, 10 * kill + 1))
                for case in cases:
                    await assigned(intake, run.stack, case, timeout=120)
        finally:
            await intake.aclose()
            await assignment.aclose()
        said = run.output()
    assert said.count("the broker exited") == BROKER_KILLS
    assert "exited with" not in said.replace("the broker exited with", "")  # no service died


async def test_make_run_restarts_a_dead_database_and_new_cases_are_assigned():
    with devstack_run(run_dir()) as run:
        intake = httpx.AsyncClient(base_url=run.stack.url("intake"), timeout=20)
        assignment = httpx.AsyncClient(base_url=run.stack.url("assignment"), timeout=20)
        try:
            await recruit_pool(assignment, run.stack, agency_id="dongcheng", lawyers=4)
            cases = [await register_when_up(intake, run, 0)]
            await assigned(intake, run.stack, cases[0])
            # SIGQUIT is PostgreSQL's crash stop (no checkpoint; the WAL is replayed at start).
            postmaster = run.postmaster()
            postmaster.send_signal(signal.SIGQUIT)
            run.wait_for("PostgreSQL restarted")
            assert run.postmaster().pid != postmaster.pid
            cases.append(await register_when_up(intake, run, 99))
            for case in cases:
                await assigned(intake, run.stack, case, timeout=90)
        finally:
            await intake.aclose()
            await assignment.aclose()
        assert "PostgreSQL exited" in run.output()


def test_sigint_stops_a_run_that_was_started_with_sigint_ignored():
    with devstack_run(run_dir(), ignore_sigint=True) as run:
        processes = run.every_process()
        assert len(processes) >= 1 + 1 + 5 + 1  # itself, the broker, five services, PostgreSQL
        run.process.send_signal(signal.SIGINT)
        assert run.process.wait(120) == 0
        assert "stopped" in run.output()
    deadline = time.monotonic() + 30
    while (left := [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]) \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"left behind: {[(p.pid, p.cmdline()) for p in left]}"
