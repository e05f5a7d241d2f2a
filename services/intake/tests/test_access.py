"""Who may call what on intake, over HTTP with real tokens: 401 without a token, 403 for a role
the endpoint does not admit, and scoping: a handler acts on and sees only the cases whose current
handler they are, a notifying organ only the status and handler of the cases it notified
(R-ASG-7); anything else is "not found" to them, never "forbidden"."""

from services.intake.tests.conftest import CRIMINAL, LAWYER, today
from services.intake.tests.test_handling import ENTRIES
from shared.auth import Role
from shared.contracts import HandlerRef
from shared.testing.auth import as_role

OTHER = HandlerRef(handler_id="lawyer-9", name="孙律师", kind="lawyer", licence_number="11101201010000009",
                   institution_id="firm-9", institution_name="北京市远方律师事务所")
NOTIFIED_KEYS = {"case_id", "case_number", "source_system", "external_reference", "status", "registered_at",
                 "assigned_at", "handler_name", "institution_name"}


def _who(intake, *roles: Role, **claims: str) -> dict[str, str]:
    """A caller with `roles`; an agency role acts for the agency of CRIMINAL unless told otherwise."""
    claims.setdefault("agency_id", CRIMINAL["agency_id"])
    claims.setdefault("sub", f"user-{roles[0]}")
    return as_role(intake.app.state.settings, *roles, **claims)


async def test_without_a_token_401_with_a_role_not_admitted_403(intake_service):
    client = intake_service.client
    case = await intake_service.register()
    url = f"/api/v1/cases/{case['case_id']}"
    for method, path in (("GET", "/api/v1/cases"), ("POST", "/api/v1/cases"), ("GET", url),
                         ("GET", f"{url}/aided-person"), ("POST", "/api/v1/aided-persons/erasure")):
        anonymous = await client.request(method, path, headers={"Authorization": ""}, json={})
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
    for role in (Role.bar_association, Role.peer_reviewer, Role.public):
        refused = await client.get(url, headers=_who(intake_service, role))
        assert refused.status_code == 403 and refused.json()["status"] == 403, role
    # The auditor reads everything and changes nothing.
    auditor = _who(intake_service, Role.auditor)
    assert (await client.get(url, headers=auditor)).status_code == 200
    assert (await client.get(f"{url}/timeline", headers=auditor)).status_code == 200
    assert (await client.post("/api/v1/cases", headers=auditor, json=CRIMINAL)).status_code == 403
    assert (await client.post(f"{url}/termination", headers=auditor,
                              json={"reason": "own_lawyer_engaged", "terminated_by": "x"})).status_code == 403
    # The agency's commands are the agency's; the closing check the checker's, the sign-off the lead's.
    checker = _who(intake_service, Role.closing_checker)
    assert (await client.post(f"{url}/archive", headers=checker,
                              json={"archived_by": "c"})).status_code == 403
    assert (await client.post(f"{url}/closing-check/sign-off", headers=checker,
                              json={"quality_lead_id": "c"})).status_code == 403
    lead = _who(intake_service, Role.quality_lead)
    assert (await client.post(f"{url}/closing-check", headers=lead,
                              json={"checker_id": "l", "items": {"x": True}})).status_code == 403
    staff = _who(intake_service, Role.agency_staff)
    assert (await client.post(f"{url}/closure", headers=staff,
                              json={"outcome": "判决", "ended_on": today()})).status_code == 403


