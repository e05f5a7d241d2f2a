"""An integration event type that exists only for the kernel's own tests."""

from __future__ import annotations

from typing import ClassVar

from shared.events import Envelope, IntegrationEvent, integration_event


@integration_event
class Noted(IntegrationEvent):
    type: ClassVar[str] = "legalaid.test.noted.v1"
    topic: ClassVar[str] = "legalaid.test.notes"
    key_field: ClassVar[str] = "stream"

    stream: str
    n: int


def envelopes(settings, stream: str, count: int, start: int = 0) -> list[Envelope]:
    """`count` Noted events of one stream, numbered from `start`, on the settings' topic."""
    out = []
    for n in range(start, start + count):
        e = Envelope.wrap(Noted(stream=stream, n=n), source="/test")
        out.append(Envelope(**{**e.__dict__, "topic": settings.topic(Noted.topic)}))
    return out


async def relay_rested(relay) -> bool:
    """The relay holds its lock and has run its first batch (an empty one) since: it rests."""
    return relay.locks_taken == 1 and relay._began > 0 and relay.producer is not None
