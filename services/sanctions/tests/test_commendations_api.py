"""The commendation priority list of a period (R-SAN-6): handlers and institutions with excellent
cases, ordered by the stated rule, a draft until the bureau confirms it, then frozen."""

from __future__ import annotations

from datetime import datetime

import pytest

from services.sanctions.app import MIGRATIONS, SanctionsSettings, create_app
from services.sanctions.tests.test_duty_records_api import YEAR, graded
from services.sanctions.tests.test_duty_records_api import at as in_year
from shared.auth import Role
from shared.clock import now
from shared.contracts import CommendationListConfirmed, HandlerRef
from shared.contracts.sanctions import COMMENDATIONS
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish, read_topic

PAST = YEAR - 1


def lawyer(handler_id: str, name: str, firm: str) -> HandlerRef:
    return HandlerRef(handler_id=handler_id, name=name, kind="lawyer", institution_id=firm,
                      institution_name=f"{firm} law firm")


A = lawyer("h-a", "An", "firm-1")  # 2 excellent, 1 fail: rate 2/3
B = lawyer("h-b", "Bo", "firm-1")  # 2 excellent, 1 good: rate 1
C = lawyer("h-c", "Cai", "firm-2")  # 2 excellent, 1 good: rate 1; after Bo by name
D = lawyer("h-d", "Du", "firm-2")  # 1 excellent
E = lawyer("h-e", "Er", "firm-3")  # good only: not listed
V = HandlerRef(handler_id="h-v", name="Vo", kind="volunteer", institution_id="clinic",
               institution_name="clinic")  # 1 excellent: volunteers are commended too


def at(month: int) -> datetime:
    return in_year(month, PAST)


@pytest.fixture
async def service(migrated_settings):
    settings = await migrated_settings(SanctionsSettings, MIGRATIONS)
    async with serve_in_process(create_app(settings)) as client:
        yield settings, client


async def test_the_list_is_ordered_by_the_rule_and_frozen_when_the_bureau_confirms_it(service):
    settings, client = service
    events = [graded(A, "excellent", at(2)), graded(A, "excellent", at(3)), graded(A, "fail", at(4)),
              graded(B, "excellent", at(2)), graded(B, "excellent", at(8)), graded(B, "good", at(9)),
              graded(C, "excellent", at(2)), graded(C, "excellent", at(3)), graded(C, "good", at(10)),
              graded(D, "excellent", at(11)), graded(E, "good", at(5)), graded(V, "excellent", at(5)),
              graded(A, "excellent", now())]  # this year: another period
    await publish(settings, *events, source="/fayuan/evaluation")
    agency = as_role(settings, Role.agency_staff, agency_id="chaoyang-centre")

    async def all_counted():
        draft = (await client.get(f"/api/v1/commendations/{PAST}", headers=agency)).json()
        return draft if sum(e["evaluated"] for e in draft["handlers"]) == 11 else None

    draft = await eventually(all_counted)
    assert draft["status"] == "draft" and draft["rule"].startswith("excellent desc")
    assert [(e["rank"], e["subject_id"]) for e in draft["handlers"]] == [
        (1, "h-b"), (2, "h-c"), (3, "h-a"), (4, "h-d"), (5, "h-v")]
    assert draft["handlers"][2] == {"rank": 3, "subject_id": "h-a", "name": "An",
                                    "institution_name": "firm-1 law firm", "excellent": 2, "evaluated": 3,
                                    "excellent_and_good_rate": 0.6667, "failed": 1}
    # firm-1: 4 excellent of 6 (rate 5/6, 1 fail); firm-2: 3 excellent of 4 (rate 1).
    institutions = [(e["subject_id"], e["excellent"], e["evaluated"], e["failed"])
                    for e in draft["institutions"]]
    assert institutions == [("firm-1", 4, 6, 1), ("firm-2", 3, 4, 0), ("clinic", 1, 1, 0)]
    first_half = (await client.get(f"/api/v1/commendations/{PAST}-H1", headers=agency)).json()
    # January to June: Cai's 2 of 2 before An's 2 of 3; Bo and Vo 1 of 1 each, by name.
    assert [e["subject_id"] for e in first_half["handlers"]] == ["h-c", "h-a", "h-b", "h-v"]

    by_agency = await client.post(f"/api/v1/commendations/{PAST}/confirmation", headers=agency)
    assert by_agency.status_code == 403
    assert (await client.post(f"/api/v1/commendations/{YEAR}/confirmation")).status_code == 422  # not over
    confirmed = await client.post(f"/api/v1/commendations/{PAST}/confirmation")
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["handlers"] == draft["handlers"]
    assert (await client.post(f"/api/v1/commendations/{PAST}/confirmation")).status_code == 409

    # A late evaluation of the period no longer changes the confirmed list.
    await publish(settings, graded(E, "excellent", at(12)), source="/fayuan/evaluation")

    async def late_one_counted():
        h2 = (await client.get(f"/api/v1/commendations/{PAST}-H2", headers=agency)).json()
        return h2 if any(e["subject_id"] == "h-e" for e in h2["handlers"]) else None

    await eventually(late_one_counted)
    read = (await client.get(f"/api/v1/commendations/{PAST}", headers=agency)).json()
    assert read["status"] == "confirmed" and read["handlers"] == draft["handlers"]
    [told] = await read_topic(settings.kafka_bootstrap_servers, settings.topic(COMMENDATIONS), expect=1)
    assert told.type == CommendationListConfirmed.type and told.key == str(PAST)
    assert [e.subject_id for e in told.model().handlers] == ["h-b", "h-c", "h-a", "h-d", "h-v"]


async def test_the_list_is_for_the_bureau_and_the_agency(service):
    settings, client = service
    for role in (Role.bar_association, Role.case_handler, Role.public):
        assert (await client.get(f"/api/v1/commendations/{PAST}", headers=as_role(settings, role))
                ).status_code == 403, role
    staff = as_role(settings, Role.agency_staff, agency_id="chaoyang-centre")
    bad = await client.get("/api/v1/commendations/2026-H3", headers=staff)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "path.period"


async def test_a_period_without_a_calendar_is_a_problem_naming_it(service):
    settings, client = service
    bureau = as_role(settings, Role.bureau_investigator)
    for period in ("0000", "9999", "0000-H2", "1899"):
        for answer in (await client.get(f"/api/v1/commendations/{period}", headers=bureau),
                       await client.post(f"/api/v1/commendations/{period}/confirmation", headers=bureau)):
            assert answer.status_code == 422, (period, answer.text)
            assert answer.json()["detail"].startswith("period:") and answer.json()["rule"] == "R-SAN-6"
