"""Identifiers of things that are made all day long and looked up by id: cases, first of all.

A case id is a UUID version 7 (RFC 9562): its first 48 bits are the moment it was made, in
milliseconds, so ids made one after another sort one after another. Every index keyed by a case
id (the case's row, its stream in the store, its assignment, its sealed people) then takes each
new case at its right-hand edge, on pages already in memory, instead of on a random page of an
index that a national year makes larger than the database's buffers (random version-4 ids: one
page read and one page written back per index per case; docs/benchmarks.md "Growth"). The ids
stay UUIDs: existing version-4 ids and version-7 ones live side by side, in the same columns.

What the id gives away is when the case was registered, to the millisecond, which its
`CaseRegistered` event says anyway.
"""

from __future__ import annotations

from uuid6 import uuid7


def new_case_id() -> str:
    """A new case's id: a time-ordered UUID (version 7)."""
    return str(uuid7())
