"""The database engine of one service, and the kernel's own tables.

Every service's database holds the same kernel tables beside its projections:
`events` (the event store), `outbox` (integration events waiting for the relay),
`relay_cursor` (how far the relay has published), `inbox` (integration events a consumer
has already handled), `dead_letters` with `parked_cases` and `parked_events` (a case's events
waiting behind its dead letter), for personal data `personal_data_keys` and
`personal_data_reads` (docs/privacy.md), `snapshots` of the streams that grow without bound
(shared/snapshot.py), and `idempotency_keys` (the first answer to a keyed POST:
shared/idempotency.py). Their DDL lives here, once; each service's first
migration calls `create_kernel_tables()`. Every statement is IF NOT EXISTS, so a later
migration that calls it again adds only the tables a database created earlier lacks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# asyncpg ships no type information (no py.typed, no stubs): its objects are Any here.
import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from shared.settings import ServiceSettings

KERNEL_DDL = [
    # The event store. (stream_id, version) is the optimistic-concurrency guard.
    """
    CREATE TABLE IF NOT EXISTS events (
        position    bigserial   NOT NULL UNIQUE,
        stream_id   text        NOT NULL,
        version     integer     NOT NULL CHECK (version >= 1),
        event_id    uuid        NOT NULL UNIQUE,
        type        text        NOT NULL,
        data        jsonb       NOT NULL,
        metadata    jsonb       NOT NULL DEFAULT '{}'::jsonb,
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (stream_id, version)
    )
    """,
    "CREATE INDEX IF NOT EXISTS events_type_position ON events (type, position)",
    # The outbox. txid is the writing transaction's id: the relay reads only rows whose
    # transaction is older than every transaction still running (docs/adr/0002), so a row that
    # commits late can never be skipped.
    """
    CREATE TABLE IF NOT EXISTS outbox (
        position    bigserial   PRIMARY KEY,
        txid        xid8        NOT NULL DEFAULT pg_current_xact_id(),
        event_id    uuid        NOT NULL UNIQUE,
        topic       text        NOT NULL,
        key         text,
        type        text        NOT NULL,
        source      text        NOT NULL,
        subject     text        NOT NULL,
        time        timestamptz NOT NULL,
        data        jsonb       NOT NULL,
        extensions  jsonb       NOT NULL DEFAULT '{}'::jsonb
    )
    """,
    "CREATE INDEX IF NOT EXISTS outbox_txid_position ON outbox (txid, position)",
    """
    CREATE TABLE IF NOT EXISTS relay_cursor (
        relay        text        PRIMARY KEY,
        txid         xid8        NOT NULL,
        position     bigint      NOT NULL,
        published    bigint      NOT NULL DEFAULT 0,
        updated_at   timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS inbox (
        consumer     text        NOT NULL,
        event_id     text        NOT NULL,
        type         text        NOT NULL,
        topic        text        NOT NULL,
        handled_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
    )
    """,
    # Dead letters are also kept here (besides the dead-letter topic) so they can be listed and
    # replayed even when the broker has lost them.
    """
    CREATE TABLE IF NOT EXISTS dead_letters (
        id           bigserial   PRIMARY KEY,
        consumer     text        NOT NULL,
        topic        text        NOT NULL,
        partition    integer     NOT NULL,
        "offset"     bigint      NOT NULL,
        event_id     text,
        type         text,
        key          bytea,
        value        bytea,
        headers      jsonb       NOT NULL DEFAULT '[]'::jsonb,
        error        text        NOT NULL,
        recorded_at  timestamptz NOT NULL DEFAULT now(),
        replayed_at  timestamptz
    )
    """,
    # Dead letters and per-case sequencing (docs/reliability.md): the case (the message's key)
    # a dead letter holds, and whether an operator threw it away rather than re-drove it.
    "ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS case_key text",
    "ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS discarded_at timestamptz",
    # A case held by one of its events that a consumer could not apply (its dead letter): the
    # case's later events wait in parked_events until an operator re-drives or discards the dead
    # letter (action), which the service's running consumer then carries out, in order.
    """
    CREATE TABLE IF NOT EXISTS parked_cases (
        consumer       text        NOT NULL,
        case_key       text        NOT NULL,
        dead_letter_id bigint      NOT NULL,
        parked_at      timestamptz NOT NULL DEFAULT now(),
        action         text        CHECK (action IN ('redrive', 'discard')),
        requested_at   timestamptz,
        requested_by   text,
        error          text,
        PRIMARY KEY (consumer, case_key)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS parked_events (
        id           bigserial   PRIMARY KEY,
        consumer     text        NOT NULL,
        case_key     text        NOT NULL,
        topic        text        NOT NULL,
        partition    integer     NOT NULL,
        "offset"     bigint      NOT NULL,
        event_id     text        NOT NULL,
        type         text        NOT NULL,
        key          bytea,
        value        bytea,
        headers      jsonb       NOT NULL DEFAULT '[]'::jsonb,
        parked_at    timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX IF NOT EXISTS parked_events_case ON parked_events (consumer, case_key, id)",
    # A message delivered again (a crash before its offset was committed) waits only once.
    "CREATE UNIQUE INDEX IF NOT EXISTS parked_events_event ON parked_events (consumer, event_id)",
    # Personal data (docs/privacy.md): one data key per aided person and version, wrapped by a
    # master key. Erasure nulls wrapped_key (crypto-shredding) and keeps who, when and why;
    # rows are never deleted, so an erased version is told apart from a forged token.
    """
    CREATE TABLE IF NOT EXISTS personal_data_keys (
        person_ref    text        NOT NULL,
        key_version   integer     NOT NULL CHECK (key_version >= 1),
        master_key_id text,
        wrapped_key   bytea,
        created_at    timestamptz NOT NULL DEFAULT now(),
        erased_at     timestamptz,
        erased_by     text,
        erase_reason  text,
        PRIMARY KEY (person_ref, key_version),
        CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
    )
    """,
    # Who saw an aided person's personal data unmasked, when, for which case (docs/privacy.md).
    """
    CREATE TABLE IF NOT EXISTS personal_data_reads (
        id             bigserial   PRIMARY KEY,
        read_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor          text        NOT NULL,
        role           text,
        case_id        text        NOT NULL,
        person_ref     text,
        fields         text[]      NOT NULL,
        purpose        text,
        source_ip      text,
        correlation_id text
    )
    """,
    "CREATE INDEX IF NOT EXISTS personal_data_reads_case ON personal_data_reads (case_id, read_at)",
    "CREATE INDEX IF NOT EXISTS personal_data_reads_actor ON personal_data_reads (actor, read_at)",
    # Snapshots of the streams that grow without bound (shared/snapshot.py): an aggregate's state
    # as of one version, so loading it folds only the events after. A cache of the store, never
    # its truth: deleting every row changes no decision, only how long loading takes.
    """
    CREATE TABLE IF NOT EXISTS snapshots (
        stream_id   text        PRIMARY KEY,
        version     integer     NOT NULL CHECK (version >= 1),
        schema      text        NOT NULL,
        state       jsonb       NOT NULL,
        taken_at    timestamptz NOT NULL DEFAULT clock_timestamp()
    )
    """,
    # The first answer to each keyed POST (shared/idempotency.py): per caller, method, path and key
    # (id is their digest, so a long path fits an index); status is null while the first runs.
    """
    CREATE TABLE IF NOT EXISTS idempotency_keys (
        id            text        PRIMARY KEY,
        caller        text        NOT NULL,
        method        text        NOT NULL,
        path          text        NOT NULL,
        key           text        NOT NULL,
        fingerprint   text        NOT NULL,
        status        integer,
        headers       jsonb,
        body          bytea,
        created_at    timestamptz NOT NULL,
        completed_at  timestamptz
    )
    """,
    "CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at)",
]

KERNEL_TABLES = [
    "idempotency_keys",
    "snapshots",
    "personal_data_reads",
    "personal_data_keys",
    "parked_events", "parked_cases",
    "dead_letters", "inbox", "relay_cursor", "outbox", "events"]


def create_kernel_tables(execute: Callable[[str], object]) -> None:
    """Run the kernel DDL through `execute` (Alembic's `op.execute`)."""
    for statement in KERNEL_DDL:
        execute(statement)


def drop_kernel_tables(execute: Callable[[str], object]) -> None:
    for table in KERNEL_TABLES:
        execute(f"DROP TABLE IF EXISTS {table}")


def create_engine(settings: ServiceSettings) -> AsyncEngine:
    engine = create_async_engine(
        settings.sqlalchemy_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        # No pre-ping round trip on every checkout (two per registration): a connection whose
        # server went away is refused at checkout instead, for free (`_refuse_closed`).
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args=settings.database_connect_args(),
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection whose server went away (PostgreSQL restarted) never leaves the pool.

    The kernel's hot paths speak to asyncpg directly (shared.store.driver), so an error on a dead
    connection never reaches SQLAlchemy, which would have invalidated it: it went back into the
    pool and failed every later checkout ("connection is closed", forever). asyncpg marks a
    connection closed as soon as its socket is (no round trip), and DisconnectionError here makes
    the pool throw it away and hand out a fresh one."""
    raw = getattr(dbapi_connection, "_connection", None)
    if raw is not None and raw.is_closed():
        raise DisconnectionError("the pooled connection's server went away")


# asyncpg's errors of a connection that is gone or a server that is stopping or starting:
# connection exceptions (SQLSTATE class 08) and operator intervention (57: admin shutdown,
# crash shutdown, cannot connect now).
_GONE = (asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
         asyncpg.exceptions.ConnectionDoesNotExistError)


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and everything it wraps (SQLAlchemy's `orig`, causes, contexts), each once."""
    seen: dict[int, BaseException] = {}
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen[id(current)] = current
        todo += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return list(seen.values())


# PostgreSQL's "transaction rollback" errors that running the transaction again resolves: a
# deadlock (PostgreSQL aborted one side) and a serialization failure.
_RUN_AGAIN = {"40P01", "40001"}


def is_transaction_conflict(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) is a deadlock or serialization failure: PostgreSQL rolled
    the transaction back for another's sake, and the same work in a new transaction succeeds."""
    return any(getattr(e, "sqlstate", None) in _RUN_AGAIN for e in _chain(exc))


def is_disconnect(exc: BaseException) -> bool:
    """Whether `exc` (or what it wraps) says the database connection is gone: not the fault of
    the request or the message being handled, so a consumer restarts rather than dead-letters,
    and the relay takes a fresh connection (and its lock again)."""
    for current in _chain(exc):
        if isinstance(current, (*_GONE, DisconnectionError)):
            return True
        if isinstance(current, asyncpg.InterfaceError) and "connection is closed" in str(current):
            return True
        if isinstance(current, (ConnectionError, TimeoutError)) or type(current) is OSError:
            return True
    return False
