"""An aggregate's present state, read from its own stream: the reads that show what the store
holds and no read model copies (a case's whole decision record, an agency's rules)."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from shared import store
from shared.aggregate import Aggregate

A = TypeVar("A", bound=Aggregate)


async def current(conn: AsyncConnection, cls: type[A], id: str) -> A:
    """The aggregate folded from its stream (empty, version 0, when the stream is new)."""
    rows = await store.load(conn, cls.stream_id(id))
    return cls.fold(id, [(r.type, r.data, r.recorded_at) for r in rows])
