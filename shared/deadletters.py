"""Dead letters and the cases they hold: listed, re-driven or discarded by an operator
(docs/reliability.md, docs/operations.md).

The consumer runner keeps every dead-lettered message in the service's `dead_letters` table as
well as on the dead-letter topic, so an operator can see them even when the broker has lost
them. A dead letter of one of a case's events holds that case (`parked_cases`): the case's later
events wait beside it (`parked_events`) while other cases flow on.

Once the cause is fixed, the operator asks for a re-drive (or, for a message that should never
be applied, a discard). The request is written here; the service's running consumer, which has
the handlers, carries it out: the dead letter (unless discarded), then the waiting events, in
order, each once (the inbox), and the case flows again. `progress` is what the command line's
progress bar follows. A dead letter that holds no case (a message that was not an event at all)
is re-driven as before: its original message is put back on its original topic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# aiokafka ships no type information (no py.typed, no stubs): its objects are Any here.
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.settings import ServiceSettings
from shared.store import driver, from_jsonb

Action = Literal["redrive", "discard"]


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
    case_key: str | None = None
    discarded_at: datetime | None = None
    waiting: int = 0  # the case's later events waiting behind it

    @property
    def state(self) -> str:
        if self.discarded_at is not None:
            return "discarded"
        return "re-driven" if self.replayed_at is not None else "open"


_COLUMNS = ('d.id, d.consumer, d.topic, d.partition, d."offset", d.event_id, d.type, d.error, d.recorded_at, '
            "d.replayed_at, d.case_key, d.discarded_at")
_WAITING = ("(SELECT count(*) FROM parked_cases c JOIN parked_events w USING (consumer, case_key) "
            "WHERE c.dead_letter_id = d.id)::int AS waiting")


async def list_dead_letters(engine: AsyncEngine, *, include_replayed: bool = False) -> list[DeadLetter]:
    """The open dead letters (with `include_replayed`, also those re-driven or discarded)."""
    async with engine.connect() as conn:
        db = await driver(conn)
        rows = await db.fetch(
            f"SELECT {_COLUMNS}, {_WAITING} FROM dead_letters d "  # noqa: S608 - constant columns
            "WHERE $1 OR (d.replayed_at IS NULL AND d.discarded_at IS NULL) ORDER BY d.id",
            include_replayed,
        )
    return [DeadLetter(**dict(r)) for r in rows]


@dataclass(frozen=True)
class HeldCase:
    """A case whose events wait behind its dead letter."""

    consumer: str
    case_key: str
    dead_letter_id: int
    type: str | None
    error: str
    waiting: int
    parked_at: datetime
    action: str | None
    requested_at: datetime | None
    requested_by: str | None
    redrive_error: str | None

    @property
    def state(self) -> str:
        if self.action is not None:
            return f"{self.action} requested"
        return "re-drive stopped" if self.redrive_error else "waiting for an operator"


async def held_cases(engine: AsyncEngine) -> list[HeldCase]:
    async with engine.connect() as conn:
        db = await driver(conn)
        rows = await db.fetch(
            "SELECT c.consumer, c.case_key, c.dead_letter_id, d.type, d.error, "
            "(SELECT count(*) FROM parked_events w WHERE w.consumer = c.consumer "
            " AND w.case_key = c.case_key)::int AS waiting, "
            "c.parked_at, c.action, c.requested_at, c.requested_by, c.error AS redrive_error "
            "FROM parked_cases c JOIN dead_letters d ON d.id = c.dead_letter_id ORDER BY c.parked_at")
    return [HeldCase(**dict(r)) for r in rows]


class UnknownDeadLetter(LookupError):
    pass


@dataclass(frozen=True)
class Request:
    """What an operator's re-drive or discard of one dead letter set going."""

    dead_letter_id: int
    action: Action
    consumer: str
    topic: str
    case_key: str | None  # None: it held no case (re-driven by putting it back on its topic)
    waiting: int


async def request(engine: AsyncEngine, settings: ServiceSettings, dead_letter_id: int, action: Action,
                  *, actor: str) -> Request:
    """Ask for a dead letter to be re-driven or discarded. For one that holds a case, the
    service's consumer carries it out (follow it with `progress`); one that holds none is put
    back on its topic now (re-drive) or marked discarded."""
    async with engine.begin() as conn:
        db = await driver(conn)
        row = await db.fetchrow(
            "SELECT id, consumer, topic, key, value, headers FROM dead_letters WHERE id = $1 FOR UPDATE",
            dead_letter_id)
        if row is None:
            raise UnknownDeadLetter(f"no dead letter {dead_letter_id}")
        case = await db.fetchrow(
            "UPDATE parked_cases SET action = $2, requested_at = now(), requested_by = $3, error = NULL "
            "WHERE dead_letter_id = $1 RETURNING consumer, case_key", dead_letter_id, action, actor)
        if case is not None:
            waiting = await db.fetchval(
                "SELECT count(*) FROM parked_events WHERE consumer = $1 AND case_key = $2",
                case["consumer"], case["case_key"])
            return Request(dead_letter_id, action, case["consumer"], row["topic"], case["case_key"], waiting)
        if action == "discard":
            await db.execute("UPDATE dead_letters SET discarded_at = now() WHERE id = $1", dead_letter_id)
        else:
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
        return Request(dead_letter_id, action, row["consumer"], row["topic"], None, 0)


@dataclass(frozen=True)
class Progress:
    remaining: int  # the dead letter (while open) and the events still waiting
    done: bool  # the case flows again
    error: str | None  # the re-drive stopped here (the case is still held)


async def progress(engine: AsyncEngine, consumer: str, case_key: str) -> Progress:
    async with engine.connect() as conn:
        db = await driver(conn)
        case = await db.fetchrow(
            "SELECT c.action, c.error, (d.replayed_at IS NULL AND d.discarded_at IS NULL) AS open, "
            "(SELECT count(*) FROM parked_events w WHERE w.consumer = c.consumer "
            " AND w.case_key = c.case_key)::int AS waiting "
            "FROM parked_cases c JOIN dead_letters d ON d.id = c.dead_letter_id "
            "WHERE c.consumer = $1 AND c.case_key = $2", consumer, case_key)
    if case is None:
        return Progress(0, True, None)
    remaining = case["waiting"] + (1 if case["open"] else 0)
    stopped = case["error"] if case["action"] is None else None
    return Progress(remaining, False, stopped)


async def replay(engine: AsyncEngine, settings: ServiceSettings, dead_letter_id: int,
                 *, actor: str = "operator") -> Request:
    """A re-drive (kept under its former name)."""
    return await request(engine, settings, dead_letter_id, "redrive", actor=actor)


def as_json(letters: list[DeadLetter]) -> str:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return json.dumps([{**d.__dict__, "recorded_at": d.recorded_at.isoformat(),
                        "replayed_at": iso(d.replayed_at), "discarded_at": iso(d.discarded_at),
                        "state": d.state}
                       for d in letters],
                      ensure_ascii=False, indent=2)
