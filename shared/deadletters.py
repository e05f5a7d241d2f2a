"""Dead letters, listed and replayed (design.md §3).

The consumer runner keeps every dead-lettered message in the service's `dead_letters` table as
well as on the dead-letter topic, so an operator can see them even when the broker has lost
them, and, once the cause is fixed, put a message back on its original topic. The replayed
message is the original (same CloudEvents id, key and value): consumers that had already
handled it skip it through their inbox; the one that failed handles it now.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

# aiokafka ships no type information (no py.typed, no stubs): its objects are Any here.
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.settings import ServiceSettings
from shared.store import driver, from_jsonb


@dataclass(frozen=True)
class DeadLetter:
    id: int
    consumer: str
    topic: str
    partition: int
    offset: int
    event_id: str | None
    type: str | None
    error: str
    recorded_at: datetime
    replayed_at: datetime | None


_COLUMNS = 'id, consumer, topic, partition, "offset", event_id, type, error, recorded_at, replayed_at'


async def list_dead_letters(engine: AsyncEngine, *, include_replayed: bool = False) -> list[DeadLetter]:
    async with engine.connect() as conn:
        db = await driver(conn)
        rows = await db.fetch(
            f"SELECT {_COLUMNS} FROM dead_letters WHERE $1 OR replayed_at IS NULL ORDER BY id",  # noqa: S608 - constant columns
            include_replayed,
        )
    return [DeadLetter(**dict(r)) for r in rows]


class UnknownDeadLetter(LookupError):
    pass


async def replay(engine: AsyncEngine, settings: ServiceSettings, dead_letter_id: int) -> DeadLetter:
    """Publish the dead letter's original message to its original topic, and note when."""
    async with engine.begin() as conn:
        db = await driver(conn)
        row = await db.fetchrow(
            'SELECT topic, key, value, headers FROM dead_letters WHERE id = $1 FOR UPDATE', dead_letter_id
        )
        if row is None:
            raise UnknownDeadLetter(f"no dead letter {dead_letter_id}")
        headers = [(k, v.encode()) for k, v in from_jsonb(row["headers"])
                   if not k.startswith("x-dead-letter-")]
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers,
                                    **settings.kafka_security())
        await producer.start()
        try:
            await producer.send_and_wait(row["topic"], row["value"], key=row["key"], headers=headers)
        finally:
            await producer.stop()
        await db.execute("UPDATE dead_letters SET replayed_at = now() WHERE id = $1", dead_letter_id)
    [replayed] = [d for d in await list_dead_letters(engine, include_replayed=True) if d.id == dead_letter_id]
    return replayed


def as_json(letters: list[DeadLetter]) -> str:
    return json.dumps([{**d.__dict__, "recorded_at": d.recorded_at.isoformat(),
                        "replayed_at": d.replayed_at.isoformat() if d.replayed_at else None}
                       for d in letters],
                      ensure_ascii=False, indent=2)
