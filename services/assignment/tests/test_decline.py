"""A handler declines the case assigned to them, with a reason: assignment decides again by the
same rules without them, tells HandlerDeclined and the new decision, and keeps the declined case
on the decliner's month (R-ASG-4) with their turn taken (R-ASG-1)."""

from __future__ import annotations

from services.assignment.tests.conftest import assigned_handler, decision, handler, institution, registered
from services.assignment.tests.test_lifecycle import reasons_of
from shared.auth import Role
from shared.contracts import CaseAssigned, HandlerDeclined
from shared.contracts.assignment import ASSIGNMENTS
from shared.testing.auth import as_role
from shared.testing.kafka import eventually, publish, read_topic

DECLINE = {"reason": "conflict_of_interest", "explanation": "本所曾代理对方当事人的关联公司"}


def declination(case_id: str) -> str:
    return f"/api/v1/cases/{case_id}/assignment/declination"


async def test_a_declined_case_goes_to_the_next_handler_and_is_told(running):
    async with running() as (client, settings):
        firm = await institution(client)
        first, second = await handler(client, firm, "甲"), await handler(client, firm, "乙")
        case = registered()
        await publish(settings, case)
        assert await assigned_handler(client, case.case_id) == first

        as_second = as_role(settings, Role.case_handler, handler_id=second)
        refused = await client.post(declination(case.case_id), headers=as_second, json=DECLINE)
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
        as_first = as_role(settings, Role.case_handler, handler_id=first)
        short = await client.post(declination(case.case_id), headers=as_first,
                                  json={**DECLINE, "explanation": "no"})
        assert short.status_code == 422 and "explanation" in short.text
        unknown = await client.post(declination(case.case_id), headers=as_first,
                                    json={**DECLINE, "reason": "bored"})
        assert unknown.status_code == 422 and "reason" in unknown.text
        by_agency = await client.post(declination(case.case_id), json=DECLINE)  # staff: not a handler
        assert by_agency.status_code == 403

        declined = await client.post(declination(case.case_id), headers=as_first, json=DECLINE)
        assert declined.status_code == 204, declined.text
        again = await client.post(declination(case.case_id), headers=as_first, json=DECLINE)
        assert again.status_code == 204  # declined twice: one decline

        record = await decision(client, case.case_id)
        assert record["handler"]["handler_id"] == second
        assert [d["decision"] for d in record["decisions"]] == ["HandlerAssigned", "HandlerDeclined",
                                                               "HandlerAssigned"]
        assert record["decisions"][1]["reason"] == f"conflict_of_interest: {DECLINE['explanation']}"
        assert reasons_of(record)[first] == ["released_from_case"]
        handlers = {h["handler_id"]: h for h in (await client.get("/api/v1/handlers")).json()["items"]}
        told = await read_topic(settings.kafka_bootstrap_servers, settings.topic(ASSIGNMENTS), expect=3)
    # The declined case still counts toward the decliner's month, as a released one does.
    assert handlers[first]["cases_this_month"] == 1 and handlers[second]["cases_this_month"] == 1
    models = [e.model() for e in told]
    assert [(type(m).__name__, m.handler.handler_id) for m in models] == [
        ("CaseAssigned", first), ("HandlerDeclined", first), ("CaseAssigned", second)]
    [declined_event] = [m for m in models if isinstance(m, HandlerDeclined)]
    assert declined_event.reason == "conflict_of_interest" and declined_event.case_number == case.case_number
    assert DECLINE["explanation"] not in str([e.data for e in told])  # the free text stays in assignment
    assert all(isinstance(m, CaseAssigned | HandlerDeclined) for m in models)


async def test_the_last_eligible_handler_declining_blocks_the_case(running):
    async with running() as (client, settings):
        firm = await institution(client)
        only = await handler(client, firm, "独")
        case = registered()
        await publish(settings, case)
        assert await assigned_handler(client, case.case_id) == only
        declined = await client.post(declination(case.case_id), json=DECLINE,
                                     headers=as_role(settings, Role.case_handler, handler_id=only))
        assert declined.status_code == 204

        async def blocked():
            r = await decision(client, case.case_id)
            return r if r["status"] == "blocked" else None

        record = await eventually(blocked)
        assert record["handler"] is None and reasons_of(record)[only] == ["released_from_case"]
