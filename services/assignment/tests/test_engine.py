"""The engine through its real interfaces: CaseRegistered published on intake's topic, the
decision read over HTTP and CaseAssigned / AssignmentBlocked read from the assignments topic."""

import asyncio
from collections import Counter
from datetime import timedelta

from services.assignment.tests.conftest import (
    assigned_handler,
    decision,
    handler,
    institution,
    registered,
    today,
)
from shared.contracts import AssignmentBlocked, CaseAssigned
from shared.testing.kafka import eventually, publish, read_topic


async def test_registered_case_is_assigned_and_told_with_the_handler_ref(running):
    async with running() as (client, settings):
        firm = await institution(client, name="北京甲律师事务所")
        lawyer = await handler(client, firm, "王律师")
        case = registered()
        await publish(settings, case)
        events = await read_topic(settings.kafka_bootstrap_servers, settings.topic(CaseAssigned.topic),
                                  expect=1)
    assigned = [e.model() for e in events]
    assert len(assigned) == 1 and isinstance(assigned[0], CaseAssigned)
    told = assigned[0]
    assert told.case_id == case.case_id and told.case_number == case.case_number and told.method == "rotation"
    assert (told.handler.handler_id == lawyer and told.handler.name == "王律师"
            and told.handler.kind == "lawyer")
    assert told.handler.institution_id == firm and told.handler.institution_name == "北京甲律师事务所"
    assert told.handler.licence_number


async def test_the_same_registration_told_twice_assigns_once(running):
    async with running() as (client, settings):
        firm = await institution(client)
        first, second = await handler(client, firm, "甲"), await handler(client, firm, "乙")
        case = registered()
        await publish(settings, case)
        await publish(settings, case)  # a new envelope id: the inbox cannot tell, the domain must
        events = await read_topic(settings.kafka_bootstrap_servers, settings.topic(CaseAssigned.topic),
                                  expect=1)
        record = await decision(client, case.case_id)
        counts = (await client.get("/api/v1/handlers")).json()["items"]
    assert [e.model().handler.handler_id for e in events] == [first]
    assert len(record["decisions"]) == 1
    assert ({h["handler_id"]: h["last_assigned_at"] is not None for h in counts}
            == {first: True, second: False})


async def test_rotation_goes_round_the_pool_in_registration_order_and_stays_fair(running):
    async with running() as (client, settings):
        firm = await institution(client)
        pool = [await handler(client, firm, name) for name in ("甲", "乙", "丙")]
        in_order = []
        for _ in range(4):
            case = registered()
            await publish(settings, case)
            in_order.append(await assigned_handler(client, case.case_id))
        assert in_order == [pool[0], pool[1], pool[2], pool[0]]
        burst = [registered() for _ in range(5)]
        await publish(settings, *burst)
        for case in burst:
            await assigned_handler(client, case.case_id)
        record = await decision(client, burst[0].case_id)
    counts = Counter(in_order)
    assert record["decisions"][0]["method"] == "rotation"
    assert len(record["decisions"][0]["candidates"]) == 3  # every candidate considered is on the record
    assert set(counts) == set(pool)
    assert max(counts.values()) - min(counts.values()) <= 1


async def test_sixth_case_in_a_month_goes_to_someone_else_or_is_blocked(running):
    async with running() as (client, settings):
        firm = await institution(client)
        only = await handler(client, firm, "甲")
        cases = [registered() for _ in range(6)]
        await publish(settings, *cases)
        outcomes = [await decision(client, c.case_id) for c in cases]
        assert Counter(o["status"] for o in outcomes) == {"assigned": 5, "blocked": 1}
        [blocked] = [o for o in outcomes if o["status"] == "blocked"]
        assert blocked["decisions"][0]["candidates"][0]["reasons"] == ["monthly_cap_reached"]
        listed = (await client.get("/api/v1/assignments/blocked")).json()
        assert [b["case_id"] for b in listed["items"]] == [blocked["case_id"]]
        assert listed["items"][0]["candidates"][0]["handler_id"] == only
        second = await handler(client, firm, "乙")
        seventh = registered()
        await publish(settings, seventh)
        assert await assigned_handler(client, seventh.case_id) == second
        told = await read_topic(settings.kafka_bootstrap_servers, settings.topic(CaseAssigned.topic),
                                expect=7)
    models = [e.model() for e in told]
    [block] = [m for m in models if isinstance(m, AssignmentBlocked)]
    assert block.case_id == blocked["case_id"]
    assert [(c.handler_id, c.reasons) for c in block.candidates] == [(only, ["monthly_cap_reached"])]
    assert (Counter(m.handler.handler_id for m in models if isinstance(m, CaseAssigned))
            == {only: 5, second: 1})


