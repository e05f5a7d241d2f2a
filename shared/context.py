"""Who is acting and in which conversation: carried from the request (or the consumed event)
into the metadata of every event recorded and every log line written."""

from __future__ import annotations

from contextvars import ContextVar

from asgi_correlation_id import correlation_id

actor: ContextVar[str] = ContextVar("actor", default="anonymous")
role: ContextVar[str | None] = ContextVar("role", default=None)
source_ip: ContextVar[str | None] = ContextVar("source_ip", default=None)
causation_id: ContextVar[str | None] = ContextVar("causation_id", default=None)


def metadata() -> dict[str, str]:
    """The metadata recorded with every event: actor, role, source ip, correlation, causation."""
    values = {
        "actor": actor.get(),
        "role": role.get(),
        "source_ip": source_ip.get(),
        "correlation_id": correlation_id.get(),
        "causation_id": causation_id.get(),
    }
    return {k: v for k, v in values.items() if v}