async def test_a_handler_sees_and_acts_on_their_own_cases_only(intake_service):
    client = intake_service.client
    mine, theirs = await intake_service.register(), await intake_service.register()
    await intake_service.assign(mine, LAWYER)
    await intake_service.assign(theirs, OTHER)
    me = intake_service.handler(LAWYER.handler_id)
    listed = (await client.get("/api/v1/cases", headers=me, params={"handler_id": OTHER.handler_id})).json()
    assert [c["case_id"] for c in listed["items"]] == [mine["case_id"]] and listed["total"] == 1
    other = f"/api/v1/cases/{theirs['case_id']}"
    for path in (other, f"{other}/timeline", f"{other}/deadlines", f"{other}/aided-person"):
        response = await client.get(path, headers=me)
        assert response.status_code == 404 and response.json()["status"] == 404, path
    assert (await intake_service.record(theirs["case_id"], ENTRIES[1],
                                        author=LAWYER.handler_id)).status_code == 404
    assert (await client.post(f"{other}/closure", headers=me,
                              json={"outcome": "判决", "ended_on": today()})).status_code == 404
    mine_now = (await client.get(f"/api/v1/cases/{mine['case_id']}", headers=me)).json()
    assert mine_now["handler_id"] == "lawyer-1"
    assert (await intake_service.record(mine["case_id"], ENTRIES[1])).status_code == 201
    # The overdue worklist of a handler is theirs, whatever the query asks.
    worklist = (await client.get("/api/v1/worklist/overdue", headers=me,
                                 params={"handler_id": OTHER.handler_id})).json()
    assert {item["handler_id"] for item in worklist} <= {LAWYER.handler_id}
    # A handler's token without its handler id sees nothing; staff who are also handlers see all.
    nobody = _who(intake_service, Role.case_handler)
    assert (await client.get("/api/v1/cases", headers=nobody)).json()["total"] == 0
    both = _who(intake_service, Role.agency_staff, Role.case_handler, handler_id=LAWYER.handler_id)
    assert (await client.get("/api/v1/cases", headers=both)).json()["total"] == 2


async def test_a_notifying_organ_notifies_as_itself_and_sees_whom_its_case_was_given(intake_service):
    client = intake_service.client
    court = _who(intake_service, Role.judicial_organ, institution_id="chaoyang-court")
    notified = {**CRIMINAL, "source_system": "chaoyang-court", "external_reference": "(2026)京0105刑初7号"}
    created = await client.post("/api/v1/cases", headers=court, json=notified)
    assert created.status_code == 201, created.text
    assert set(created.json()) == NOTIFIED_KEYS  # status and handler: nothing of the record or the person
    for posing_as in ({"source_system": "haidian-court"},
                      {"source_system": None, "external_reference": None}):
        posing = await client.post("/api/v1/cases", headers=court, json={**notified, **posing_as})
        assert posing.status_code == 403 and "source_system" in posing.json()["detail"], posing.text
    again = await client.post("/api/v1/cases", headers=court, json=notified)
    assert again.status_code == 200 and again.json()["case_id"] == created.json()["case_id"]
    await intake_service.assign(created.json())
    seen = (await client.get(f"/api/v1/cases/{created.json()['case_id']}", headers=court)).json()
    assert (seen["status"], seen["handler_name"], seen["institution_name"]) == ("assigned", "王律师",
                                                                                "北京市明法律师事务所")
    assert set(seen) == NOTIFIED_KEYS
    by_staff = await intake_service.register()
    assert (await client.get(f"/api/v1/cases/{by_staff['case_id']}", headers=court)).status_code == 404
    listed = (await client.get("/api/v1/cases", headers=court,
                               params={"source_system": "haidian-court"})).json()
    assert [c["case_id"] for c in listed["items"]] == [created.json()["case_id"]]
    assert set(listed["items"][0]) == NOTIFIED_KEYS
    for path in ("timeline", "deadlines", "aided-person"):
        response = await client.get(f"/api/v1/cases/{created.json()['case_id']}/{path}", headers=court)
        assert response.status_code == 403, path
    # Another's Idempotency-Key does not show the organ someone else's case.
    await client.post("/api/v1/cases", json=CRIMINAL,
                      headers={**intake_service.staff(), "Idempotency-Key": "k-1"})
    borrowed = await client.post("/api/v1/cases",
                                 json={**notified, "external_reference": "(2026)京0105刑初8号"},
                                 headers={**court, "Idempotency-Key": "k-1"})
    assert borrowed.status_code == 404


