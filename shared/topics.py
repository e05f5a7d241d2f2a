"""Topic names, their production settings, and their explicit creation.

Topics are created explicitly, never by a producer's first send: Tansu would auto-create
them with its own partition count, and in production the Strimzi `KafkaTopic` resources are
the truth (`kafka_create_topics` is off there). Those resources (scripts/k8s_generate.py) and
the AsyncAPI document's channel bindings (shared.asyncapi) both take partitions, replicas and
retention from `topic_spec` here, so the two cannot tell different stories.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

# aiokafka ships no type information (no py.typed, no stubs): its objects are Any here.
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # type: ignore[import-untyped]
from aiokafka.errors import TopicAlreadyExistsError  # type: ignore[import-untyped]

import shared.contracts  # noqa: F401  (registers every event type, so the catalogue is whole)

# The bar association reports its outcomes back on a topic of its own (design.md §4), described
# by shared/contracts/bar_association.py; its KafkaUser writes it, sanctions consumes it.
from shared.contracts.bar_association import BAR_OUTCOMES as BAR_OUTCOMES
from shared.contracts.sanctions import BAR_NOTICES
from shared.events import registered_events
from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

DEAD_LETTER_SUFFIX = ".dlq"
RELAY_EPOCH_SUFFIX = ".relay-epoch"
# What `ensure_topics` creates on the development broker (production: `topic_spec`).
PARTITIONS = 4

DAY_MS = 24 * 3600 * 1000
# Partitions bound how many consumer replicas share a topic's work; events are keyed by case, so
# more partitions never reorder one case. 12 divides evenly among 1, 2, 3, 4 and 6 replicas.
EVENT_PARTITIONS = 12
# Three copies, two of which must have a write before it is acknowledged (acks=all): every
# acknowledged event survives the loss of one node, and writes go on while one node restarts.
REPLICAS = 3
MIN_INSYNC_REPLICAS = 2


@dataclass(frozen=True)
class TopicSpec:
    """A topic as production creates it (its Strimzi KafkaTopic)."""

    partitions: int
    retention_ms: int  # -1: forever
    retention_bytes: int | None = None  # None: the broker's default (no size limit)
    replicas: int = REPLICAS
    min_insync_replicas: int = MIN_INSYNC_REPLICAS
    cleanup_policy: str = "delete"

    def kafka_config(self) -> dict[str, str]:
        """The topic's configuration as Kafka (and a KafkaTopic's `spec.config`) spells it."""
        config = {"min.insync.replicas": str(self.min_insync_replicas), "cleanup.policy": self.cleanup_policy,
                  "retention.ms": str(self.retention_ms)}
        if self.retention_bytes is not None:
            config["retention.bytes"] = str(self.retention_bytes)
        return config


def topic_spec(topic: str) -> TopicSpec:
    """Partitions, replicas and retention of one topic (unprefixed name), with the reason for each."""
    if topic.endswith(RELAY_EPOCH_SUFFIX):
        # One marker record the relay reads back to notice a broker that lost its data: a
        # single partition (its end offset must be exact) kept forever (it is a few bytes).
        return TopicSpec(partitions=1, retention_ms=-1, retention_bytes=-1)
    if topic.endswith(DEAD_LETTER_SUFFIX):
        # Dead letters wait for a person: 90 days. The service's dead_letters table keeps them
        # too, so the topic is for tools that read Kafka, not the only copy.
        return TopicSpec(partitions=3, retention_ms=90 * DAY_MS)
    if topic in (BAR_NOTICES, BAR_OUTCOMES):
        # The bar association's system is outside the bureau: a year of notices and outcomes
        # lets it be rebuilt or audited without the bureau re-sending anything.
        return TopicSpec(partitions=3, retention_ms=365 * DAY_MS)
    # Integration events: every service's event store is the truth and the relay can publish
    # again, so 30 days only has to outlast the longest outage of a consumer.
    return TopicSpec(partitions=EVENT_PARTITIONS, retention_ms=30 * DAY_MS)


def dead_letter_topic(topic: str) -> str:
    return f"{topic}{DEAD_LETTER_SUFFIX}"


def relay_epoch_topic(settings: ServiceSettings) -> str:
    """One single-partition topic per relay whose only purpose is to notice a broker that lost
    its data (see shared.outbox.Relay._broker_lost_data)."""
    return settings.topic(f"legalaid.{settings.service_name}{RELAY_EPOCH_SUFFIX}")


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
                [NewTopic(name=t, num_partitions=1 if t.endswith(RELAY_EPOCH_SUFFIX) else partitions,
                          replication_factor=1) for t in missing]
            )
        except TopicAlreadyExistsError:
            pass  # another service created it between our list and our create
        log.info("topics created", extra={"topics": missing})
    finally:
        await admin.close()
