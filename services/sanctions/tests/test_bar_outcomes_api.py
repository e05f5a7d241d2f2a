"""The bar association's answers to the bureau's notices (R-SAN-4): over REST and on
legalaid.bar-association.outcomes, recorded against the notice, idempotent, refused when they
break the contract; a notice left unanswered is chased, once per period, and listed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer

from services.sanctions import handlers
from services.sanctions.app import MIGRATIONS, SanctionsSettings, create_app, units_of_work
from services.sanctions.tests.test_investigations_api import LAWYER, evaluation_failed, investigation_of
from shared.auth import Role
from shared.clock import now
from shared.contracts import BarNoticeReminded, BarOutcomeReported
from shared.contracts.sanctions import BAR_NOTICES
from shared.deadletters import list_dead_letters
from shared.deps import get_clock
from shared.events import Envelope
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import create_topics, eventually, publish, read_topic
from shared.topics import dead_letter_topic

DISCIPLINE = {"outcome": "discipline_decided", "discipline": "public_censure", "decided_on": "2026-11-20",
              "reference": "京律协纪字〔2026〕第37号"}


@pytest.fixture
async def service(migrated_settings):
    # The reminder job looks often; the clock the tests set decides whether anything is due.
    settings = await migrated_settings(SanctionsSettings, MIGRATIONS, bar_notice_reminder_days=30,
                                       bar_notice_reminder_check_seconds=0.2)
    app = create_app(settings)
    app.dependency_overrides[get_clock] = lambda: now
    async with serve_in_process(app) as client:
        yield settings, app, client


async def a_notice(settings, client) -> dict:
    failure = evaluation_failed(LAWYER)
    await publish(settings, failure, source="/fayuan/evaluation")
    return (await investigation_of(client, failure))["bar_notice"]


def outcomes(notice_id: str) -> str:
    return f"/api/v1/bar-notices/{notice_id}/outcomes"


async def test_the_bar_association_answers_over_rest_and_the_answers_show_on_the_notice(service):
    settings, _, client = service
    notice = await a_notice(settings, client)
    assert notice["status"] == "awaiting_answer" and notice["answered_at"] is None
    bar = as_role(settings, Role.bar_association)

    received = await client.post(outcomes(notice["notice_id"]), headers=bar, json={"outcome": "received"})
    assert received.status_code == 201, received.text
    assert received.json()["status"] == "received"
    again = await client.post(outcomes(notice["notice_id"]), headers=bar, json={"outcome": "received"})
    assert again.status_code == 200 and again.json()["outcomes"] == received.json()["outcomes"]

    keyed = {**bar, "Idempotency-Key": "bar-2026-37-opened"}
    opened = await client.post(outcomes(notice["notice_id"]), headers=keyed,
                               json={"outcome": "investigation_opened"})
    assert opened.status_code == 201 and opened.json()["status"] == "investigating"
    retried = await client.post(outcomes(notice["notice_id"]), headers=keyed,
                                json={"outcome": "investigation_opened"})
    assert retried.status_code == 200

    decided = await client.post(outcomes(notice["notice_id"]), headers=bar, json=DISCIPLINE)
    assert decided.status_code == 201, decided.text
    body = decided.json()
    assert (body["status"], body["discipline"], body["decided_on"], body["reference"]) == (
        "disciplined", "public_censure", "2026-11-20", DISCIPLINE["reference"])
    assert [o["outcome"] for o in body["outcomes"]] == ["received", "investigation_opened",
                                                        "discipline_decided"]
    assert {o["channel"] for o in body["outcomes"]} == {"rest"}
    assert body["answered_at"] == received.json()["answered_at"]

    after = await client.post(outcomes(notice["notice_id"]), headers=bar,
                              json={"outcome": "no_violation_found", "decided_on": "2026-11-21"})
    assert after.status_code == 409 and after.headers["content-type"] == "application/problem+json"
    listed = (await client.get("/api/v1/bar-notices", headers=bar)).json()["items"]
    assert [(n["notice_id"], n["status"]) for n in listed] == [(notice["notice_id"], "disciplined")]
    investigation = (await client.get(f"/api/v1/investigations/{notice['investigation_id']}")).json()
    assert investigation["bar_notice"]["status"] == "disciplined"
    assert (await client.get(f"/api/v1/bar-notices/{notice['notice_id']}", headers=bar)).json() == body


async def test_answers_that_break_the_contract_are_refused_naming_the_field(service):
    settings, _, client = service
    notice = await a_notice(settings, client)
    bar = as_role(settings, Role.bar_association)
    url = outcomes(notice["notice_id"])
    for body, field in (({"outcome": "discipline_decided", "decided_on": "2026-11-20"}, "discipline"),
                        ({"outcome": "received", "discipline": "warning"}, "discipline"),
                        ({"outcome": "no_violation_found"}, "decided_on"),
                        ({"outcome": "discipline_decided", "discipline": "fine", "decided_on": "2026-11-20"},
                         "discipline"),
                        ({"outcome": "closed"}, "outcome")):
        refused = await client.post(url, headers=bar, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["errors"][0]["field"] == field, (body, refused.text)
    assert (await client.post(outcomes("no-such-notice"), headers=bar,
                              json={"outcome": "received"})).status_code == 404
    for role in (Role.bureau_investigator, Role.agency_staff, Role.auditor, Role.case_handler):
        assert (await client.post(url, headers=as_role(settings, role),
                                  json={"outcome": "received"})).status_code == 403, role
    assert (await client.get(f"/api/v1/bar-notices/{notice['notice_id']}")).json()["outcomes"] == []


async def test_an_answer_on_the_outcomes_topic_is_recorded_and_an_invalid_one_dead_lettered(service):
    settings, app, client = service
    notice = await a_notice(settings, client)
    answer = BarOutcomeReported(notice_id=notice["notice_id"], case_id=notice["case_id"],
                                outcome="no_violation_found", decided_on="2026-11-25",
                                reference="京律协〔2026〕9号", reported_at=now())
    await publish(settings, answer, source="/bar-association")

    async def concluded():
        read = (await client.get(f"/api/v1/bar-notices/{notice['notice_id']}")).json()
        return read if read["status"] == "no_violation" else None

    read = await eventually(concluded)
    assert [(o["outcome"], o["channel"]) for o in read["outcomes"]] == [("no_violation_found", "event")]
    assert read["decided_on"] == "2026-11-25" and read["discipline"] is None

    # A discipline without its kind: the contract's rule, broken by a faulty producer.
    bad = Envelope.wrap(answer, source="/bar-association")
    bad = Envelope(**{**bad.__dict__, "data": {**bad.data, "outcome": "discipline_decided"},
                      "topic": settings.topic(BarOutcomeReported.topic)})
    await create_topics(settings, BarOutcomeReported.topic)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        message = bad.to_kafka()
        await producer.send_and_wait(bad.topic, message.value, key=message.key.encode(),
                                     headers=list(message.headers.items()))
    finally:
        await producer.stop()
    [dead] = await read_topic(settings.kafka_bootstrap_servers, dead_letter_topic(bad.topic), expect=1)
    assert dead.id == bad.id
    [kept] = await list_dead_letters(app.state.engine)
    assert (kept.consumer, kept.topic) == ("sanctions.bar-outcomes", bad.topic)
    assert "discipline is given exactly when the outcome is discipline_decided" in kept.error
    assert [o["outcome"] for o in (await client.get(f"/api/v1/bar-notices/{notice['notice_id']}")).json()[
        "outcomes"]] == ["no_violation_found"]


async def test_an_unanswered_notice_is_chased_once_per_period_and_listed(service):
    settings, app, client = service
    notice = await a_notice(settings, client)
    bar = as_role(settings, Role.bar_association)
    unanswered = "/api/v1/bar-notices/unanswered"
    assert (await client.get(unanswered, headers=bar)).json()["total"] == 0

    issued = now()
    app.dependency_overrides[get_clock] = lambda: lambda: issued + timedelta(days=31)

    async def chased(times: int):
        async def probe():
            read = (await client.get(f"/api/v1/bar-notices/{notice['notice_id']}")).json()
            return read if read["reminders_sent"] == times else None
        return probe

    first = await eventually(await chased(1))
    listed = (await client.get(unanswered, headers=bar)).json()
    assert [(n["notice_id"], n["reminders_sent"]) for n in listed["items"]] == [(notice["notice_id"], 1)]
    # Within the same period nothing more is sent, however often the job looks.
    assert await chase(app, issued + timedelta(days=31)) == 0
    assert await chase(app, issued + timedelta(days=60)) == 0  # the next is due 30 days after this one
    assert (await client.get(f"/api/v1/bar-notices/{notice['notice_id']}")).json()["reminders_sent"] == 1

    app.dependency_overrides[get_clock] = lambda: lambda: issued + timedelta(days=62)
    await eventually(await chased(2))
    reminders = await read_topic(settings.kafka_bootstrap_servers, settings.topic(BAR_NOTICES), expect=3)
    told = [e.model() for e in reminders if e.type == BarNoticeReminded.type]
    assert [(r.notice_id, r.reminder, r.case_id) for r in told] == [
        (notice["notice_id"], 1, notice["case_id"]), (notice["notice_id"], 2, notice["case_id"])]
    # The same moment: events carry UTC, answers show it in Beijing time.
    assert told[0].reminded_at == datetime.fromisoformat(first["last_reminded_at"])

    # Answered: no longer chased nor listed.
    answered = await client.post(outcomes(notice["notice_id"]), headers=bar, json={"outcome": "received"})
    assert answered.status_code == 201
    assert (await client.get(unanswered, headers=bar)).json()["total"] == 0
    assert await chase(app, issued + timedelta(days=200)) == 0
    assert (await client.get(f"/api/v1/bar-notices/{notice['notice_id']}")).json()["reminders_sent"] == 2


async def chase(app, at) -> int:
    """What the reminder job does at `at`, run once here: the reminders it sent."""
    settings = app.state.settings
    return await handlers.chase_unanswered_notices(units_of_work(app.state.engine, settings),
                                                   reminder_days=settings.bar_notice_reminder_days, at=at)