async def test_agency_roles_see_and_act_on_their_own_agency_s_cases_only(intake_service):
    client = intake_service.client
    mine = await intake_service.register()
    theirs = await intake_service.register(agency_id="haidian-centre", district="海淀区")
    for role in (Role.agency_staff, Role.closing_checker, Role.quality_lead):
        me = _who(intake_service, role)
        listed = (await client.get("/api/v1/cases", headers=me,
                                   params={"agency_id": "haidian-centre"})).json()
        assert listed["total"] == 0, role  # whatever the query says
        everything = (await client.get("/api/v1/cases", headers=me)).json()
        assert [c["case_id"] for c in everything["items"]] == [mine["case_id"]], role
        other = f"/api/v1/cases/{theirs['case_id']}"
        for path in (other, f"{other}/timeline", f"{other}/deadlines", f"{other}/aided-person"):
            response = await client.get(path, headers=me)
            assert response.status_code == 404 and response.json()["status"] == 404, (role, path)
        assert (await client.get(f"/api/v1/cases/{mine['case_id']}", headers=me)).status_code == 200
    staff = _who(intake_service, Role.agency_staff)
    worklist = (await client.get("/api/v1/worklist/overdue", headers=staff,
                                 params={"agency_id": "haidian-centre"})).json()
    assert worklist == []
    # An agency registers its own cases, and the next stage of its own cases only.
    elsewhere = await client.post("/api/v1/cases", headers=staff,
                                  json={**CRIMINAL, "agency_id": "haidian-centre"})
    assert elsewhere.status_code == 403 and "agency_id" in elsewhere.json()["detail"]
    next_stage = await client.post(f"/api/v1/cases/{theirs['case_id']}/next-stage", headers=staff,
                                   json={"criminal_stage": "prosecution_review"})
    assert next_stage.status_code == 404
    # A token of an agency role that names no agency is refused.
    no_agency = as_role(intake_service.app.state.settings, Role.agency_staff, sub="user-x")
    refused = await client.get("/api/v1/cases", headers=no_agency)
    assert refused.status_code == 403 and "agency_id" in refused.json()["detail"]


async def test_the_bureau_of_a_district_sees_that_district_s_cases_the_city_bureau_all(intake_service):
    client = intake_service.client
    chaoyang = await intake_service.register()
    haidian = await intake_service.register(agency_id="haidian-centre", district="海淀区")
    district = _who(intake_service, Role.bureau_investigator, district="海淀区")
    listed = (await client.get("/api/v1/cases", headers=district)).json()
    assert [c["case_id"] for c in listed["items"]] == [haidian["case_id"]]
    assert (await client.get(f"/api/v1/cases/{chaoyang['case_id']}", headers=district)).status_code == 404
    assert (await client.get(f"/api/v1/cases/{haidian['case_id']}", headers=district)).status_code == 200
    city = _who(intake_service, Role.bureau_investigator)
    assert (await client.get("/api/v1/cases", headers=city)).json()["total"] == 2


async def test_who_acts_is_the_token_s_subject_a_forged_actor_is_refused(intake_service):
    client = intake_service.client
    forged = await client.post("/api/v1/cases", json={**CRIMINAL, "registered_by": "staff-wang"})
    assert forged.status_code == 403 and "registered_by" in forged.json()["detail"], forged.text
    case = await intake_service.register()
    await intake_service.assign(case)
    url = f"/api/v1/cases/{case['case_id']}"
    me = intake_service.handler()
    for path, body in (("record", {"author_id": "lawyer-9", "occurred_at": "2026-11-02T10:00:00+08:00",
                                   "entry": ENTRIES[1]}),
                       ("closure", {"outcome": "判决", "ended_on": today(), "closed_by": "lawyer-9"})):
        refused = await client.post(f"{url}/{path}", headers=me, json=body)
        field = next(k for k in body if k.endswith(("_id", "_by")))
        assert refused.status_code == 403 and field in refused.json()["detail"], refused.text
    own = await client.post(f"{url}/record", headers=me, json={
        "author_id": "user-lawyer-1", "occurred_at": "2026-11-02T10:00:00+08:00", "entry": ENTRIES[1]})
    assert own.status_code == 201, own.text
    timeline = (await client.get(f"{url}/timeline")).json()
    assert [(t["actor"], t["action"]) for t in timeline][0] == ("staff-1", "registered")
    assert timeline[-1]["actor"] == "user-lawyer-1"


def _end_of_case_calls(case_id: str) -> list[tuple[Role, str, dict]]:
    """Each command of the end of a case (api/end.py), the agency role that gives it, a valid body."""
    url = f"/api/v1/cases/{case_id}"
    return [
        (Role.agency_staff, f"{url}/reassignment-requests",
         {"request_id": "r-1", "category": "other", "reason": "受援人要求更换"}),
        (Role.agency_staff, f"{url}/reassignment-requests/r-1/acceptance", {}),
        (Role.agency_staff, f"{url}/termination", {"reason": "own_lawyer_engaged"}),
        (Role.closing_checker, f"{url}/closing-check", {"items": {"hearing": True}}),
        (Role.quality_lead, f"{url}/closing-check/sign-off", {}),
        (Role.agency_staff, f"{url}/archive", {}),
        (Role.agency_staff, f"{url}/follow-ups",
         {"visited_on": "2026-12-01", "channel": "phone", "satisfaction": "satisfied"}),
    ]


