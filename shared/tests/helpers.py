"""An integration event type that exists only for the kernel's own tests."""

from __future__ import annotations

from typing import ClassVar

from shared.events import IntegrationEvent, integration_event


@integration_event
class Noted(IntegrationEvent):
    type: ClassVar[str] = "legalaid.test.noted.v1"
    topic: ClassVar[str] = "legalaid.test.notes"
    key_field: ClassVar[str] = "stream"

    stream: str
    n: int
