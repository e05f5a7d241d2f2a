"""Failed evaluations in through the broker; investigations out over HTTP, notices out on the
bar association's topic."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text

from services.sanctions.app import MIGRATIONS, SanctionsSettings, create_app
from shared.contracts import (
    BarNoticeIssued,
    EvaluationCompleted,
    EvaluationFailed,
    HandlerRef,
    InvestigationOpened,
)
from shared.contracts.sanctions import BAR_NOTICES, INVESTIGATIONS
from shared.events import Envelope
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish, read_topic

LAWYER = HandlerRef(handler_id="lawyer-li", name="李明", kind="lawyer", licence_number="11101200910000001",
                    institution_id="firm-a", institution_name="北京甲律师事务所")
VOLUNTEER = HandlerRef(handler_id="volunteer-zhao", name="赵志愿", kind="volunteer",
                       institution_id="uni-clinic", institution_name="某大学法律援助志愿团")
AIDED_NAME = "张三丰"
FINDINGS = f"承办人未会见受援人{AIDED_NAME}，未提交辩护词"


def evaluation_failed(handler: HandlerRef) -> EvaluationFailed:
    n = uuid.uuid4().hex[:6]
    return EvaluationFailed(evaluation_id=f"evaluation-{n}", case_id=f"case-{n}", case_number=f"FY-2026-{n}",
                            case_kind="criminal", agency_id="chaoyang-centre", handler=handler,
                            findings=FINDINGS, failed_at=datetime(2026, 11, 2, 2, 0, tzinfo=UTC))


@pytest.fixture
async def service(migrated_settings):
    settings = await migrated_settings(SanctionsSettings, MIGRATIONS)
    app = create_app(settings)
    async with serve_in_process(app) as client:
        yield settings, app, client


async def investigation_of(client, failure: EvaluationFailed) -> dict:
    async def listed():
        items = (await client.get("/api/v1/investigations")).json()["items"]
        return next((i for i in items if i["evaluation_id"] == failure.evaluation_id), None)

    return await eventually(listed)


async def test_a_lawyers_failed_case_is_investigated_and_notified_to_the_bar_association(service):
    settings, _, client = service
    failure = evaluation_failed(LAWYER)
    await publish(settings, failure, source="/fayuan/evaluation")

    listed = await investigation_of(client, failure)
    assert (listed["case_id"], listed["status"], listed["handler"]) == (failure.case_id, "open",
                                                                        LAWYER.model_dump(mode="json"))
    investigation = (await client.get(f"/api/v1/investigations/{listed['investigation_id']}")).json()
    assert investigation == listed
    notice = investigation["bar_notice"]
    assert notice["lawyer"] == LAWYER.model_dump(mode="json") and notice["case_number"] == failure.case_number
    assert (await client.get("/api/v1/bar-notices")).json()["items"] == [notice]

    [on_bar_topic], [opened] = await asyncio.gather(
        read_topic(settings.kafka_bootstrap_servers, settings.topic(BAR_NOTICES), expect=1),
        read_topic(settings.kafka_bootstrap_servers, settings.topic(INVESTIGATIONS), expect=1),
    )
    assert on_bar_topic.type == BarNoticeIssued.type and on_bar_topic.key == failure.case_id
    issued = on_bar_topic.model()
    assert (issued.notice_id, issued.investigation_id, issued.lawyer) == (
        notice["notice_id"], listed["investigation_id"], LAWYER)
    assert AIDED_NAME not in str(on_bar_topic.data) and AIDED_NAME not in notice["reason"]
    assert opened.type == InvestigationOpened.type
    assert opened.model().investigation_id == listed["investigation_id"]


async def test_a_volunteers_failed_case_is_investigated_without_a_bar_notice(service):
    settings, _, client = service
    failure = evaluation_failed(VOLUNTEER)
    await publish(settings, failure, source="/fayuan/evaluation")

    investigation = await investigation_of(client, failure)
    assert investigation["bar_notice"] is None and investigation["handler"]["kind"] == "volunteer"
    assert (await client.get("/api/v1/bar-notices")).json()["total"] == 0
    # The opening and any notice leave in one outbox transaction: once the opening is out, a
    # notice would be too.
    await read_topic(settings.kafka_bootstrap_servers, settings.topic(INVESTIGATIONS), expect=1)
    assert await read_topic(settings.kafka_bootstrap_servers, settings.topic(BAR_NOTICES), expect=0) == []


async def redeliver(settings, envelope: Envelope) -> None:
    """Send the very same message again, as the broker does after a consumer crash."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        message = envelope.to_kafka()
        await producer.send_and_wait(settings.topic(envelope.topic), message.value, key=message.key.encode(),
                                     headers=list(message.headers.items()))
    finally:
        await producer.stop()


async def test_a_failure_told_again_opens_nothing_new(service):
    settings, app, client = service
    failure = evaluation_failed(LAWYER)
    [envelope] = await publish(settings, failure, source="/fayuan/evaluation")
    await investigation_of(client, failure)
    await redeliver(settings, envelope)  # same event id: the inbox drops it
    await publish(settings, failure, source="/fayuan/evaluation")  # same failure, new event id

    async def inbox_saw_both():
        async with app.state.engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM inbox"))).scalar_one() == 2

    await eventually(inbox_saw_both)
    assert (await client.get("/api/v1/investigations")).json()["total"] == 1
    assert (await client.get("/api/v1/bar-notices")).json()["total"] == 1
    assert len(await read_topic(settings.kafka_bootstrap_servers, settings.topic(BAR_NOTICES), expect=1)) == 1


async def test_only_the_failure_opens_an_investigation_not_the_completion_before_it(service):
    settings, _, client = service
    failure = evaluation_failed(LAWYER)
    # Evaluation tells both for a fail, in this order, on the case's partition.
    completed = EvaluationCompleted(evaluation_id=failure.evaluation_id, case_id=failure.case_id,
                                    case_number=failure.case_number, case_kind=failure.case_kind,
                                    agency_id=failure.agency_id, handler=LAWYER, grade="fail",
                                    reviewer_id="reviewer-wang", completed_at=failure.failed_at)
    await publish(settings, completed, failure, source="/fayuan/evaluation")
    await investigation_of(client, failure)
    assert (await client.get("/api/v1/investigations")).json()["total"] == 1


async def test_investigations_filter_by_status_and_paginate(service):
    settings, _, client = service
    failures = [evaluation_failed(VOLUNTEER) for _ in range(3)]
    await publish(settings, *failures, source="/fayuan/evaluation")

    async def all_three():
        return (await client.get("/api/v1/investigations", params={"status": "open"})).json()["total"] == 3

    await eventually(all_three)
    page = (await client.get("/api/v1/investigations", params={"limit": 2, "offset": 2})).json()
    assert (page["total"], len(page["items"]), page["offset"], page["limit"]) == (3, 1, 2, 2)
    bad = await client.get("/api/v1/investigations", params={"status": "closed-forever"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.status"
    missing = await client.get("/api/v1/investigations/nope")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
