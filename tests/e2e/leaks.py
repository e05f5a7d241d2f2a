"""Where a running stack could have put personal data: every record of its topics, every row of
a service's database, every line its processes wrote. Each source is named, for the scan's report."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer

from shared.testing.fixtures import dsn


async def topic_texts(bootstrap: str, prefix: str, quiet_seconds: float = 2.0,
                      timeout: float = 60.0) -> dict[str, bytes]:
    """Key, headers and value of every record on every topic under `prefix` (the integration
    topics, their .dlq topics and the bar association's), read from the beginning until quiet."""
    lister = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await lister.start()
    try:
        topics = sorted(t for t in await lister.topics() if t.startswith(prefix))
    finally:
        await lister.stop()
    assert topics, f"no topic under {prefix!r}"
    # Subscribed without a group: the consumer takes every partition of every topic itself, from
    # the client's own metadata (which, on Apache Kafka, holds only the topics it subscribed to).
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    texts: dict[str, bytes] = {}
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        quiet_since = None  # the quiet is counted from the first record: joining takes a moment
        while loop.time() < deadline and (quiet_since is None or loop.time() - quiet_since < quiet_seconds):
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for r in records:
                    quiet_since = loop.time()
                    headers = b"\n".join(k.encode() + b"=" + (v or b"") for k, v in r.headers)
                    texts[f"topic {r.topic} [{r.partition}@{r.offset}]"] = b"\n".join(
                        [r.key or b"", headers, r.value or b""])
    finally:
        await consumer.stop()
    return texts


async def database_texts(server_url: str, database: str, tables: list[str] | None = None) -> dict[str, bytes]:
    """Every row of every table of `database` (or of `tables`), one text per table; bytea
    columns are kept as bytes, not hex, so the scanner sees what they hold."""
    conn = await asyncpg.connect(dsn(server_url, database))
    try:
        if tables is None:
            tables = [r["table_name"] for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                "AND table_type = 'BASE TABLE' ORDER BY table_name")]
        texts = {}
        for table in tables:
            rows = await conn.fetch(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the catalogue
            texts[f"database {database}, table {table}"] = b"\n".join(
                b"\t".join(v if isinstance(v, bytes) else str(v).encode() for v in row.values())
                for row in rows)
        return texts
    finally:
        await conn.close()


def log_texts(workdir: Path) -> dict[str, bytes]:
    """What each process of the stack wrote (stdout and stderr, `<workdir>/logs/<service>.log`)."""
    logs = sorted((workdir / "logs").glob("*.log"))
    assert logs, f"no logs in {workdir / 'logs'}"
    return {f"log {path.name}": path.read_bytes() for path in logs}
