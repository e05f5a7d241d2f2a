"""Dead letters are listed and replayed by an operator through the service's command line; a
replayed message, once its cause is fixed, is handled, and only once."""

import asyncio
import json
import os
import subprocess
import sys

from sqlalchemy.engine import make_url

from shared.store import driver
from shared.testing.kafka import eventually, publish
from shared.tests.helpers import Noted
from shared.tests.test_consumer import (
    POISON_FAILS_AT,
    Effects,
    _count,
    _effects,
    _effects_table,
    _runner,
    _true,
    another_case_on_the_partition_of,
    running,
)


async def _cli(settings, *args: str) -> subprocess.CompletedProcess:
    """The command line in a thread: blocking the event loop for the seconds a CLI process takes
    would stop the runner's heartbeats, and Apache Kafka (unlike the embedded broker) then
    evicts it from its group and rebalances (docs/adr/0004)."""
    env = {**os.environ, "FAYUAN_DATABASE_URL": settings.database_url,
           "FAYUAN_DATABASE_NAME": make_url(settings.sqlalchemy_url).database,
           "FAYUAN_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers}
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "services.intake", *args], env=env,
        capture_output=True, text=True, timeout=60)


async def test_a_dead_letter_is_listed_and_once_replayed_is_handled_exactly_once(kernel_db):
    engine, settings = kernel_db
    await _effects_table(engine)
    effects = Effects(fail_times={POISON_FAILS_AT: 1000})
    runner = _runner(engine, settings, effects)
    await publish(settings, Noted(stream="s", n=POISON_FAILS_AT),
                  Noted(stream=another_case_on_the_partition_of("s"), n=1))
    async with running(runner):
        await eventually(lambda: _effects_are(engine, [1]))

        listed = await _cli(settings, "dead-letters", "--json")
        assert listed.returncode == 0, listed.stderr
        [letter] = json.loads(listed.stdout)
        assert letter["type"] == Noted.type and letter["replayed_at"] is None
        assert "handler failed on 666" in letter["error"]

        effects.fail_times.clear()  # the cause is fixed
        replayed = await _cli(settings, "replay-dead-letter", str(letter["id"]))
        assert replayed.returncode == 0, replayed.stderr
        await eventually(lambda: _effects_are(engine, [1, POISON_FAILS_AT]), timeout=30)

    assert json.loads((await _cli(settings, "dead-letters", "--json")).stdout) == []
    [again] = json.loads((await _cli(settings, "dead-letters", "--all", "--json")).stdout)
    assert again["replayed_at"] is not None
    assert (await _cli(settings, "replay-dead-letter", "999")).returncode == 1


async def _effects_are(engine, expected: list[int]) -> bool:
    return sorted(await _effects(engine)) == sorted(expected)


# --- per-case sequencing (issue 18) ---------------------------------------------------------


async def _stream(engine, stream: str) -> list[int]:
    """What the projection applied of one case, in the order it applied it."""
    async with engine.connect() as conn:
        db = await driver(conn)
        return [r["n"] for r in await db.fetch("SELECT n FROM noted_effects WHERE stream = $1 ORDER BY id",
                                               stream)]


async def _stream_is(engine, stream: str, expected: list[int]) -> bool:
    return await _stream(engine, stream) == expected


async def test_a_projection_never_applies_a_cases_events_out_of_order(kernel_db):
    """The 1st of case A's three events fails: the 2nd and 3rd (and one sent later) wait beside
    it while case B flows on; re-driven once fixed, A's events are applied in their order. Case
    C's failing 1st event is discarded: its others are then applied, it never is."""
    engine, settings = kernel_db
    await _effects_table(engine)
    effects = Effects(fail_times={100: 1000, 300: 1000})
    runner = _runner(engine, settings, effects)
    await publish(settings, Noted(stream="A", n=100), Noted(stream="B", n=200), Noted(stream="C", n=300),
                  Noted(stream="A", n=101), Noted(stream="B", n=201), Noted(stream="C", n=301),
                  Noted(stream="A", n=102), Noted(stream="B", n=202))
    async with running(runner):
        await eventually(lambda: _stream_is(engine, "B", [200, 201, 202]))  # other cases flow
        await eventually(lambda: _true(len(runner.outcomes) == 8))
        await publish(settings, Noted(stream="A", n=103), Noted(stream="B", n=203))
        await eventually(lambda: _stream_is(engine, "B", [200, 201, 202, 203]))
        await eventually(lambda: _true(len(runner.outcomes) == 10))
        assert await _stream(engine, "A") == [] and await _stream(engine, "C") == []
        outcomes = dict(zip(runner.events, [o for _, o in runner.outcomes], strict=True))
        assert [outcomes[n] for n in (100, 101, 102, 103)] == ["dead-letter", "parked", "parked", "parked"]

        listed = await _cli(settings, "dead-letters", "--json")
        letters = {d["case_key"]: d for d in json.loads(listed.stdout)}
        assert (letters["A"]["waiting"], letters["C"]["waiting"]) == (3, 1)
        held = await _cli(settings, "held-cases")
        assert held.returncode == 0 and "cases held by a dead letter (2)" in held.stdout

        effects.fail_times.clear()  # the cause is fixed
        redriven = await _cli(settings, "redrive", str(letters["A"]["id"]))
        assert redriven.returncode == 0, redriven.stderr
        assert "case A flows again" in redriven.stdout
        assert await _stream(engine, "A") == [100, 101, 102, 103]  # in order, each once

        discarded = await _cli(settings, "discard", str(letters["C"]["id"]))
        assert discarded.returncode == 0, discarded.stderr
        assert await _stream(engine, "C") == [301]

        await publish(settings, Noted(stream="A", n=104), Noted(stream="C", n=302))  # flowing again
        await eventually(lambda: _stream_is(engine, "A", [100, 101, 102, 103, 104]))
        await eventually(lambda: _stream_is(engine, "C", [301, 302]))

    assert json.loads((await _cli(settings, "dead-letters", "--json")).stdout) == []
    states = {d["case_key"]: d["state"] for d in json.loads((await _cli(settings, "dead-letters", "--all",
                                                                        "--json")).stdout)}
    assert states == {"A": "re-driven", "C": "discarded"}
    assert await _count(engine, "SELECT count(*) FROM parked_events") == 0
    assert await _count(engine, "SELECT count(*) FROM parked_cases") == 0


async def test_a_re_drive_that_fails_again_stops_there_and_the_case_stays_held(kernel_db):
    engine, settings = kernel_db
    await _effects_table(engine)
    effects = Effects(fail_times={100: 1000, 101: 1000})
    runner = _runner(engine, settings, effects)
    await publish(settings, Noted(stream="A", n=100), Noted(stream="A", n=101), Noted(stream="A", n=102))
    async with running(runner):
        await eventually(lambda: _true(len(runner.outcomes) == 3))
        [letter] = json.loads((await _cli(settings, "dead-letters", "--json")).stdout)
        del effects.fail_times[100]  # fixed for the first, not for the second
        stopped = await _cli(settings, "redrive", str(letter["id"]))
        assert stopped.returncode == 1 and "handler failed on 101" in stopped.stderr
        assert await _stream(engine, "A") == [100]
        # The event that failed again is now the case's dead letter; the third still waits.
        [again] = json.loads((await _cli(settings, "dead-letters", "--json")).stdout)
        assert (again["type"], again["case_key"], again["waiting"]) == (Noted.type, "A", 1)
        effects.fail_times.clear()
        assert (await _cli(settings, "redrive", str(again["id"]))).returncode == 0
        assert await _stream(engine, "A") == [100, 101, 102]
