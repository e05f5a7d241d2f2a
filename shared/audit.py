"""What auditors look at: who saw an aided person's personal data unmasked, and who recorded
each event of a stream.

`record_read` takes who, role, source ip and correlation from `shared.context` (set from the
caller's token and request), so a handler names only the case and the fields it showed. Call it
on the connection that read the data, before the response leaves: a read that is shown is
recorded, and a read whose transaction rolls back was not shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from asgi_correlation_id import correlation_id
from sqlalchemy.ext.asyncio import AsyncConnection

from shared import context, store
from shared.store import driver

MAX_PAGE = 500


@dataclass(frozen=True)
class PersonalDataRead:
    id: int
    read_at: datetime
    actor: str
    role: str | None
    case_id: str
    person_ref: str | None
    fields: list[str]
    purpose: str | None
    source_ip: str | None
    correlation_id: str | None


async def record_read(
    conn: AsyncConnection,
    *,
    case_id: str,
    fields: Sequence[str],
    person_ref: str | None = None,
    purpose: str | None = None,
) -> PersonalDataRead:
    """Record that the current actor was shown `fields` of the aided person of `case_id` unmasked."""
    if not fields:
        raise ValueError("a read of personal data names the fields shown")
    db = await driver(conn)
    row = await db.fetchrow(
        "INSERT INTO personal_data_reads "
        "(actor, role, case_id, person_ref, fields, purpose, source_ip, correlation_id) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
        context.actor.get(),
        context.role.get(),
        case_id,
        person_ref,
        sorted(set(fields)),
        purpose,
        context.source_ip.get(),
        correlation_id.get(),
    )
    return PersonalDataRead(**dict(row))


async def list_reads(
    conn: AsyncConnection,
    *,
    case_id: str | None = None,
    actor: str | None = None,
    person_ref: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
) -> list[PersonalDataRead]:
    """Reads matching every filter given, newest first; `since` inclusive, `until` exclusive."""
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ValueError(f"limit is 1..{MAX_PAGE} and offset is not negative")
    db = await driver(conn)
    rows = await db.fetch(
        "SELECT * FROM personal_data_reads WHERE ($1::text IS NULL OR case_id = $1) "
        "AND ($2::text IS NULL OR actor = $2) AND ($3::text IS NULL OR person_ref = $3) "
        "AND ($4::timestamptz IS NULL OR read_at >= $4) AND ($5::timestamptz IS NULL OR read_at < $5) "
        "ORDER BY read_at DESC, id DESC OFFSET $6 LIMIT $7",
        case_id,
        actor,
        person_ref,
        since,
        until,
        offset,
        limit,
    )
    return [PersonalDataRead(**dict(r)) for r in rows]


@dataclass(frozen=True)
class AuditedEvent:
    """One event of a stream as an auditor sees it: what, when and by whom, not its data
    (which may hold sealed personal data)."""

    version: int
    type: str
    recorded_at: datetime
    actor: str | None
    role: str | None
    source_ip: str | None
    correlation_id: str | None
    causation_id: str | None


async def stream_events_with_metadata(conn: AsyncConnection, stream_id: str) -> list[AuditedEvent]:
    """The stream's events in version order with who recorded each (shared.context.metadata)."""
    return [
        AuditedEvent(
            version=e.version,
            type=e.type,
            recorded_at=e.recorded_at,
            actor=e.metadata.get("actor"),
            role=e.metadata.get("role"),
            source_ip=e.metadata.get("source_ip"),
            correlation_id=e.metadata.get("correlation_id"),
            causation_id=e.metadata.get("causation_id"),
        )
        for e in await store.load(conn, stream_id)
    ]
