"""Python's cyclic garbage collector, paused while a process makes millions of short-lived rows
that hold no reference cycles (a batched rebuild's rows, a disclosure's facts): every new object
counts towards the next collection, and each collection walks every object still alive, so with
the collector running such work spent a third (a rebuild) to three fifths (a national disclosure)
of its CPU walking rows that reference counting frees anyway."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collecting_paused() -> Iterator[None]:
    """The collector paused for the block, and as it was afterwards. Pauses may overlap (two
    drafts in one server, a rebuild inside a command): the one that found it running turns it
    back on, so it is never left off. Cycles made meanwhile elsewhere in the process wait for the
    next collection after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
