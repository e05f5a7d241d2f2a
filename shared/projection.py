"""Typed projections: each function folds one kind of domain event into a read model, and is
found by the event's class, never by comparing type strings over raw dicts.

A service declares one `Projection` over its aggregates in `projections.py`:

    projection = Projection(Investigation, Suspension)

    @projection.on(InvestigationOpened)
    async def investigation_opened(conn, event: InvestigationOpened, at: Recorded) -> None: ...

and hands `projection` to its `ServiceSpec` as the projector. A stored event is read back
through the aggregate that owns its stream (by the stream's prefix), so the same event class in
two aggregates (an institution's and a volunteer's `CommitmentSigned`) can be routed apart with
`on(..., of=Handler)`. Events no function is registered for are left alone.

**Rebuilding.** `rebuild(engine, projection, tables)` empties the read models and folds the
whole store into them again, in one transaction. The store is read in large pages straight
from asyncpg. When every fold of a projection has an in-memory twin (`@projection.in_memory(
EventClass)`, a plain function over `Rows`, no I/O), the events are folded into rows held in
memory and the tables are written once at the end with COPY: a few microseconds per event
instead of a statement (a round trip) per write. A twin may take a narrower view of its event
(`in_memory(EventClass, view=Model)`: only the fields its rows need), when validating the whole
event would be most of the rebuild's work; the fields no twin reads are then left out of the
pages already, in PostgreSQL. Otherwise each event goes through the same
folds as a live command, one at a time. Live commands always use the per-event folds; the
in-memory twins serve the rebuild only, and each service's test checks that both give exactly
the same tables.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import JSON, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.aggregate import Aggregate, DomainEvent
from shared.collector import collecting_paused
from shared.store import RecordedEvent, driver

E = TypeVar("E", bound=DomainEvent)


@dataclass(frozen=True)
class Recorded:
    """Where and when a projected event was stored."""

    aggregate_id: str
    stream_id: str
    version: int
    position: int
    recorded_at: datetime


Fold = Callable[[AsyncConnection, Any, Recorded], Awaitable[None]]
MemoryFold = Callable[["Rows", Any, Recorded], None]


class Projection:
    def __init__(self, *aggregates: type[Aggregate]):
        # Longest prefix first: "aided-person-1" belongs to "aided-person", not to "aided".
        self._aggregates = sorted(aggregates, key=lambda a: -len(a.stream_prefix))
        self._folds: dict[tuple[type[Aggregate] | None, type[DomainEvent]], list[Fold]] = defaultdict(list)
        # Each twin with the model its event is validated as: the event's class or a view of it.
        self._memory: dict[tuple[type[Aggregate] | None, type[DomainEvent]],
                           list[tuple[MemoryFold, type[BaseModel]]]] = defaultdict(list)
        # The twins of each (aggregate, stored type), found once, not once an event.
        self._twins: dict[tuple[type[Aggregate], str], list[tuple[MemoryFold, type[BaseModel]]]] = {}

    def _check(self, events: Iterable[type[DomainEvent]], of: type[Aggregate] | None) -> None:
        for event in events:
            owners = [a for a in self._aggregates if event in a.event_types.values()]
            if not owners or (of is not None and of not in owners):
                raise ValueError(f"{event.__name__} is not an event of {of or 'the projected aggregates'}")

    def on(self, *events: type[E], of: type[Aggregate] | None = None) -> Callable[[Fold], Fold]:
        """Register the decorated function for these event classes (of one aggregate only, if
        `of` is given)."""
        self._check(events, of)

        def register(fold: Fold) -> Fold:
            for event in events:
                self._folds[(of, event)].append(fold)
            return fold

        return register

    def in_memory(self, *events: type[E], of: type[Aggregate] | None = None,
                  view: type[BaseModel] | None = None) -> Callable[[MemoryFold], MemoryFold]:
        """Register the in-memory twin of the `on(...)` folds of these event classes, for the
        batched rebuild: it must leave `Rows` as the SQL folds leave the tables. With `view`, the
        twin is handed the stored event validated as that model instead of its class: some of
        the event's fields, typed as the event types them, the others skipped unvalidated."""
        self._check(events, of)
        if view is not None:
            for event in events:
                _check_view(view, event)

        def register(fold: MemoryFold) -> MemoryFold:
            for event in events:
                self._memory[(of, event)].append((fold, view or event))
            self._twins.clear()
            return fold

        return register

    @property
    def batchable(self) -> bool:
        """Whether every event folded has an in-memory twin (then a rebuild folds in memory)."""
        return bool(self._folds) and all(key in self._memory for key in self._folds)

    def _event(self, recorded: RecordedEvent) -> tuple[type[Aggregate], type[DomainEvent]] | None:
        aggregate = self.owner(recorded.stream_id)
        if aggregate is None:
            return None
        cls = aggregate.event_types.get(recorded.type)
        return None if cls is None else (aggregate, cls)

    def _twins_of(self, aggregate: type[Aggregate], type_: str) -> list[tuple[MemoryFold, type[BaseModel]]]:
        twins = self._twins.get((aggregate, type_))
        if twins is None:
            cls = aggregate.event_types.get(type_)
            twins = [] if cls is None else [*self._memory.get((aggregate, cls), []),
                                            *self._memory.get((None, cls), [])]
            self._twins[(aggregate, type_)] = twins
        return twins

    def fold_in_memory(self, rows: Rows, stream_id: str, type_: str, data: str | bytes, version: int,
                       position: int, recorded_at: datetime) -> bool:
        """Fold one stored event, its data still JSON text (validated straight from it, without
        building the dicts first), into `rows`; False when no fold takes it."""
        aggregate = self.owner(stream_id)
        if aggregate is None:
            return False
        twins = self._twins_of(aggregate, type_)
        if not twins:
            return False
        at = Recorded(aggregate_id=stream_id[len(aggregate.stream_prefix) + 1:], stream_id=stream_id,
                      version=version, position=position, recorded_at=recorded_at)
        events: dict[type[BaseModel], BaseModel] = {}
        for fold, model in twins:
            event = events.get(model)
            if event is None:
                event = events[model] = model.model_validate_json(data)
            fold(rows, event, at)
        return True

    @property
    def unread_in_memory(self) -> dict[str, list[str]]:
        """Of each stored event type, the fields none of its in-memory twins reads (every twin of
        it takes a view without them): the batched rebuild's pages leave them out."""
        unread: dict[str, set[str]] = {}
        for (of, cls), twins in self._memory.items():
            names = [name for a in ([of] if of else self._aggregates)
                     for name, c in a.event_types.items() if c is cls]
            for _, model in twins:
                left_out = _json_keys(cls) - _json_keys(model)
                for name in names:
                    unread[name] = unread[name] & left_out if name in unread else left_out
        return {name: sorted(keys) for name, keys in sorted(unread.items()) if keys}

    @property
    def stream_prefixes(self) -> list[str]:
        return [a.stream_prefix + "-" for a in self._aggregates]

    def owner(self, stream_id: str) -> type[Aggregate] | None:
        return next((a for a in self._aggregates if stream_id.startswith(a.stream_prefix + "-")), None)

    async def __call__(self, conn: AsyncConnection, recorded: RecordedEvent) -> None:
        aggregate = self.owner(recorded.stream_id)
        if aggregate is None:
            return
        cls = aggregate.event_types.get(recorded.type)
        if cls is None:
            return
        folds = self._folds.get((aggregate, cls), []) + self._folds.get((None, cls), [])
        if not folds:
            return
        event = cls.model_validate(recorded.data)
        at = Recorded(aggregate_id=recorded.stream_id[len(aggregate.stream_prefix) + 1:],
                      stream_id=recorded.stream_id, version=recorded.version, position=recorded.position,
                      recorded_at=recorded.recorded_at)
        for fold in folds:
            await fold(conn, event, at)


