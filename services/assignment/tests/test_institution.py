"""The institution as an actor (R-PRV-4) over the real interfaces: the agency gives a case
awaiting its choice to an institution, the institution (its own token) arranges one of its
handlers by the rotation's rules, the cap still holds, the reverse conflict is caught, and a case
the institution leaves unarranged past its due time is overdue and taken back."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

import pytest

from services.assignment.app import MIGRATIONS, AssignmentSettings, create_app
from services.assignment.tests.conftest import AGENCY, decision, handler, institution, registered
from shared import clock
from shared.auth import Role
from shared.contracts import CaseAssigned
from shared.deps import get_clock
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import publish, read_topic

GIVE = {"reason": "重大敏感案件，交由律所安排有经验的律师"}
ARRANGE = "本所安排熟悉此类案件的律师"


@pytest.fixture
def started(migrated_settings):
    """Factory: the whole service with a clock the test sets (`moment[0]`, None for the real one)."""

    @contextlib.asynccontextmanager
    async def start(**overrides):
        settings = await migrated_settings(AssignmentSettings, MIGRATIONS, **overrides)
        app = create_app(settings)
        moment: list[datetime | None] = [None]
        real = clock.now
        app.dependency_overrides[get_clock] = lambda: (lambda: moment[0] or real())
        async with serve_in_process(app) as client:
            yield client, settings, moment

    return start


async def given_to(client, case_id: str, institution_id: str) -> dict:
    response = await client.post(f"/api/v1/cases/{case_id}/assignment/institution",
                                 json=GIVE | {"institution_id": institution_id})
    assert response.status_code == 200, response.text
    return response.json()


async def two_firms(client) -> tuple[str, str]:
    return await institution(client, name="甲律师事务所"), await institution(client, name="乙律师事务所")


def reasons_of(record: dict) -> dict[str, list[str]]:
    return {c["handler_id"]: c["reasons"] for c in record["decisions"][-1]["candidates"]}


async def test_an_institution_arranges_one_of_its_handlers_and_the_cap_still_holds(started):
    async with started(monthly_case_cap=1) as (client, settings, _):
        firm_a, firm_b = await two_firms(client)
        a1, a2 = await handler(client, firm_a, "甲一"), await handler(client, firm_a, "甲二")
        b1 = await handler(client, firm_b, "乙一")
        plain, major = registered(), registered(major_or_sensitive=True)
        await publish(settings, plain, major)
        assert (await decision(client, plain.case_id))["handler"]["handler_id"] == a1  # a1's one case
        assert (await decision(client, major.case_id))["status"] == "awaiting_choice"

        record = await given_to(client, major.case_id, firm_a)
        assert record["status"] == "awaiting_institution" and record["handler"] is None
        given = record["decisions"][-1]
        assert given["decision"] == "CaseGivenToInstitution" and given["institution_id"] == firm_a
        assert given["reason"] == GIVE["reason"] and given["due_at"]

        as_a = as_role(settings, Role.institution, institution_id=firm_a)
        as_b = as_role(settings, Role.institution, institution_id=firm_b)
        worklist = (await client.get("/api/v1/assignments/awaiting-institution", headers=as_a)).json()
        assert [(i["case_id"], i["overdue"]) for i in worklist["items"]] == [(major.case_id, False)]
        # An institution's token reads its own worklist only, whatever it asks for.
        other = await client.get("/api/v1/assignments/awaiting-institution", headers=as_b,
                                 params={"institution_id": firm_a})
        assert other.status_code == 200 and other.json()["items"] == []
        not_given = await client.get(f"/api/v1/cases/{major.case_id}/assignment", headers=as_b)
        unknown = await client.get("/api/v1/cases/no-such-case/assignment", headers=as_b)
        assert not_given.status_code == unknown.status_code == 404
        assert not_given.json()["detail"] == unknown.json()["detail"]
        url = f"/api/v1/cases/{major.case_id}/assignment/arrangement"
        not_theirs = await client.post(url, headers=as_b, json={"handler_id": b1, "reason": ARRANGE})
        assert not_theirs.status_code == 404
        # Only the institution arranges; the agency gave the case away.
        assert (await client.post(url, json={"handler_id": a2, "reason": ARRANGE})).status_code == 403

        capped = await client.post(url, headers=as_a, json={"handler_id": a1, "reason": ARRANGE})
        assert capped.status_code == 422 and capped.json()["rule"] == "R-ASG-4"
        assert "monthly_cap_reached" in capped.json()["detail"]
        foreign = await client.post(url, headers=as_a, json={"handler_id": b1, "reason": ARRANGE})
        assert foreign.status_code == 422 and [e["field"] for e in foreign.json()["errors"]] == ["handler_id"]
        arranged = await client.post(url, headers=as_a, json={"handler_id": a2, "reason": ARRANGE})
        assert arranged.status_code == 200, arranged.text
        body = arranged.json()
        assert body["status"] == "assigned" and body["handler"]["handler_id"] == a2
        last = body["decisions"][-1]
        assert last["method"] == "arranged" and last["reason"] == ARRANGE
        assert reasons_of(body) == {a1: ["monthly_cap_reached"], a2: []}  # its own handlers only
        again = await client.post(url, headers=as_a, json={"handler_id": a2, "reason": ARRANGE})
        assert again.status_code == 200 and len(again.json()["decisions"]) == len(body["decisions"])

        staff_view = await decision(client, major.case_id)
        assert b1 in {c["handler_id"] for d in staff_view["decisions"] for c in d["candidates"]}
        handlers = {h["handler_id"]: h for h in (await client.get("/api/v1/handlers")).json()["items"]}
        assert handlers[a1]["cases_this_month"] == 1 and handlers[a2]["cases_this_month"] == 1
        # The cap holds after the arrangement: a third case goes to b1, the only one below it.
        third = registered()
        await publish(settings, third)
        third_record = await decision(client, third.case_id)
        assert third_record["handler"]["handler_id"] == b1
        assert reasons_of(third_record)[a2] == ["monthly_cap_reached"]

        cases_of_a = (await client.get("/api/v1/assignments/institution-cases", headers=as_a)).json()["items"]
        assert {(c["case_id"], c["handler_id"], c["method"]) for c in cases_of_a} == {
            (plain.case_id, a1, "rotation"), (major.case_id, a2, "arranged")}
        cases_of_b = await client.get("/api/v1/assignments/institution-cases", headers=as_b)
        assert [c["case_id"] for c in cases_of_b.json()["items"]] == [third.case_id]
        assert (await client.get("/api/v1/assignments/institution-cases")).status_code == 422  # name one
        worklist = await client.get("/api/v1/assignments/awaiting-institution", headers=as_a)
        assert worklist.json()["items"] == []
        told = await read_topic(settings.kafka_bootstrap_servers, settings.topic(CaseAssigned.topic),
                                expect=3)
    assigned = {e.model().case_id: e.model() for e in told}
    assert assigned[major.case_id].method == "arranged" and assigned[major.case_id].handler.handler_id == a2


async def test_the_reverse_conflict_is_caught_by_the_rotation_and_in_the_arrangement(started):
    """王五 (aided) had a case against 赵六 (adverse), handled by a1 of firm A. Later 赵六 is the aided
    person: no one of firm A may take the case, whether the rotation decides or firm A arranges."""
    async with started() as (client, settings, _):
        firm_a, firm_b = await two_firms(client)
        a1, a2 = await handler(client, firm_a, "甲一"), await handler(client, firm_a, "甲二")
        b1 = await handler(client, firm_b, "乙一")
        earlier = registered().model_copy(update={"aided_person_hash": "hmac-wang-wu",
                                                  "adverse_party_hashes": ["hmac-zhao-liu"]})
        await publish(settings, earlier)
        assert (await decision(client, earlier.case_id))["handler"]["handler_id"] == a1
        for_zhao = registered().model_copy(update={"aided_person_hash": "hmac-zhao-liu"})
        await publish(settings, for_zhao)
        record = await decision(client, for_zhao.case_id)
        assert record["handler"]["handler_id"] == b1
        assert reasons_of(record)[a1] == reasons_of(record)[a2] == ["conflict_acted_against_aided_person"]

        major = registered(major_or_sensitive=True).model_copy(update={"aided_person_hash": "hmac-zhao-liu"})
        await publish(settings, major)
        assert (await decision(client, major.case_id))["status"] == "awaiting_choice"
        await given_to(client, major.case_id, firm_a)
        as_a = as_role(settings, Role.institution, institution_id=firm_a)
        refused = await client.post(f"/api/v1/cases/{major.case_id}/assignment/arrangement", headers=as_a,
                                    json={"handler_id": a2, "reason": ARRANGE})
        assert refused.status_code == 422 and refused.json()["rule"] == "R-PRV-4"
        assert refused.json()["detail"].endswith("conflict_acted_against_aided_person")
        assert (await decision(client, major.case_id))["status"] == "awaiting_institution"


async def test_an_unarranged_case_is_overdue_after_its_hours_and_the_agency_takes_it_back(started):
    async with started(institution_arrangement_hours=2) as (client, settings, moment):
        firm_a, firm_b = await two_firms(client)
        a1 = await handler(client, firm_a, "甲一")
        b1 = await handler(client, firm_b, "乙一")
        superior = registered(assigned_by_superior=True)
        await publish(settings, superior)
        await decision(client, superior.case_id)
        record = await given_to(client, superior.case_id, firm_a)
        due = datetime.fromisoformat(record["decisions"][-1]["due_at"])
        as_a = as_role(settings, Role.institution, institution_id=firm_a)
        worklist = "/api/v1/assignments/awaiting-institution"

        moment[0] = due - timedelta(seconds=1)
        before = (await client.get(worklist, headers=as_a)).json()["items"]
        assert [i["overdue"] for i in before] == [False]
        assert (await client.get(worklist, params={"overdue": "true"})).json()["items"] == []
        moment[0] = due
        after = (await client.get(worklist, headers=as_a)).json()["items"]
        assert [(i["case_id"], i["overdue"], i["due_at"]) for i in after] == [
            (superior.case_id, True, record["decisions"][-1]["due_at"])]
        agency_view = (await client.get(worklist, params={"overdue": "true",
                                                          "institution_id": firm_a})).json()
        assert [i["case_id"] for i in agency_view["items"]] == [superior.case_id]

        url = f"/api/v1/cases/{superior.case_id}/assignment/institution/withdrawal"
        assert (await client.post(url, headers=as_a, json={"reason": "律所逾期未安排"})).status_code == 403
        taken = await client.post(url, json={"reason": "律所逾期未安排承办人"})
        assert taken.status_code == 200, taken.text
        body = taken.json()
        assert [d["decision"] for d in body["decisions"]][-2:] == ["CaseTakenBackFromInstitution",
                                                                   "HandlerAssigned"]
        assert body["status"] == "assigned" and body["decisions"][-1]["method"] == "rotation"
        assert body["handler"]["handler_id"] == a1  # never assigned: first in the rotation
        assert body["decisions"][-1]["reason"] == "taken back from the institution: 律所逾期未安排承办人"
        again = await client.post(url, json={"reason": "律所逾期未安排承办人"})
        assert again.status_code == 409
        late = await client.post(f"/api/v1/cases/{superior.case_id}/assignment/arrangement", headers=as_a,
                                 json={"handler_id": b1, "reason": ARRANGE})
        assert late.status_code == 409  # a1, of firm A, handles it now
        assert (await client.get(worklist)).json()["items"] == []


async def test_an_agency_gives_takes_back_and_reads_its_own_cases_given_to_institutions_only(started):
    """docs/security.md "Scoping": another agency's case given to an institution is not found to
    an agency's staff, who can neither give it nor take it back, and whose worklists hold none of
    it whatever the query says; its own staff and the auditor see it."""
    async with started() as (client, settings, _):
        other = "haidian-centre"
        theirs = as_role(settings, Role.agency_staff, sub="staff-haidian", agency_id=other)
        me = as_role(settings, Role.agency_staff, sub="staff-chaoyang", agency_id=AGENCY)
        auditor = as_role(settings, Role.auditor)
        their_firm = await institution(client, agency=other, district="海淀区", headers=theirs)
        their_lawyer = await handler(client, their_firm, "海淀一", headers=theirs)
        await handler(client, await institution(client), "朝阳一")
        case = registered(agency=other, assigned_by_superior=True)
        await publish(settings, case)
        assert (await decision(client, case.case_id))["status"] == "awaiting_choice"

        give = f"/api/v1/cases/{case.case_id}/assignment/institution"
        refused = await client.post(give, headers=me, json=GIVE | {"institution_id": their_firm})
        assert refused.status_code == 404
        assert refused.json()["detail"] == "no assignment record for this case_id"
        given = await client.post(give, headers=theirs, json=GIVE | {"institution_id": their_firm})
        assert given.status_code == 200, given.text

        worklist = "/api/v1/assignments/awaiting-institution"
        for params in ({}, {"agency_id": other}, {"institution_id": their_firm}):
            assert (await client.get(worklist, headers=me, params=params)).json()["total"] == 0, params
        for caller in (theirs, auditor):
            listed = (await client.get(worklist, headers=caller)).json()["items"]
            assert [i["case_id"] for i in listed] == [case.case_id]

        take_back = f"{give}/withdrawal"
        refused = await client.post(take_back, headers=me, json={"reason": "律所逾期未安排"})
        assert refused.status_code == 404
        taken = await client.post(take_back, headers=theirs, json={"reason": "律所逾期未安排承办人"})
        assert taken.status_code == 200, taken.text
        assert taken.json()["handler"]["handler_id"] == their_lawyer

        cases = "/api/v1/assignments/institution-cases"
        mine = await client.get(cases, headers=me, params={"institution_id": their_firm})
        assert mine.status_code == 200 and mine.json()["total"] == 0
        for caller in (theirs, auditor):
            listed = (await client.get(cases, headers=caller, params={"institution_id": their_firm})).json()
            assert [i["case_id"] for i in listed["items"]] == [case.case_id]
