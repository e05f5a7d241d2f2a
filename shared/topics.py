"""Topic names and their explicit creation.

Topics are created explicitly, never by a producer's first send: Tansu would auto-create
them with its own partition count, and in production the Strimzi `KafkaTopic` resources are
the truth (`kafka_create_topics` is off there).
"""

from __future__ import annotations

import logging

# aiokafka ships no type information (no py.typed, no stubs): its objects are Any here.
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # type: ignore[import-untyped]
from aiokafka.errors import TopicAlreadyExistsError  # type: ignore[import-untyped]

import shared.contracts  # noqa: F401  (registers every event type, so the catalogue is whole)
from shared.events import registered_events
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

DEAD_LETTER_SUFFIX = ".dlq"
PARTITIONS = 4


def dead_letter_topic(topic: str) -> str:
    return f"{topic}{DEAD_LETTER_SUFFIX}"


def relay_epoch_topic(settings: ServiceSettings) -> str:
    """One single-partition topic per relay whose only purpose is to notice a broker that lost
    its data (see shared.outbox.Relay._broker_lost_data)."""
    return settings.topic(f"legalaid.{settings.service_name}.relay-epoch")


def catalog_topics(settings: ServiceSettings) -> list[str]:
    """Every topic an integration event travels on, and its dead-letter topic."""
    topics = sorted({settings.topic(model.topic) for model in registered_events().values()})
    return topics + [dead_letter_topic(t) for t in topics]


async def ensure_topics(
    settings: ServiceSettings, topics: list[str], *, partitions: int = PARTITIONS
) -> None:
    if not settings.kafka_create_topics or not topics:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers,
                                **settings.kafka_security())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if not missing:
            return
        try:
            await admin.create_topics(
                [NewTopic(name=t, num_partitions=1 if t.endswith("relay-epoch") else partitions,
                          replication_factor=1) for t in missing]
            )
        except TopicAlreadyExistsError:
            pass  # another service created it between our list and our create
        log.info("topics created", extra={"topics": missing})
    finally:
        await admin.close()
