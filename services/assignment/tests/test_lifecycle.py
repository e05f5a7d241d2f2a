"""Assignment over its real interfaces after the first decision: suspensions from sanctions,
the special-case qualifications (R-ASG-8), conflicts of interest, reassignment on the aided
person's request and termination. Events in on the real broker, decisions read over HTTP and
from the assignments topic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.assignment.tests.conftest import (
    AGENCY,
    assigned_handler,
    decision,
    institution,
    registered,
)
from shared.contracts import (
    CaseAssigned,
    CaseTerminated,
    HandlerRef,
    HandlerReinstated,
    HandlerSuspended,
    ReassignmentRequested,
)
from shared.contracts.assignment import ASSIGNMENTS, HandlerReleased
from shared.testing.kafka import eventually, publish, read_topic


async def lawyer(client, firm: str, name: str, *, years: int = 6, qualifications=()) -> str:
    created = await client.post("/api/v1/handlers", json={
        "name": name, "kind": "lawyer", "institution_id": firm, "years_of_practice": years,
        "licence_number": f"1110{uuid.uuid4().int % 10**13:013d}", "qualifications": list(qualifications)})
    assert created.status_code == 201, created.text
    return created.json()["handler_id"]


def reasons_of(record: dict) -> dict[str, list[str]]:
    return {c["handler_id"]: c["reasons"] for c in record["decisions"][-1]["candidates"]}


async def test_a_suspended_handler_gets_no_case_until_reinstated(running):
    async with running() as (client, settings):
        firm = await institution(client)
        first, second = await lawyer(client, firm, "甲"), await lawyer(client, firm, "乙")
        now = datetime.now(UTC)
        await publish(settings, HandlerSuspended(suspension_id="s1", handler_id=first,
                                                 reason="案件评估不合格", suspended_at=now),
                      source="/fayuan/sanctions")

        async def suspended_in_registry():
            return (await client.get(f"/api/v1/handlers/{first}")).json()["suspended"] or None

        await eventually(suspended_in_registry)
        cases = [registered(), registered()]
        await publish(settings, *cases)
        assert [await assigned_handler(client, c.case_id) for c in cases] == [second, second]
        assert reasons_of(await decision(client, cases[0].case_id))[first] == ["suspended"]

        await publish(settings, HandlerReinstated(suspension_id="s1", handler_id=first, reason="整改完成",
                                                  reinstated_at=now), source="/fayuan/sanctions")

        async def reinstated():
            return not (await client.get(f"/api/v1/handlers/{first}")).json()["suspended"] or None

        await eventually(reinstated)
        after = registered()
        await publish(settings, after)
        assert await assigned_handler(client, after.case_id) == first


async def test_a_suspension_scoped_to_another_agency_leaves_the_handler_in_their_pool(running):
    """R-ASG-6 with scopes: "agency" stops the handler in that agency's pool only; "city" everywhere."""
    async with running() as (client, settings):
        firm = await institution(client)
        first, second = await lawyer(client, firm, "甲"), await lawyer(client, firm, "乙")
        now = datetime.now(UTC)

        def suspension(suspension_id: str, handler_id: str, scope: str, agency_id: str) -> HandlerSuspended:
            return HandlerSuspended(suspension_id=suspension_id, handler_id=handler_id,
                                    reason="案件评估不合格", suspended_at=now, scope=scope,
                                    agency_id=agency_id)

        def suspended(handler_id: str, expected: bool):
            async def check():
                view = (await client.get(f"/api/v1/handlers/{handler_id}")).json()
                return view["suspended"] == expected or None
            return check

        # Keyed by the handler: one partition, told in this order.
        await publish(settings, suspension("elsewhere", first, "agency", "another-agency"),
                      suspension("here", first, "agency", AGENCY), source="/fayuan/sanctions")
        await eventually(suspended(first, True))
        await publish(settings, HandlerReinstated(suspension_id="here", handler_id=first, reason="整改完成",
                                                  reinstated_at=now), source="/fayuan/sanctions")
        await eventually(suspended(first, False))  # the other agency's suspension does not hold here

        await publish(settings, suspension("city-wide", second, "city", "another-agency"),
                      source="/fayuan/sanctions")
        await eventually(suspended(second, True))
        cases = [registered(), registered()]
        await publish(settings, *cases)
        assert [await assigned_handler(client, c.case_id) for c in cases] == [first, first]
        assert reasons_of(await decision(client, cases[0].case_id))[second] == ["suspended"]


