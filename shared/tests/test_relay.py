import asyncio

from shared import outbox
from shared.events import Envelope
from shared.outbox import Relay
from shared.testing.kafka import read_topic
from shared.tests.helpers import Noted


def _envelopes(settings, stream: str, count: int, start: int = 0) -> list[Envelope]:
    out = []
    for n in range(start, start + count):
        e = Envelope.wrap(Noted(stream=stream, n=n), source="/test")
        out.append(Envelope(**{**e.__dict__, "topic": settings.topic(Noted.topic)}))
    return out


async def test_relay_publishes_committed_rows_in_order_as_cloudevents(kernel_db, kafka_bootstrap):
    engine, settings = kernel_db
    async with engine.begin() as conn:
        await outbox.add(conn, _envelopes(settings, "s1", 30))
    relay = Relay(engine, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    seen = await read_topic(kafka_bootstrap, settings.topic(Noted.topic), expect=30, quiet_seconds=1.0)
    stop.set()
    await task
    assert [e.data["n"] for e in seen if e.key == "s1"] == list(range(30))
    assert all(e.type == Noted.type and e.source == "/test" for e in seen)
