"""The auditor's endpoints every service has (docs/security.md): who recorded each event of a
stream, and who was shown an aided person's personal data unmasked. Read-only, auditors only."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from shared import audit
from shared.aggregate import NotFound
from shared.auth import Role, allow
from shared.deps import EngineDep
from shared.paging import Offset

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], dependencies=[allow(Role.auditor)])
# The tag's description in every service's OpenAPI document (shared.service.build_app).
TAGS = {"audit": "For auditors, on every service: who recorded each event of a stream, and who was "
                 "shown an aided person's personal data unmasked (docs/privacy.md)."}


class PersonalDataReadView(BaseModel):
    """A read as auditors see it: without the row id and the person's pseudonym."""

    read_at: datetime
    actor: str
    role: str | None
    case_id: str
    fields: list[str]
    purpose: str | None
    source_ip: str | None
    correlation_id: str | None


@router.get(
    "/streams/{stream_id}/events",
    response_model=list[audit.AuditedEvent],
    summary="Who did what to one stream",
    description="Every event of the stream (e.g. `case-<id>`) in order: its type, when it was recorded, "
                "and the actor, role, source IP and correlation id of the command that recorded it. Never "
                "the event's data, which may hold sealed personal data.",
)
async def stream_events(
    stream_id: Annotated[str, Path(max_length=200, pattern=r"^[A-Za-z0-9_.:\-]+$")], engine: EngineDep,
) -> list[audit.AuditedEvent]:
    async with engine.connect() as conn:
        events = await audit.stream_events_with_metadata(conn, stream_id)
    if not events:
        raise NotFound(f"no stream {stream_id}")
    return events


@router.get(
    "/personal-data-reads",
    response_model=list[PersonalDataReadView],
    summary="Who saw an aided person's personal data",
    description="Each response that showed an aided person's personal data unmasked: who, in which role, "
                "when, for which case, which fields, from which address. Newest first; `since` inclusive, "
                "`until` exclusive.",
)
async def personal_data_reads(
    engine: EngineDep,
    case_id: Annotated[str | None, Query(max_length=64)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_PAGE)] = 100,
) -> list[PersonalDataReadView]:
    async with engine.connect() as conn:
        reads = await audit.list_reads(conn, case_id=case_id, actor=actor, since=since, until=until,
                                       offset=offset, limit=limit)
    return [
        PersonalDataReadView(**{k: v for k, v in asdict(r).items() if k in PersonalDataReadView.model_fields})
        for r in reads
    ]