async def test_the_end_of_another_agency_s_case_is_not_found_to_an_agency_role(intake_service):
    client = intake_service.client
    theirs = await intake_service.register(agency_id="haidian-centre", district="海淀区")
    await intake_service.assign(theirs)
    [(_, ask, asking), *calls] = _end_of_case_calls(theirs["case_id"])
    haidian = _who(intake_service, Role.agency_staff, agency_id="haidian-centre")
    asked = await client.post(ask, headers=haidian, json=asking)  # so the acceptance has its request
    assert asked.status_code == 201, asked.text
    for role, path, body in [(Role.agency_staff, ask, {**asking, "request_id": "r-2"}), *calls]:
        response = await client.post(path, headers=_who(intake_service, role), json=body)
        assert response.status_code == 404 and response.json()["status"] == 404, (role, path, response.text)
    before = (await client.get(f"/api/v1/cases/{theirs['case_id']}")).json()
    assert before["reassignment_accepted_at"] is None and before["status"] == "assigned"
    # The same commands by the case's own agency reach the case (they answer by its state, not 404).
    for role, path, body in calls:
        own_agency = _who(intake_service, role, agency_id="haidian-centre")
        own = await client.post(path, headers=own_agency, json=body)
        assert own.status_code != 404, (role, path, own.text)
    after = (await client.get(f"/api/v1/cases/{theirs['case_id']}")).json()
    assert after["reassignment_accepted_at"] and after["status"] == "terminated"
    # A district's bureau is no agency: it gives none of these commands.
    bureau = _who(intake_service, Role.bureau_investigator, district="海淀区")
    for _, path, body in _end_of_case_calls(theirs["case_id"]):
        assert (await client.post(path, headers=bureau, json=body)).status_code == 403, path


async def test_who_ends_a_case_is_the_token_s_subject_a_forged_actor_is_refused(intake_service):
    client = intake_service.client
    case = await intake_service.register()
    await intake_service.assign(case)
    url = f"/api/v1/cases/{case['case_id']}"
    li = _who(intake_service, Role.agency_staff, sub="staff-li")
    follow_up = {"visited_on": "2026-12-01", "channel": "visit", "satisfaction": "satisfied"}
    forged = [("reassignment-requests", {"request_id": "r-1", "category": "other", "reason": "x",
                                         "requested_by": "staff-wang"}),
              ("reassignment-requests/r-1/acceptance", {"accepted_by": "director-wang"}),
              ("termination", {"reason": "own_lawyer_engaged", "terminated_by": "staff-wang"}),
              ("archive", {"archived_by": "staff-wang"}),
              ("follow-ups", {**follow_up, "visited_by": "staff-wang"})]
    for path, body in forged:
        refused = await client.post(f"{url}/{path}", headers=li, json=body)
        field = next(k for k in body if k.endswith("_by"))
        assert refused.status_code == 403 and field in refused.json()["detail"], (path, refused.text)
    assert (await client.get(url)).json()["reassignment_requested_at"] is None  # nothing was recorded
    # Sent as the caller's own id, or left out: the token's subject is recorded.
    asked = await client.post(f"{url}/reassignment-requests", headers=li, json={
        "request_id": "r-1", "category": "other", "reason": "x", "requested_by": "staff-li"})
    assert asked.status_code == 201, asked.text
    director = _who(intake_service, Role.agency_staff, sub="director-zhou")
    assert (await client.post(f"{url}/reassignment-requests/r-1/acceptance", headers=director,
                              json={})).status_code == 200
    assert (await client.post(f"{url}/follow-ups", headers=li, json=follow_up)).status_code == 201
    assert (await client.post(f"{url}/termination", headers=director,
                              json={"reason": "own_lawyer_engaged"})).status_code == 200
    timeline = (await client.get(f"{url}/timeline")).json()
    assert [(t["actor"], t["action"]) for t in timeline if t["actor"] != "assignment"][-4:] == [
        ("staff-li", "reassignment_requested"), ("director-zhou", "reassignment_accepted"),
        ("staff-li", "follow_up"), ("director-zhou", "terminated")]