async def test_grave_cases_and_minors_go_only_to_the_qualified(running):
    async with running() as (client, settings):
        firm = await institution(client)
        junior = await lawyer(client, firm, "新律师", years=1)
        senior = await lawyer(client, firm, "资深律师", years=3)
        youth = await lawyer(client, firm, "未成年人律师", years=1, qualifications=["minors"])
        grave, minor = registered(possible_death_penalty_or_life_imprisonment=True), registered(minor=True)
        await publish(settings, grave, minor)
        assert await assigned_handler(client, grave.case_id) == senior
        assert await assigned_handler(client, minor.case_id) == youth
        grave_reasons = reasons_of(await decision(client, grave.case_id))
        assert (grave_reasons[junior] == ["too_little_experience"]
                and grave_reasons[youth] == ["too_little_experience"])
        assert reasons_of(await decision(client, minor.case_id))[junior] == ["not_qualified_for_minors"]


async def test_no_one_whose_institution_acted_for_the_adverse_party_gets_the_case(running):
    async with running() as (client, settings):
        firm_a = await institution(client, name="甲律师事务所")
        firm_b = await institution(client, name="乙律师事务所")
        a1, a2 = await lawyer(client, firm_a, "甲一"), await lawyer(client, firm_a, "甲二")
        b1 = await lawyer(client, firm_b, "乙一")
        earlier = registered().model_copy(update={"aided_person_hash": "hmac-of-li-si"})
        await publish(settings, earlier)
        assert await assigned_handler(client, earlier.case_id) == a1
        against = registered().model_copy(update={"adverse_party_hashes": ["hmac-of-li-si"]})
        await publish(settings, against)
        assert await assigned_handler(client, against.case_id) == b1
        reasons = reasons_of(await decision(client, against.case_id))
        assert reasons[a1] == reasons[a2] == ["conflict_of_interest"]


async def test_reassignment_releases_the_handler_and_assigns_another_and_termination_releases(running):
    async with running() as (client, settings):
        firm = await institution(client)
        first, second = await lawyer(client, firm, "甲"), await lawyer(client, firm, "乙")
        case = registered()
        await publish(settings, case)
        assert await assigned_handler(client, case.case_id) == first
        current = HandlerRef(handler_id=first, name="甲", kind="lawyer", institution_id=firm,
                             institution_name="北京某律师事务所")
        request = ReassignmentRequested(case_id=case.case_id, case_number=case.case_number, agency_id=AGENCY,
                                        current_handler=current, reason="breakdown_of_trust",
                                        requested_at=datetime.now(UTC))
        await publish(settings, request, source="/fayuan/intake")
        await publish(settings, request, source="/fayuan/intake")  # told twice: one reassignment

        async def reassigned():
            record = await decision(client, case.case_id)
            return record if record["handler"] and record["handler"]["handler_id"] == second else None

        record = await eventually(reassigned)
        assert [d["decision"] for d in record["decisions"]] == ["HandlerAssigned", "HandlerReleased",
                                                               "HandlerAssigned"]
        assert reasons_of(record)[first] == ["released_from_case"]
        await publish(settings, CaseTerminated(case_id=case.case_id, case_number=case.case_number,
                                               agency_id=AGENCY, reason="aided_person_withdrew",
                                               terminated_at=datetime.now(UTC)),
                      source="/fayuan/intake")

        async def released():
            r = await decision(client, case.case_id)
            return r if r["status"] == "released" else None

        final = await eventually(released)
        assert final["handler"] is None
        handlers = {h["handler_id"]: h for h in (await client.get("/api/v1/handlers")).json()["items"]}
        told = await read_topic(settings.kafka_bootstrap_servers, settings.topic(ASSIGNMENTS), expect=4)
    # The released case still counts toward the first handler's month: they received it.
    assert handlers[first]["cases_this_month"] == 1 and handlers[second]["cases_this_month"] == 1
    kinds = [(type(m := e.model()).__name__, getattr(m, "handler", None) and m.handler.handler_id)
             for e in told]
    assert kinds == [("CaseAssigned", first), ("HandlerReleased", first), ("CaseAssigned", second),
                     ("HandlerReleased", second)]
    assert [e.model().cause for e in told if isinstance(e.model(), HandlerReleased)] == ["reassignment",
                                                                                          "termination"]
    assert all(isinstance(e.model(), CaseAssigned | HandlerReleased) for e in told)
