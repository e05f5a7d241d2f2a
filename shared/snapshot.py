"""Snapshots of the streams that grow without bound: an aggregate's state as of one version,
kept in the kernel's `snapshots` table, so loading it folds only the events recorded since.

An aggregate opts in by subclassing `shared.aggregate.Snapshotted` (pure, so a domain may; a
stream per agency that takes one event per case is one, a case's own stream, which ends, is
not): it says how often a snapshot is taken
(`snapshot_every` events), how its state is written (`snapshot_state`, JSON) and read back
(`restore_state`), and the shape's name (`snapshot_schema`): a snapshot of another shape (the
state's fields changed in a later release) is ignored and the stream folded whole, so a release
never reads a state it does not understand. The unit of work (shared/uow.py) reads a snapshot
when it loads such an aggregate and writes one, in the same transaction as the append, when the
stream crosses a multiple of `snapshot_every`.

A snapshot is a cache of the store, never its truth: the events stay, deleting every row of
`snapshots` changes no decision (only how long loading takes), and the test of each snapshotted
aggregate checks that the fold from a snapshot equals the fold of the whole stream.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from shared.aggregate import Snapshotted
from shared.store import driver, from_jsonb


@dataclass(frozen=True)
class Snapshot:
    stream_id: str
    version: int
    schema: str
    state: dict[str, Any]


def schema_of(cls: type[Snapshotted]) -> str:
    """The snapshot's shape as stored: the aggregate's class and its `snapshot_schema`."""
    return f"{cls.__name__}/{cls.snapshot_schema}"


async def load(conn: AsyncConnection, cls: type[Snapshotted], stream_id: str) -> Snapshot | None:
    """The stream's latest snapshot, if one of the aggregate's present shape was taken."""
    db = await driver(conn)
    row = await db.fetchrow("SELECT version, schema, state FROM snapshots WHERE stream_id = $1", stream_id)
    if row is None or row["schema"] != schema_of(cls):
        return None
    return Snapshot(stream_id=stream_id, version=row["version"], schema=row["schema"],
                    state=from_jsonb(row["state"]))


_UPSERT = """
INSERT INTO snapshots (stream_id, version, schema, state) VALUES ($1, $2, $3, $4::jsonb)
ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, schema = excluded.schema,
    state = excluded.state, taken_at = clock_timestamp()
WHERE snapshots.version < excluded.version OR snapshots.schema <> excluded.schema
"""


async def save(conn: AsyncConnection, aggregate: Snapshotted) -> None:
    """Keep the aggregate's state at its present version (an older snapshot is replaced; a newer
    one, taken by a writer that committed later, is kept)."""
    db = await driver(conn)
    await db.execute(_UPSERT, aggregate.stream_id(aggregate.id), aggregate.version,
                     schema_of(type(aggregate)),
                     json.dumps(aggregate.snapshot_state(), ensure_ascii=False, separators=(",", ":")))
