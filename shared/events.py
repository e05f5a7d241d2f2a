"""Integration events: typed models, their versioned CloudEvents types, and the Kafka binding.

An integration event is a fact one service tells the others. Its model lives here, in the
kernel, because services may not import each other: the producer and every consumer share the
same contract. Each model has a versioned CloudEvents `type` (`legalaid.<service>.<fact>.v1`),
the topic it travels on, and the field whose value is the Kafka key (the case id for case
events, so one case's events stay in order on one partition).

On the wire: CloudEvents 1.0, Kafka protocol binding, binary mode, JSON data, built with the
`cloudevents` SDK rather than by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, ConfigDict

from shared import clock
from shared.ids import new_id

SPECVERSION = "1.0"
JSON = "application/json"
_FORMAT = JSONFormat()


class IntegrationEvent(BaseModel):
    """Base of every event that crosses a service boundary. Never carries personal data.

    Readers are tolerant (unknown fields are ignored): a producer may add an optional field
    without breaking consumers that are not upgraded yet (rolling deploys). Removing or changing
    a field is a new versioned type."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: ClassVar[str]
    topic: ClassVar[str]
    key_field: ClassVar[str]

    def key(self) -> str:
        return str(getattr(self, self.key_field))


_REGISTRY: dict[str, type[IntegrationEvent]] = {}
E = TypeVar("E", bound=type[IntegrationEvent])


def integration_event(cls: E) -> E:
    """Register an event model under its CloudEvents type (one type, one model)."""
    existing = _REGISTRY.get(cls.type)
    if existing is not None and existing is not cls:
        raise ValueError(f"event type {cls.type} registered twice")
    _REGISTRY[cls.type] = cls
    return cls


def event_model(type_: str) -> type[IntegrationEvent] | None:
    return _REGISTRY.get(type_)


def registered_events() -> dict[str, type[IntegrationEvent]]:
    return dict(_REGISTRY)


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of every registered event type, keyed by its CloudEvents type."""
    return {t: m.model_json_schema() for t, m in sorted(_REGISTRY.items())}


@dataclass(frozen=True)
class Envelope:
    """One integration event with its CloudEvents attributes, as read from or written to Kafka."""

    id: str
    type: str
    source: str
    subject: str
    time: datetime
    data: dict[str, Any]
    topic: str = ""
    key: str | None = None
    extensions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def wrap(
        cls,
        event: IntegrationEvent,
        *,
        source: str,
        event_id: str | None = None,
        time: datetime | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Envelope:
        extensions = {}
        if correlation_id:
            extensions["correlationid"] = correlation_id
        if causation_id:
            extensions["causationid"] = causation_id
        return cls(
            id=event_id or str(new_id()),  # time-ordered: shared/ids.py
            type=event.type,
            source=source,
            subject=event.key(),
            time=time or clock.now(),
            data=event.model_dump(mode="json"),
            topic=event.topic,
            key=event.key(),
            extensions=extensions,
        )

    @property
    def correlation_id(self) -> str | None:
        return self.extensions.get("correlationid")

    def model(self) -> IntegrationEvent:
        """The typed event; raises KeyError for an unknown type, ValidationError for bad data."""
        model = _REGISTRY.get(self.type)
        if model is None:
            raise KeyError(f"unknown event type {self.type}")
        return model.model_validate(self.data)

    def to_kafka(self) -> ce_kafka.KafkaMessage:
        attributes: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "specversion": SPECVERSION,
            "subject": self.subject,
            "time": self.time,
            "datacontenttype": JSON,
            **self.extensions,
        }
        if self.key is not None:
            attributes["partitionkey"] = self.key
        return ce_kafka.to_binary(CloudEvent(attributes=attributes, data=self.data), _FORMAT)

    @classmethod
    def from_kafka(
        cls, topic: str, key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes]]
    ) -> Envelope:
        """Parse a binary-mode CloudEvent; raises ValueError when it is not one."""
        raw = dict(headers or ())
        # The SDK invents an id (and assumes a specversion) when the header is missing: a
        # message without `ce_id` would then get a new id on every delivery and defeat the
        # consumers' inbox dedupe. Both are REQUIRED by the binding, so demand them.
        for required in ("ce_id", "ce_specversion"):
            if not raw.get(required):
                raise ValueError(f"not a CloudEvents binary-mode message: no {required} header")
        if _text(raw["ce_specversion"]) != SPECVERSION:
            raise ValueError(f"unsupported CloudEvents specversion {_text(raw['ce_specversion'])!r}")
        message = ce_kafka.KafkaMessage(headers=raw, key=key, value=value or b"")
        try:
            event = ce_kafka.from_binary(message, _FORMAT)
        except Exception as exc:  # the SDK raises several kinds; all mean "not a valid event"
            raise ValueError(f"not a CloudEvents binary-mode message: {exc}") from exc
        attrs = event.get_attributes()
        data = event.get_data()
        if not isinstance(data, dict):
            raise ValueError("event data is not a JSON object")
        known = {"id", "type", "source", "specversion", "subject", "time", "datacontenttype", "partitionkey"}
        time = attrs.get("time") or clock.now()
        return cls(
            id=str(attrs["id"]),
            type=str(attrs["type"]),
            source=str(attrs["source"]),
            subject=str(attrs.get("subject") or ""),
            time=time if isinstance(time, datetime) else datetime.fromisoformat(str(time)),
            data=data,
            topic=topic,
            key=key.decode() if isinstance(key, bytes) else key,
            extensions={k: str(v) for k, v in attrs.items() if k not in known},
        )


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