async def test_the_cap_is_configurable(running):
    async with running(monthly_case_cap=2) as (client, settings):
        firm = await institution(client)
        await handler(client, firm, "甲")
        cases = [registered() for _ in range(3)]
        await publish(settings, *cases)
        statuses = Counter([(await decision(client, c.case_id))["status"] for c in cases])
    assert statuses == {"assigned": 2, "blocked": 1}


async def test_handlers_without_a_commitment_in_force_are_never_assigned(running):
    async with running() as (client, settings):
        unsigned = await handler(client, await institution(client, commitment=False), "未签")
        expired = await handler(client, await institution(client, valid_until=today() - timedelta(days=1)),
                                "过期")
        signed = await handler(client, await institution(client), "已签")
        cases = [registered() for _ in range(4)]
        await publish(settings, *cases)
        assigned = [await assigned_handler(client, c.case_id) for c in cases]
        record = await decision(client, cases[0].case_id)
    assert assigned == [signed] * 4
    reasons = {c["handler_id"]: c["reasons"] for c in record["decisions"][0]["candidates"]}
    assert reasons == {unsigned: ["no_commitment"], expired: ["commitment_not_in_force"], signed: []}


async def test_pool_without_a_commitment_blocks_the_case_with_reasons(running):
    async with running() as (client, settings):
        unsigned = await handler(client, await institution(client, commitment=False), "未签")
        case = registered()
        await publish(settings, case)
        record = await decision(client, case.case_id)
        listed = (await client.get("/api/v1/assignments/blocked",
                                   params={"agency_id": case.agency_id})).json()
    assert record["status"] == "blocked" and record["handler"] is None
    assert listed["total"] == 1
    assert listed["items"][0]["candidates"] == [
        {"handler_id": unsigned, "eligible": False, "reasons": ["no_commitment"], "cases_this_month": 0,
         "last_turn": None}]


async def test_named_lawyer_wins_when_eligible_and_otherwise_rotation_records_why(running):
    async with running() as (client, settings):
        firm = await institution(client)
        first, named = await handler(client, firm, "甲"), await handler(client, firm, "点援律师")
        unsigned = await handler(client, await institution(client, commitment=False), "未签")
        wins = registered(named_handler_id=named)
        await publish(settings, wins)
        record = await decision(client, wins.case_id)
        assert record["handler"]["handler_id"] == named and record["decisions"][0]["method"] == "named"
        falls_back = registered(named_handler_id=unsigned)
        await publish(settings, falls_back)
        fallback = await decision(client, falls_back.case_id)
    assert fallback["handler"]["handler_id"] == first
    assert fallback["decisions"][0]["method"] == "rotation"
    assert (unsigned in fallback["decisions"][0]["reason"]
            and "no_commitment" in fallback["decisions"][0]["reason"])
    assert fallback["decisions"][0]["named_handler"]["reasons"] == ["no_commitment"]


async def test_major_case_awaits_the_agencys_choice_which_needs_a_reason(running):
    async with running() as (client, settings):
        firm = await institution(client)
        proposed, chosen = await handler(client, firm, "甲"), await handler(client, firm, "乙")
        unsigned = await handler(client, await institution(client, commitment=False), "未签")
        case = registered(major_or_sensitive=True)
        await publish(settings, case)
        waiting = await decision(client, case.case_id)
        assert waiting["status"] == "awaiting_choice" and waiting["handler"] is None
        assert waiting["decisions"][0]["proposal"] == proposed
        assert waiting["decisions"][0]["grounds"] == ["major_or_sensitive"]
        url = f"/api/v1/cases/{case.case_id}/assignment"
        no_reason = await client.post(url, json={"handler_id": chosen})
        assert no_reason.status_code == 422 and [e["field"] for e in no_reason.json()["errors"]] == ["reason"]
        short = await client.post(url, json={"handler_id": chosen, "reason": "好"})
        assert [e["field"] for e in short.json()["errors"]] == ["reason"]
        refused = await client.post(url, json={"handler_id": unsigned, "reason": "熟悉重大敏感案件的办理"})
        assert refused.status_code == 422 and refused.json()["rule"] == "R-PRV-3"
        done = await client.post(url, json={"handler_id": chosen, "reason": "熟悉重大敏感案件的办理"})
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "assigned" and done.json()["handler"]["handler_id"] == chosen
        again = await client.post(url, json={"handler_id": chosen, "reason": "熟悉重大敏感案件的办理"})
        assert again.status_code == 200 and len(again.json()["decisions"]) == 2
        other = await client.post(url, json={"handler_id": proposed, "reason": "熟悉重大敏感案件的办理"})
        assert other.status_code == 409
        told = await read_topic(settings.kafka_bootstrap_servers, settings.topic(CaseAssigned.topic),
                                expect=1)
    [event] = [e.model() for e in told]
    assert event.method == "chosen" and event.reason == "熟悉重大敏感案件的办理"
    assert event.handler.handler_id == chosen


