"""Identifiers of things that are made all day long and looked up by id: cases, the events of
the store and of the outbox, peer evaluations.

Each is a UUID version 7 (RFC 9562): its first 48 bits are the moment it was made, in
milliseconds, so ids made one after another sort one after another. Every index keyed by such an
id (the case's row, its stream in the store, its assignment, its sealed people; the store's and
the outbox's unique `event_id`) then takes each new one at its right-hand edge, on pages already
in memory, instead of on a random page of an index that a national year makes larger than the
database's buffers (random version-4 ids: one page read and one page written back, in full to
the write-ahead log after each checkpoint, per index per write; docs/benchmarks.md "Growth").
The ids stay UUIDs: existing version-4 ids and version-7 ones live side by side, in the same
columns.

What an id gives away is when the thing was made, to the millisecond, which the event that
made it says anyway.
"""

from __future__ import annotations

import uuid

from uuid6 import uuid7


def new_id() -> uuid.UUID:
    """A new time-ordered UUID (version 7), as the standard library's type."""
    return uuid.UUID(int=uuid7().int)


def new_case_id() -> str:
    """A new case's id."""
    return str(new_id())