def _json_keys(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def _check_view(view: type[BaseModel], event: type[DomainEvent]) -> None:
    """A view reads a stored event of `event`'s class: it names none of the fields the event
    lacks, and skips the others (it cannot forbid them)."""
    unknown = _json_keys(view) - _json_keys(event)
    if unknown:
        raise ValueError(f"{view.__name__} names fields {event.__name__} lacks: {sorted(unknown)}")
    if view.model_config.get("extra") == "forbid":
        raise ValueError(f"{view.__name__} forbids the fields of {event.__name__} it leaves out")


# --- the batched rebuild ----------------------------------------------------------------------


@dataclass(frozen=True)
class Json:
    """A JSON column's value already encoded (say by pydantic's `dump_json`, in Rust): `copy_out`
    writes it as it is instead of encoding the Python objects."""

    text: str | bytes


class DuplicateRow(Exception):
    """An in-memory insert met a row of the same primary key (the SQL insert would fail too)."""


class Rows:
    """Tables held in memory for a batched rebuild: each table's rows keyed by its primary key,
    in the order first written. Values are what the SQL folds would write (enums as their value,
    JSON as Python objects); `copy_out` writes them with COPY."""

    def __init__(self, tables: Iterable[Table]):
        self.tables = list(tables)
        self._keys = {t: _key_of([c.name for c in t.primary_key.columns]) for t in self.tables}
        self.data: dict[Table, dict[tuple[Any, ...], dict[str, Any]]] = {t: {} for t in self.tables}
        self.memo: dict[Any, Any] = {}
        """What twins keep beside the rows for their own lookups (a count the SQL fold selects,
        say): never written."""
        self._afterwards: list[tuple[str, tuple[Any, ...]]] = []

    def key(self, table: Table, values: dict[str, Any]) -> tuple[Any, ...]:
        return self._keys[table](values)

    def get(self, table: Table, *key: Any) -> dict[str, Any] | None:
        return self.data[table].get(key)

    def insert(self, table: Table, **values: Any) -> dict[str, Any]:
        """INSERT: a row of the same key already there is an error, as in SQL."""
        key = self.key(table, values)
        if key in self.data[table]:
            raise DuplicateRow(f"{table.name} {key}")
        self.data[table][key] = values
        return values

    def insert_or_ignore(self, table: Table, **values: Any) -> None:
        """INSERT ... ON CONFLICT DO NOTHING."""
        self.data[table].setdefault(self.key(table, values), values)

    def upsert(self, table: Table, values: dict[str, Any],
               on_conflict: dict[str, Any] | Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """INSERT ... ON CONFLICT DO UPDATE: `on_conflict` is the SET (values, or a function that
        changes the row in place)."""
        key = self.key(table, values)
        row = self.data[table].get(key)
        if row is None:
            self.data[table][key] = row = dict(values)
        elif callable(on_conflict):
            on_conflict(row)
        else:
            row.update(on_conflict)
        return row

    def update(self, table: Table, *key: Any, **values: Any) -> dict[str, Any] | None:
        """UPDATE ... WHERE <primary key>: nothing when the row is missing, as in SQL."""
        row = self.data[table].get(key)
        if row is not None:
            row.update(values)
        return row

    def delete(self, table: Table, *key: Any) -> None:
        self.data[table].pop(key, None)

    def scan(self, table: Table) -> Iterator[dict[str, Any]]:
        """Every row of a table (for the rare fold whose WHERE is not the primary key)."""
        return iter(list(self.data[table].values()))

    def count(self) -> int:
        return sum(len(rows) for rows in self.data.values())

    def afterwards(self, statement: str, *args: Any) -> None:
        """A write (asyncpg's `$n` parameters) to a table the rebuild does not empty, which a fold
        makes beside its rows: run after the COPY, on the same transaction, in the order queued.
        It must give what the SQL fold's own statement gives on that table as the rebuild finds
        it (an INSERT ... ON CONFLICT DO NOTHING of a row already there changes nothing)."""
        self._afterwards.append((statement, args))

    async def write_afterwards(self, db: Any) -> int:
        """Run the queued writes, each run of the same statement as one `executemany`."""
        queued, self._afterwards = self._afterwards, []
        for statement, run in itertools.groupby(queued, key=lambda write: write[0]):
            await db.executemany(statement, [args for _, args in run])
        return len(queued)

    async def copy_out(self, db: Any, on_table: Callable[[int], None] | None = None,
                       bulk_rows: int | None = None) -> None:
        """Write every table with COPY (asyncpg's binary copy), on `db`'s transaction; a table of
        `bulk_rows` rows or more (default BULK_ROWS) with its indexes built after its rows."""
        bulk = BULK_ROWS if bulk_rows is None else bulk_rows
        for table in self.tables:
            rows = self.data[table]
            if not rows:
                continue
            seen: set[str] = set()
            for row in rows.values():
                seen.update(row)
            # A column no fold wrote is left to its server default, as an INSERT without it.
            columns = [c for c in table.columns if c.name in seen or c.server_default is None]
            names = [c.name for c in columns]
            pairs = [(c.name, _default(c)) for c in columns]
            jsons = [n for n, c in enumerate(columns) if isinstance(c.type, JSON)]
            # Made as asyncpg sends them (in chunks of half a megabyte): PostgreSQL writes one
            # chunk while this process makes the next, instead of waiting for the whole table.
            records = (_record(row, pairs, jsons) for row in rows.values())
            restore = await _set_indexes_aside(db, table.name) if len(rows) >= bulk else []
            await db.copy_records_to_table(table.name, records=records, columns=names)
            for statement in restore:
                await db.execute(statement)
            if on_table is not None:
                on_table(len(rows))


# A table that gets this many rows or more has its indexes dropped before its COPY and built
# again after it, in the same transaction: one sort per index instead of an insertion per row
# into every index (random keys, such as case ids, touch a different page each, and leave the
# index half empty). PostgreSQL's advice for populating a table ("Populating a Database").
BULK_ROWS = 50_000

# The table's indexes, with the primary key or unique constraint each backs, if any. Left out
# (kept through the COPY): an index a foreign key or an exclusion constraint depends on.
_INDEXES = """
SELECT x.indrelid::regclass::text AS table, x.indexrelid::regclass::text AS index,
       pg_get_indexdef(x.indexrelid) AS definition, quote_ident(con.conname) AS constraint,
       pg_get_constraintdef(con.oid) AS constraint_definition
FROM pg_index x
LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid
                           AND con.contype IN ('p', 'u')
WHERE x.indrelid = $1::text::regclass
  AND NOT EXISTS (SELECT FROM pg_constraint other
                  WHERE other.conindid = x.indexrelid AND other.contype IN ('f', 'x'))
"""


async def _set_indexes_aside(db: Any, table: str) -> list[str]:
    """Drop `table`'s indexes (and the key constraints they back); return the statements that
    make them again, as they were. Names come quoted from the catalog."""
    restore: list[str] = []
    for index in await db.fetch(_INDEXES, table):
        if index["constraint"] is None:
            await db.execute(f"DROP INDEX {index['index']}")
            restore.append(index["definition"])
        else:
            on = f"ALTER TABLE {index['table']}"
            await db.execute(f"{on} DROP CONSTRAINT {index['constraint']}")
            restore.append(f"{on} ADD CONSTRAINT {index['constraint']} {index['constraint_definition']}")
    return restore


def _record(row: dict[str, Any], pairs: list[tuple[str, Any]], jsons: list[int]) -> list[Any]:
    """A row's values in the COPY's column order, its JSON columns encoded."""
    record = [row.get(name, default) for name, default in pairs]
    for n in jsons:
        value = record[n]
        if isinstance(value, Json):
            record[n] = value.text if isinstance(value.text, str) else value.text.decode()
        elif value is not None:
            record[n] = json.dumps(value, ensure_ascii=False)
    return record


def _key_of(names: list[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A row's primary key as a tuple (itemgetter gives one of two names or more, not of one)."""
    if len(names) == 1:
        name = names[0]
        return lambda values: (values[name],)
    return itemgetter(*names)


def _default(column: Any) -> Any:
    default = column.default
    if default is not None and getattr(default, "is_scalar", False):
        return default.arg
    return None


@dataclass(frozen=True)
class Rebuilt:
    events: int
    """Events read from the store (every stream's: the rate is the store's, not the folds')."""
    folded: int
    seconds: float
    batched: bool
    read_s: float = 0.0
    """Of `seconds`: waiting for the store's pages."""
    write_s: float = 0.0
    """Of `seconds`: writing the tables (COPY) at the end of a batched rebuild."""

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


PAGE = 20_000
_PAGE_SQL = """
SELECT stream_id, version, event_id, type, ({data})::text AS data, recorded_at, position
FROM events WHERE position > $1 ORDER BY position LIMIT $2
"""


def _page_sql(unread: Mapping[str, Sequence[str]]) -> tuple[str, list[Any]]:
    """The page query and its arguments after the position and the page's size: each event's
    data without the keys `unread` names for its type (jsonb's `-`), which PostgreSQL then neither
    writes out nor sends, nor this process reads."""
    if not unread:
        return _PAGE_SQL.format(data="data"), []
    whens, args = [], []
    for n, (type_, keys) in enumerate(unread.items()):
        whens.append(f"WHEN ${2 * n + 3} THEN data - ${2 * n + 4}::text[]")
        args += [type_, list(keys)]
    return _PAGE_SQL.format(data=f"CASE type {' '.join(whens)} ELSE data END"), args


async def count_events(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM events"))).scalar_one())


async def rebuild(engine: AsyncEngine, projection: Projection, tables: Sequence[Table], *,
                  batched: bool | None = None, page: int = PAGE,
                  on_page: Callable[[int], None] | None = None, bulk_rows: int | None = None) -> Rebuilt:
    """Empty `tables` and fold the whole store into them again through `projection`, in one
    transaction: readers see the old tables until it commits; TRUNCATE locks them, so a command
    that commits meanwhile waits and then projects onto the rebuilt ones. In memory and written
    with COPY when the projection is `batchable` (or `batched=True` asks it), else one event at
    a time through the live folds. `on_page(n)` is told each page read (a progress bar); a table
    given `bulk_rows` rows or more by the COPY gets its indexes after them (Rows.copy_out)."""
    use_memory = projection.batchable if batched is None else batched
    if use_memory and not projection.batchable:
        raise ValueError("this projection has folds without an in-memory twin")
    # The rows held for the COPY are millions of dicts in a national year: shared/collector.py.
    with collecting_paused() if use_memory else nullcontext():
        return await _rebuild(engine, projection, tables, use_memory, page, on_page, bulk_rows)


async def _rebuild(engine: AsyncEngine, projection: Projection, tables: Sequence[Table], use_memory: bool,
                   page: int, on_page: Callable[[int], None] | None, bulk_rows: int | None) -> Rebuilt:
    folded = events = 0
    started = time.perf_counter()
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)}"))
        db = await driver(conn)
        rows = Rows(tables) if use_memory else None
        # The per-event folds validate the whole event, as live; the twins only what they read.
        page_sql, args = _page_sql(projection.unread_in_memory if use_memory else {})
        position = 0
        read_s = write_s = 0.0
        pending = asyncio.ensure_future(db.fetch(page_sql, position, page, *args))
        while True:
            waited = time.perf_counter()
            batch = await pending
            read_s += time.perf_counter() - waited
            if not batch:
                break
            position = batch[-1]["position"]
            if rows is not None:  # PostgreSQL reads the next page while this one is folded
                pending = asyncio.ensure_future(db.fetch(page_sql, position, page, *args))
                await asyncio.sleep(0)  # let it send the query
            for row in batch:
                if rows is not None:
                    folded += projection.fold_in_memory(rows, row["stream_id"], row["type"], row["data"],
                                                        row["version"], row["position"], row["recorded_at"])
                elif projection.owner(row["stream_id"]) is not None:
                    await projection(conn, RecordedEvent(
                        stream_id=row["stream_id"], version=row["version"], event_id=row["event_id"],
                        type=row["type"], data=json.loads(row["data"]), metadata={},
                        recorded_at=row["recorded_at"], position=row["position"]))
                    folded += 1
            if rows is None:  # the connection is the folds' too: the next page after them
                pending = asyncio.ensure_future(db.fetch(page_sql, position, page, *args))
            events += len(batch)
            if on_page is not None:
                on_page(len(batch))
        if rows is not None:
            writing = time.perf_counter()
            await rows.copy_out(db, bulk_rows=bulk_rows)
            await rows.write_afterwards(db)
            write_s = time.perf_counter() - writing
        # TRUNCATE leaves the planner no statistics of what the tables now hold (it plans for
        # empty or unknown tables, a sequential scan of a whole read model, say) until autovacuum
        # passes: the read models' queries get plans for their new contents from the commit on.
        await db.execute(f"ANALYZE {', '.join(t.name for t in tables)}")
    return Rebuilt(events=events, folded=folded, seconds=time.perf_counter() - started,
                   batched=use_memory, read_s=read_s, write_s=write_s)
