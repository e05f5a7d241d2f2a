"""The bar association's loop, as a client written only from docs/asyncapi.yaml sees it: it reads
the bureau's notice from the notices topic, answers on the outcomes topic, and reads the notice
back over REST with the answer on it (R-SAN-4). The client (asyncapi_client.py) imports nothing
of Fayuan; this harness starts the sanctions service and gives it a failed case."""

from __future__ import annotations

import ast
import asyncio
import os
from datetime import date
from pathlib import Path

import httpx
import pytest

from services.sanctions.app import MIGRATIONS, SanctionsSettings, create_app
from services.sanctions.tests.test_investigations_api import LAWYER, evaluation_failed, investigation_of
from shared.auth import Role
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import create_topics, eventually, publish
from tests.bar_association import asyncapi_client
from tests.bar_association.asyncapi_client import AsyncApiDocument

pytestmark = pytest.mark.broker

EMBEDDED_BROKER_TIMEOUTS = {"max.poll.interval.ms": 6000, "session.timeout.ms": 6000}


def test_the_client_imports_nothing_of_fayuan():
    tree = ast.parse(Path(asyncapi_client.__file__).read_text(encoding="utf-8"))
    imported = {n.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for n in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported, "no imports found"
    assert not imported & {"shared", "services", "tests", "devstack", "bench", "scripts"}, imported


async def test_a_client_written_from_the_document_reads_the_notice_answers_and_sees_its_answer(
        migrated_settings):
    settings = await migrated_settings(SanctionsSettings, MIGRATIONS)
    document = AsyncApiDocument()
    notices_topic = settings.topic(document.channel_of("BarNoticeIssued", "send"))
    outcomes_topic = settings.topic(document.channel_of("BarOutcomeReported", "receive"))
    # Both topics exist before anyone uses them, as Strimzi's KafkaTopics make them in production
    # (Apache Kafka creates none on first use; a client subscribing to a missing one gets an error).
    await create_topics(settings, document.channel_of("BarNoticeIssued", "send"),
                        document.channel_of("BarOutcomeReported", "receive"))
    timeouts = {} if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else EMBEDDED_BROKER_TIMEOUTS
    app = create_app(settings)
    async with serve_in_process(app) as staff:
        failure = evaluation_failed(LAWYER)
        await publish(settings, failure, source="/fayuan/evaluation")
        await investigation_of(staff, failure)

        [notice] = await asyncio.to_thread(
            asyncapi_client.read_notices, settings.kafka_bootstrap_servers, notices_topic,
            settings.group("bar-association"), notice_type=document.message_type("BarNoticeIssued"), expect=1,
            group_timeouts=timeouts)
        data = notice["data"]
        assert notice["key"] == data["case_id"] == failure.case_id
        document.validator(document.message("BarNoticeIssued")["payload"]).validate(data)

        payload = document.payload_for("BarOutcomeReported", notice_id=data["notice_id"],
                                       case_id=data["case_id"], outcome="discipline_decided",
                                       discipline="warning", decided_on=str(date(2026, 11, 20)),
                                       reference="京律协纪字〔2026〕第41号")
        headers = document.headers_for("BarOutcomeReported", key=data["case_id"])
        await asyncio.to_thread(asyncapi_client.answer, settings.kafka_bootstrap_servers, outcomes_topic,
                                key=data["case_id"], headers=headers, payload=payload)

        bar = as_role(settings, Role.bar_association)
        # The same running service, read with the bar association's token.
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                     headers=bar) as rest:
            async def answered():
                read = await asyncapi_client.notice_over_rest(rest, data["notice_id"])
                return read if read["status"] == "disciplined" else None

            read = await eventually(answered, timeout=60)
    assert (read["discipline"], read["decided_on"], read["reference"]) == ("warning", "2026-11-20",
                                                                            "京律协纪字〔2026〕第41号")
    assert [(o["outcome"], o["channel"]) for o in read["outcomes"]] == [("discipline_decided", "event")]
