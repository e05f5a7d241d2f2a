"""The aided person's request for another handler, the agency's acceptance, and assignment's
new decision folded in as a change of handler (deadlines restart for the new handler)."""

from datetime import UTC, datetime, timedelta

from services.intake.tests.conftest import LAWYER
from services.intake.tests.test_deadlines import ASSIGNED, at
from services.intake.tests.test_handling import ENTRIES
from shared.clock import BEIJING
from shared.contracts import HandlerRef
from shared.deps import get_clock

SECOND = HandlerRef(handler_id="lawyer-2", name="刘律师", kind="lawyer", licence_number="11101201010000002",
                    institution_id="firm-2", institution_name="北京市正平律师事务所")


async def test_an_accepted_request_brings_a_new_handler_whose_deadlines_start_afresh(intake_service):
    client, app = intake_service.client, intake_service.app
    case = await intake_service.register()
    url = f"/api/v1/cases/{case['case_id']}"
    await intake_service.assign(case, at=ASSIGNED.astimezone(UTC))
    await intake_service.record(case["case_id"], ENTRIES[1], at=(ASSIGNED + timedelta(days=1)).isoformat())
    await intake_service.record(case["case_id"], ENTRIES[0], at=(ASSIGNED + timedelta(days=1)).isoformat())
    li, director = intake_service.staff(sub="staff-li"), intake_service.staff(sub="director-li")
    asked = (await client.post(f"{url}/reassignment-requests", headers=li, json={
        "request_id": "req-1", "category": "breakdown_of_trust",
        "reason": "受援人张三与律师沟通不畅"})).json()
    assert asked["request_id"] == "req-1" and asked["case"]["reassignment_accepted_at"] is None
    unknown = await client.post(f"{url}/reassignment-requests/nope/acceptance",
                                json={}, headers=li)
    assert unknown.status_code == 404
    accepted = await client.post(f"{url}/reassignment-requests/req-1/acceptance",
                                 json={"accepted_by": "director-li"}, headers=director)
    assert accepted.status_code == 200 and accepted.json()["reassignment_accepted_at"]
    assert accepted.json()["handler_id"] == LAWYER.handler_id  # until assignment names the next one
    twice = await client.post(f"{url}/reassignment-requests/req-1/acceptance",
                              json={"accepted_by": "director-li"}, headers=director)
    assert twice.status_code == 409

    # Assignment's second decision: a change of handler, told twice (and an old one told late).
    changed_at = datetime(2026, 11, 16, 9, 0, tzinfo=BEIJING)  # a Monday
    await intake_service.assign(case, SECOND, at=changed_at.astimezone(UTC))
    await intake_service.assign(case, SECOND, at=changed_at.astimezone(UTC))
    await intake_service.assign(case, LAWYER, at=ASSIGNED.astimezone(UTC))
    now = (await client.get(url)).json()
    assert (now["handler_id"], now["institution_id"], now["status"]) == ("lawyer-2", "firm-2", "assigned")
    assert now["reassignment_accepted_at"] is None and now["reassigned_at"]
    assert now["first_meeting_at"] is None and now["mandate_signed_at"] is None  # the old handler's work
    timeline = (await client.get(f"{url}/timeline")).json()
    assert [(t["actor"], t["action"]) for t in timeline][-3:] == [
        ("staff-li", "reassignment_requested"), ("director-li", "reassignment_accepted"),
        ("assignment", "reassigned")]
    assert timeline[-1]["summary"] == ("handler changed from 王律师 to 刘律师 (北京市正平律师事务所) by "
                                       "rotation")
    assert "张三" not in str(timeline) and "沟通不畅" not in str(timeline)

    # The new handler's first meeting: 3 working days from Monday 16th, so due by Thursday 19th.
    app.dependency_overrides[get_clock] = at(datetime(2026, 11, 19, 23, 0, tzinfo=BEIJING))
    deadlines = {d["kind"]: d for d in (await client.get(f"{url}/deadlines")).json()}
    assert datetime.fromisoformat(deadlines["first_meeting"]["due_at"]) == datetime(2026, 11, 20,
                                                                                     tzinfo=BEIJING)
    assert deadlines["first_meeting"]["met_at"] is None and not deadlines["first_meeting"]["overdue"]
    app.dependency_overrides[get_clock] = at(datetime(2026, 11, 20, 0, 1, tzinfo=BEIJING))
    overdue = (await client.get("/api/v1/worklist/overdue", params={"handler_id": "lawyer-2"})).json()
    assert [i["deadline"] for i in overdue] == ["first_meeting"]
    assert (await client.post("/api/v1/worklist/sweep")).json()["recorded"] == 1
    assert (await client.post("/api/v1/worklist/sweep")).json()["recorded"] == 0
    await intake_service.record(case["case_id"], ENTRIES[1], author="lawyer-2",
                                at=datetime(2026, 11, 20, 0, 5, tzinfo=BEIJING).isoformat())
    assert (await client.get("/api/v1/worklist/overdue", params={"handler_id": "lawyer-2"})).json() == []
    as_of_view = (await client.get(url, params={"as_of": datetime.now(UTC).isoformat()})).json()
    assert as_of_view == (await client.get(url)).json()


async def test_a_decision_that_arrives_after_the_aid_ended_changes_nothing(intake_service):
    client = intake_service.client
    case = await intake_service.register()
    await client.post(f"/api/v1/cases/{case['case_id']}/termination",
                      json={"reason": "aided_person_withdrew"})
    await intake_service.assign(case, SECOND)
    view = (await client.get(f"/api/v1/cases/{case['case_id']}")).json()
    assert (view["status"], view["handler_id"]) == ("terminated", None)
