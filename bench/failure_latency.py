"""From a failed evaluation to its investigation and its notice: latency under a steady load.

The issue's target: p99 under 300 ms from `EvaluationFailed` committed to the investigation
opened and the notice on the bar association's topic, at 100 evaluations/s.

The bench commits, at a steady rate, `EvaluationFailed` events of lawyers' cases into the
evaluation service's outbox, in transactions of their own, exactly as the evaluation service's
grading command leaves them (its relay, running in the evaluation process, publishes them).
Then the path is the real one: the evaluation relay, the broker, sanctions' consumer (opening
the investigation and issuing the notice in one transaction), sanctions' relay, the broker.
A plain consumer, assigned every partition of the investigations and notices topics, notes when
each case's `InvestigationOpened` and `BarNoticeIssued` arrive. Latency = arrival - commit.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from shared import outbox
from shared.contracts import BarNoticeIssued, CaseKind, EvaluationFailed, HandlerRef, InvestigationOpened
from shared.db import create_engine
from shared.events import Envelope
from shared.settings import ServiceSettings

TARGET_P99_MS = 300.0


@dataclass
class Latencies:
    rate: float
    sent: int
    investigations: list[float] = field(default_factory=list)  # ms
    notices: list[float] = field(default_factory=list)  # ms

    @staticmethod
    def quantile(values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        if len(values) == 1:
            return values[0]
        return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def _failure(n: int) -> EvaluationFailed:
    return EvaluationFailed(
        evaluation_id=str(uuid.uuid4()), case_id=str(uuid.uuid4()), case_number=f"FY-BENCH-F{n:06d}",
        case_kind=CaseKind.criminal, agency_id="chaoyang-centre",
        handler=HandlerRef(handler_id=f"bench-lawyer-{n % 50}", name="律师", kind="lawyer",
                           licence_number="11101200910000001", institution_id="bench-firm",
                           institution_name="北京甲律师事务所"),
        findings="卷宗缺少辩护意见书。", failed_at=datetime.now(UTC))


async def run(database_url: str, evaluation_database: str, bootstrap: str, *, rate: float = 100.0,
              seconds: float = 20.0, patience: float = 30.0, say=print) -> Latencies:
    settings = ServiceSettings(service_name="evaluation", database_url=database_url,
                               database_name=evaluation_database, kafka_bootstrap_servers=bootstrap)
    engine = create_engine(settings)
    committed: dict[str, float] = {}
    result = Latencies(rate=rate, sent=0)
    # It notes when a message is on its topic: its own fetch must add as little as it can (the
    # embedded broker holds a fetch for its whole wait).
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                              auto_offset_reset="earliest", fetch_max_wait_ms=5)
    await reader.start()
    topics = [settings.topic(InvestigationOpened.topic), settings.topic(BarNoticeIssued.topic)]
    await reader.topics()
    partitions = [TopicPartition(t, p) for t in topics for p in sorted(reader.partitions_for_topic(t) or ())]
    reader.assign(partitions)
    await reader.seek_to_beginning(*partitions)
    done, all_in = asyncio.Event(), asyncio.Event()
    expected = [1 << 62]  # the count to wait for, once the last failure is committed

    async def read() -> None:
        kinds = {InvestigationOpened.type: result.investigations, BarNoticeIssued.type: result.notices}
        while not done.is_set():
            batch = await reader.getmany(timeout_ms=50)
            arrived = time.perf_counter()
            for records in batch.values():
                for record in records:
                    e = Envelope.from_kafka(record.topic, record.key, record.value, record.headers)
                    at = committed.get(str(e.data.get("case_id")))
                    if at is not None and e.type in kinds:
                        kinds[e.type].append((arrived - at) * 1000)
                        if len(result.notices) >= expected[0] and len(result.investigations) >= expected[0]:
                            all_in.set()

    reading = asyncio.create_task(read())
    try:
        interval = 1.0 / rate
        start = time.perf_counter()
        n = 0
        while time.perf_counter() - start < seconds:
            failure = _failure(n)
            e = Envelope.wrap(failure, source="/fayuan/evaluation")
            async with engine.begin() as conn:
                await outbox.add(conn, [Envelope(**{**e.__dict__, "topic": settings.topic(failure.topic)})])
            committed[failure.case_id] = time.perf_counter()
            n += 1
            delay = start + n * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        result.sent = expected[0] = n
        say(f"committed {n:,} failed evaluations at {n / (time.perf_counter() - start):,.0f}/s")
        if len(result.notices) < n or len(result.investigations) < n:
            try:
                await asyncio.wait_for(all_in.wait(), patience)
            except TimeoutError:
                pass
    finally:
        done.set()
        await reading
        await reader.stop()
        await engine.dispose()
    if len(result.notices) < result.sent:
        raise RuntimeError(f"{len(result.notices)} notices of {result.sent} arrived in {patience}s")
    return result