async def test_group_cases_are_chosen_beyond_the_cap_but_other_choices_are_not(running):
    async with running(monthly_case_cap=1) as (client, settings):
        busy = await handler(client, await institution(client), "甲")
        ordinary, group, superior = registered(), registered(group_case=True, head_count=30), \
            registered(assigned_by_superior=True)
        await publish(settings, ordinary, group, superior)
        assert await assigned_handler(client, ordinary.case_id) == busy
        for case in (group, superior):
            assert (await decision(client, case.case_id))["status"] == "awaiting_choice"
        reason = {"handler_id": busy, "reason": "上级交办，指定熟悉的律师"}
        capped = await client.post(f"/api/v1/cases/{superior.case_id}/assignment", json=reason)
        assert capped.status_code == 422 and capped.json()["rule"] == "R-ASG-4"
        grouped = await client.post(f"/api/v1/cases/{group.case_id}/assignment", json=reason)
        assert grouped.status_code == 200, grouped.text
        assert grouped.json()["decisions"][-1]["method"] == "chosen"


async def test_choosing_for_a_case_assigned_by_rotation_is_a_conflict(running):
    async with running() as (client, settings):
        lawyer = await handler(client, await institution(client), "甲")
        case = registered()
        await publish(settings, case)
        await assigned_handler(client, case.case_id)
        other = await handler(client, await institution(client), "乙")
        response = await client.post(f"/api/v1/cases/{case.case_id}/assignment",
                                     json={"handler_id": other, "reason": "换一位律师办理"})
        assert response.status_code == 409 and response.json()["status"] == 409
        assert await assigned_handler(client, case.case_id) == lawyer


async def test_concurrent_decisions_for_one_pool_never_share_a_turn(running):
    """Two consumers of one agency's cases deciding at once (two replicas): the rotation stream
    makes one of them decide again, so nobody is picked twice while someone waits."""
    from services.assignment import handlers as engine
    from services.assignment.projections import projection
    from shared.db import create_engine
    from shared.uow import unit_of_work

    async with running(consumers_enabled=False, relay_enabled=False) as (client, settings):
        firm = await institution(client)
        pool = [await handler(client, firm, name) for name in ("甲", "乙", "丙", "丁")]
        cases = [registered() for _ in range(8)]
        db = create_engine(settings)

        async def consume(case):
            async with unit_of_work(db, settings, projection) as uow:
                await engine.assign_registered_case(uow, case)

        try:
            await asyncio.gather(*(consume(c) for c in cases))
        finally:
            await db.dispose()
        assigned = Counter([await assigned_handler(client, c.case_id) for c in cases])
        turns = [(await decision(client, c.case_id))["decisions"][0]["candidates"] for c in cases]
    assert assigned == dict.fromkeys(pool, 2)
    assert all(len(t) == 4 for t in turns)


async def test_unknown_agency_pool_blocks_with_no_candidates(running):
    async with running() as (client, settings):
        case = registered(agency="nobody-centre")
        await publish(settings, case)
        record = await decision(client, case.case_id)
        assert record["status"] == "blocked" and record["decisions"][0]["candidates"] == []
        await eventually(lambda: _blocked_total(client, 1))


async def _blocked_total(client, expected):
    return (await client.get("/api/v1/assignments/blocked")).json()["total"] == expected
