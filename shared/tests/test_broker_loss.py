"""A broker that comes back empty, again and again, while a relay publishes and a consumer
consumes: every event committed to the outbox is handled, whatever the consumer's position on
the broker that was lost (docs/reliability.md, "Faults: the fault run")."""

from __future__ import annotations

import asyncio
import os
import time

from sqlalchemy import text

from devstack.embedded import free_port, start_broker
from shared import outbox
from shared.consumer import ConsumerRunner
from shared.outbox import Relay
from shared.testing.kafka import embedded_broker_only, eventually
from shared.tests.helpers import Noted, envelopes

RESTARTS = int(os.environ.get("FAYUAN_BROKER_LOSS_RESTARTS", "4"))


class Handled:
    def __init__(self) -> None:
        self.seen: set[tuple[str, int]] = set()

    async def on_noted(self, event: Noted, uow) -> None:
        await uow.conn.execute(text("INSERT INTO noted_effects (stream, n) VALUES (:s, :n)"),
                               {"s": event.stream, "n": event.n})


async def _handled(engine) -> set[tuple[str, int]]:
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT stream, n FROM noted_effects"))).all()
    return {(r[0], r[1]) for r in rows}


async def _add(engine, settings, stream: str, count: int, start: int) -> set[tuple[str, int]]:
    async with engine.begin() as conn:
        await outbox.add(conn, envelopes(settings, stream, count, start))
    return {(stream, n) for n in range(start, start + count)}


def _caught_up(engine, expected: set[tuple[str, int]]):
    async def probe() -> bool:
        return expected <= await _handled(engine)

    return probe


@embedded_broker_only
async def test_every_event_is_handled_across_many_empty_broker_restarts(kernel_db, tmp_path):
    engine, settings = kernel_db
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE noted_effects (stream text, n int, PRIMARY KEY (stream, n))"))
    port = free_port()
    broker = start_broker(port, log_file=tmp_path / "tansu-0.log")
    settings = settings.model_copy(update={"kafka_bootstrap_servers": broker.bootstrap,
                                           "relay_epoch_check_seconds": 1.0})
    relay, runner = Relay(engine, settings), ConsumerRunner(
        engine, settings, name="notes", handlers={Noted: Handled().on_noted})
    stop = asyncio.Event()
    tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(runner.run(stop))]
    expected: set[tuple[str, int]] = set()
    n = 0
    rounds: list[tuple[int, float, int]] = []
    try:
        for restart in range(RESTARTS):
            # A steady flow before the loss: the consumer's position on the old broker grows.
            for stream in ("a", "b", "c", "d", "e"):
                expected |= await _add(engine, settings, stream, 3, n)
            n += 3

            caught_up = _caught_up(engine, set(expected))
            await eventually(caught_up, timeout=60)
            broker.process.kill()  # SIGKILL: nothing flushed, nothing said goodbye
            broker.process.wait()
            for stream in ("a", "c"):  # written while the broker is away
                expected |= await _add(engine, settings, stream, 2, n)
            n += 2
            caught_up = _caught_up(engine, set(expected))
            broker = start_broker(port, log_file=tmp_path / f"tansu-{restart + 1}.log")
            started = time.monotonic()
            try:
                await eventually(caught_up, timeout=90)
            except (TimeoutError, AssertionError):
                missing = sorted(expected - await _handled(engine))
                raise AssertionError(f"after restart {restart + 1}: never handled {missing}") from None
            rounds.append((restart + 1, time.monotonic() - started, len(expected)))
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        broker.stop()
        for restart, seconds, events in rounds:
            print(f"restart {restart:2d}: all {events} events handled "
                  f"{seconds:5.1f} s after the broker came back")
