"""Dead letters are listed and replayed by an operator through the service's command line; a
replayed message, once its cause is fixed, is handled, and only once."""

import asyncio
import json
import os
import subprocess
import sys

from sqlalchemy.engine import make_url

from shared.testing.kafka import eventually, publish
from shared.tests.helpers import Noted
from shared.tests.test_consumer import (
    POISON_FAILS_AT,
    Effects,
    _effects,
    _effects_table,
    _runner,
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
