"""The event store: append with an expected version, load a stream (now or as of a time).

One row per event in the service's own `events` table. The primary key (stream_id, version)
is the optimistic-concurrency guard: two writers that loaded the same version race to insert
the same key, and the loser gets `ConcurrencyError` at insert time (not at commit), which the
command handler retries (`shared.uow.retry_on_conflict`).

It works on the connection of the caller's transaction, so the append, the outbox rows and any
read-your-writes projection commit together or not at all.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# asyncpg ships no type information (no py.typed, no stubs): its objects are Any here.
import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.ids import new_id


class ConcurrencyError(Exception):
    """The stream moved on since it was loaded: reload, decide again, append again."""

    def __init__(self, stream_id: str, expected_version: int):
        super().__init__(f"stream {stream_id} is no longer at version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version


@dataclass(frozen=True)
class NewEvent:
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    event_id: uuid.UUID = field(default_factory=new_id)  # time-ordered: shared/ids.py


@dataclass(frozen=True)
class RecordedEvent:
    stream_id: str
    version: int
    event_id: uuid.UUID
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime
    position: int


async def driver(conn: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under a SQLAlchemy one, same transaction: the kernel's hot paths
    speak to asyncpg directly to skip the ORM's per-statement cost.

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, with its first statement; until then the
    asyncpg connection is in autocommit, and whatever we ran on it would commit on its own,
    outside the caller's transaction. So when the caller is in a transaction that has not yet
    reached the server, make the adapter open it first."""
    raw = await conn.get_raw_connection()
    db: asyncpg.Connection = raw.driver_connection
    if conn.in_transaction() and not db.is_in_transaction():
        # The adapter's own BEGIN keeps SQLAlchemy's view of the transaction true (it commits or
        # rolls back what we start) for one round trip; a statement through SQLAlchemy would
        # cost a second one and the ORM's per-statement overhead.
        start = getattr(raw.dbapi_connection, "_start_transaction", None)
        if start is not None:
            await start()
        else:  # another SQLAlchemy version: the portable way
            await conn.exec_driver_sql("SELECT 1")
    return db


_INSERT = """
INSERT INTO events (stream_id, version, event_id, type, data, metadata)
SELECT $1, v, e, t, d::jsonb, m::jsonb
FROM unnest($2::int[], $3::uuid[], $4::text[], $5::text[], $6::text[]) AS x(v, e, t, d, m)
RETURNING position, version, recorded_at
"""


async def append(
    conn: AsyncConnection, stream_id: str, expected_version: int, events: list[NewEvent]
) -> list[RecordedEvent]:
    """Append `events` to `stream_id`, which must be at `expected_version` (0: new stream)."""
    if not events:
        return []
    versions = list(range(expected_version + 1, expected_version + 1 + len(events)))
    db = await driver(conn)
    try:
        rows = await db.fetch(
            _INSERT,
            stream_id,
            versions,
            [e.event_id for e in events],
            [e.type for e in events],
            [json.dumps(e.data, ensure_ascii=False) for e in events],
            [json.dumps(e.metadata, ensure_ascii=False) for e in events],
        )
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name == "events_pkey":
            raise ConcurrencyError(stream_id, expected_version) from exc
        raise
    by_version = {r["version"]: r for r in rows}
    return [
        RecordedEvent(
            stream_id=stream_id,
            version=v,
            event_id=e.event_id,
            type=e.type,
            data=e.data,
            metadata=e.metadata,
            recorded_at=by_version[v]["recorded_at"],
            position=by_version[v]["position"],
        )
        for v, e in zip(versions, events, strict=True)
    ]


def from_jsonb(value: Any) -> Any:
    """jsonb as Python: SQLAlchemy's asyncpg codec already decodes it, a bare connection does not."""
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _recorded(row: asyncpg.Record) -> RecordedEvent:
    return RecordedEvent(
        stream_id=row["stream_id"],
        version=row["version"],
        event_id=row["event_id"],
        type=row["type"],
        data=from_jsonb(row["data"]),
        metadata=from_jsonb(row["metadata"]),
        recorded_at=row["recorded_at"],
        position=row["position"],
    )


_COLUMNS = "stream_id, version, event_id, type, data, metadata, recorded_at, position"


async def load(
    conn: AsyncConnection, stream_id: str, *, as_of: datetime | None = None, after_version: int = 0
) -> list[RecordedEvent]:
    """The events of one stream in version order; with `as_of`, only those recorded by then;
    with `after_version`, only those after it (the rest of a stream loaded from a snapshot)."""
    db = await driver(conn)
    if as_of is None:
        rows = await db.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version",  # noqa: S608
            stream_id,
            after_version,
        )
    else:
        rows = await db.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND version > $2 AND recorded_at <= $3 "  # noqa: S608
            "ORDER BY version",
            stream_id,
            after_version,
            as_of,
        )
    return [_recorded(r) for r in rows]


async def read_all(
    conn: AsyncConnection, *, after_position: int = 0, limit: int = 1000
) -> list[RecordedEvent]:
    """Every stream's events in recording order, a page at a time (for rebuilding projections)."""
    db = await driver(conn)
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2",  # noqa: S608
        after_position,
        limit,
    )
    return [_recorded(r) for r in rows]
