"""The closing check from evidence (R-CHK-1, R-HDL-1..5, R-ASG-9), who may check and sign off
(R-CHK-1, R-CHK-2), the agencies' checklist versions, and the 30-day review worklist (R-CHK-2)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.intake.domain.case import Case
from services.intake.projections import checklist_versions
from services.intake.queries.closing import review_due
from services.intake.tests.conftest import LAWYER, today
from services.intake.tests.test_access import OTHER
from services.intake.tests.test_deadlines import at
from services.intake.tests.test_handling import CHECKLIST, ENTRIES, MEETING_IN_FULL
from shared import store
from shared.auth import Role
from shared.clock import BEIJING, local_date
from shared.deps import get_clock
from shared.testing.auth import as_role

CIVIL = {"case_kind": "civil", "matter": "civil_litigation", "criminal_stage": None, "criminal_role": None}
MEETING, OPINION = 1, 4  # ENTRIES' meeting and legal opinion


async def _closed_with_file(intake, entries: list[dict], checklist: dict = CHECKLIST, **kind) -> dict:
    """A case assigned to LAWYER, these entries on its handling record, closed, its file handed in."""
    case = await intake.register(**kind)
    await intake.assign(case)
    for entry in entries:
        assert (await intake.record(case["case_id"], entry)).status_code == 201
    url = f"/api/v1/cases/{case['case_id']}"
    closed = await intake.client.post(f"{url}/closure", headers=intake.handler(),
                                      json={"outcome": "判决", "ended_on": today()})
    assert closed.status_code == 200, closed.text
    handed = await intake.client.post(f"{url}/closing-file", headers=intake.handler(),
                                      json={"checklist": checklist})
    assert handed.status_code == 200, handed.text
    return handed.json()


async def _all_met(intake, kind: str, **params) -> dict[str, bool]:
    """The checker's answer "met" on every item of the kind's checklist."""
    checklist = (await intake.client.get(f"/api/v1/cases/closing-checklists/{kind}", params=params)).json()
    return {i["key"]: True for i in checklist["items"]}


async def _stored_check(intake, case_id: str) -> dict:
    async with intake.app.state.engine.connect() as conn:
        events = await store.load(conn, Case.stream_id(case_id))
    return [e.data for e in events if e.type == "ClosingChecked"][-1]


async def test_a_criminal_case_with_no_meeting_and_no_opinion_fails_naming_both(intake_service):
    # The handler's file claims everything; the record has no meeting and no opinion.
    no_meeting_no_opinion = [e for i, e in enumerate(ENTRIES) if i not in (MEETING, OPINION)]
    case = await _closed_with_file(intake_service, no_meeting_no_opinion)
    url = f"/api/v1/cases/{case['case_id']}"
    checked = await intake_service.client.post(f"{url}/closing-check", headers=intake_service.checker(),
                                               json={"items": await _all_met(intake_service, "criminal")})
    assert checked.status_code == 200, checked.text
    view = checked.json()
    assert view["closing_check_passed"] is False
    assert view["closing_check_failed_items"] == ["meeting_record", "defence_statement"]
    reasons = {m["item"]: m["reasons"] for m in view["closing_check_missing"]}
    assert reasons == {
        "meeting_record": ["no meeting with the aided person on the handling record (R-HDL-1)",
                           "no meeting on the handling record explained the aided person's rights, "
                           "obligations and risks (R-HDL-1)"],
        "defence_statement": ["no defence or representation statement on the handling record (R-HDL-3)"]}
    # The event says the same, with the version and the checker's own answers beside the verdict.
    stored = await _stored_check(intake_service, case["case_id"])
    assert stored["failed_items"] == ["meeting_record", "defence_statement"]
    assert stored["missing"] == view["closing_check_missing"] and stored["checklist_version"] == 1
    assert stored["answers"]["meeting_record"] is True and stored["items"]["meeting_record"] is False
    assert stored["checker_id"] == "checker-1"
    # Nothing is approved without a passed check (R-CHK-2).
    early = await intake_service.client.post(f"{url}/closing-check/sign-off", headers=intake_service.lead(),
                                             json={})
    assert early.status_code == 409 and early.json()["rule"] == "R-CHK-2"
    # Once the meeting and the opinion are on the record (the file is kept after closure), it passes.
    for entry in (MEETING_IN_FULL, ENTRIES[OPINION]):
        assert (await intake_service.record(case["case_id"], entry)).status_code == 201
    again = await intake_service.client.post(f"{url}/closing-check", headers=intake_service.checker(),
                                             json={"items": await _all_met(intake_service, "criminal")})
    assert again.json()["closing_check_passed"] is True and again.json()["closing_check_missing"] == []


async def test_an_empty_closing_file_fails_on_every_item_that_needs_evidence(intake_service):
    case = await _closed_with_file(intake_service, [], checklist=dict.fromkeys(CHECKLIST, False))
    checked = await intake_service.client.post(
        f"/api/v1/cases/{case['case_id']}/closing-check", headers=intake_service.checker(),
        json={"items": await _all_met(intake_service, "criminal")})
    view = checked.json()
    assert view["closing_check_passed"] is False
    # What passes: the item that rests on the checker's answer alone (informing of progress), and the
    # hearing and the reports, of which neither the file nor the record tells (the case had none).
    assert view["closing_check_failed_items"] == ["meeting_record", "file_review_notes", "investigation",
                                                  "defence_statement", "closing_file_in_time"]
    reasons = {m["item"]: m["reasons"] for m in view["closing_check_missing"]}
    assert "the closing file lacks the mandate documents (R-HDL-5)" in reasons["closing_file_in_time"]
    assert ("no mandate with the agreement and the power of attorney signed on the handling record (R-ASG-9)"
            in reasons["closing_file_in_time"])
    assert "hearing" not in reasons and "report_duty" not in reasons


async def test_a_civil_case_with_everything_on_record_passes_and_is_signed_off(intake_service):
    case = await _closed_with_file(intake_service, [*ENTRIES, MEETING_IN_FULL], **CIVIL)
    url = f"/api/v1/cases/{case['case_id']}"
    checked = await intake_service.client.post(f"{url}/closing-check", headers=intake_service.checker(),
                                               json={"items": await _all_met(intake_service, "civil")})
    view = checked.json()
    assert (view["closing_check_passed"], view["closing_check_failed_items"], view["closing_check_missing"],
            view["closing_check_standard"], view["closing_check_checklist_version"]) == (
        True, [], [], "SF/T 0085-2020", 1)
    signed = await intake_service.client.post(f"{url}/closing-check/sign-off", headers=intake_service.lead(),
                                              json={"quality_lead_name": "赵主任"})
    assert signed.status_code == 200 and signed.json()["signed_off_by"] == "lead-zhao"
    archived = await intake_service.client.post(f"{url}/archive", json={})
    assert archived.json()["status"] == "archived"
    # The view folded from the events is the case list's row.
    folded = await intake_service.client.get(url, params={"as_of": "2100-01-01T00:00:00+08:00"})
    assert folded.json() == (await intake_service.client.get(url)).json()


async def test_the_checker_s_answer_fails_an_item_but_never_passes_one_the_evidence_lacks(intake_service):
    case = await _closed_with_file(intake_service, [*ENTRIES, MEETING_IN_FULL],
                                   checklist={**CHECKLIST, "legal_opinion": False}, **CIVIL)
    answers = await _all_met(intake_service, "civil") | {"investigation": False}
    view = (await intake_service.client.post(f"/api/v1/cases/{case['case_id']}/closing-check",
                                             headers=intake_service.checker(),
                                             json={"items": answers})).json()
    assert {m["item"]: m["reasons"] for m in view["closing_check_missing"]} == {
        "investigation": ["the checker found the file lacking on this item"],
        "representation_statement": ["the closing file lacks the defence or representation statement "
                                     "(R-HDL-5)"]}


async def test_a_checker_who_was_the_handler_is_refused(intake_service):
    case = await _closed_with_file(intake_service, [*ENTRIES, MEETING_IN_FULL])
    url = f"/api/v1/cases/{case['case_id']}/closing-check"
    items = await _all_met(intake_service, "criminal")
    # LAWYER handled the case; a checker token that is theirs (by handler id, or by subject) is refused.
    for checker in (intake_service.checker("user-lawyer-1", handler_id=LAWYER.handler_id),
                    intake_service.checker(LAWYER.handler_id)):
        refused = await intake_service.client.post(url, headers=checker, json={"items": items})
        assert refused.status_code == 403, refused.text
        assert (refused.json()["title"], refused.json()["rule"]) == ("HandlerMayNotCheck", "R-CHK-1")
    # The checker is the token's subject: a checker_id in the body is refused, naming the field.
    named = await intake_service.client.post(url, headers=intake_service.checker(),
                                             json={"checker_id": "someone-else", "items": items})
    assert named.status_code == 422 and {e["field"] for e in named.json()["errors"]} == {"checker_id"}
    assert (await intake_service.client.get(f"/api/v1/cases/{case['case_id']}")).json()[
        "closing_check_passed"] is None  # nothing was recorded


async def test_a_past_handler_may_not_check_after_a_change_of_handler(intake_service):
    case = await intake_service.register()
    await intake_service.assign(case)
    await intake_service.assign(case, OTHER, at=datetime.now(UTC) + timedelta(seconds=1))
    for entry in [*ENTRIES, MEETING_IN_FULL]:
        recorded = await intake_service.record(case["case_id"], entry, author=OTHER.handler_id)
        assert recorded.status_code == 201
    url = f"/api/v1/cases/{case['case_id']}"
    mine = intake_service.handler(OTHER.handler_id)
    await intake_service.client.post(f"{url}/closure", headers=mine,
                                     json={"outcome": "判决", "ended_on": today()})
    await intake_service.client.post(f"{url}/closing-file", headers=mine,
                                     json={"checklist": CHECKLIST})
    former = intake_service.checker("checker-9", handler_id=LAWYER.handler_id)
    refused = await intake_service.client.post(f"{url}/closing-check", headers=former,
                                               json={"items": await _all_met(intake_service, "criminal")})
    assert refused.status_code == 403 and refused.json()["rule"] == "R-CHK-1"


async def test_a_quality_lead_who_is_the_handler_is_refused(intake_service):
    case = await _closed_with_file(intake_service, [*ENTRIES, MEETING_IN_FULL])
    url = f"/api/v1/cases/{case['case_id']}"
    passed = await intake_service.client.post(f"{url}/closing-check", headers=intake_service.checker(),
                                              json={"items": await _all_met(intake_service, "criminal")})
    assert passed.json()["closing_check_passed"] is True
    sign_off = f"{url}/closing-check/sign-off"
    handler_lead = intake_service.lead("user-lawyer-1", handler_id=LAWYER.handler_id)
    refused = await intake_service.client.post(sign_off, headers=handler_lead, json={})
    assert refused.status_code == 403
    assert (refused.json()["title"], refused.json()["rule"]) == ("HandlerMayNotCheck", "R-CHK-2")
    named = await intake_service.client.post(sign_off, headers=intake_service.lead(),
                                             json={"quality_lead_id": "lead-zhao"})
    assert named.status_code == 422 and {e["field"] for e in named.json()["errors"]} == {"quality_lead_id"}
    another_lead = intake_service.lead("lead-qian", name="钱主任")
    signed = await intake_service.client.post(sign_off, headers=another_lead, json={})
    assert signed.status_code == 200 and signed.json()["signed_off_by"] == "lead-qian"


async def test_an_agency_files_a_new_checklist_version_and_an_old_check_keeps_its_own(intake_service):
    client = intake_service.client
    agency = "chaoyang-centre"  # the agency of conftest's CRIMINAL cases
    case = await _closed_with_file(intake_service, [*ENTRIES, MEETING_IN_FULL])
    url = f"/api/v1/cases/{case['case_id']}"
    first = await client.post(f"{url}/closing-check", headers=intake_service.checker(),
                              json={"items": await _all_met(intake_service, "criminal") | {"hearing": False}})
    assert first.json()["closing_check_checklist_version"] == 1

    seed = (await client.get("/api/v1/cases/closing-checklists/criminal",
                             params={"agency_id": agency})).json()
    assert (seed["version"], seed["agency_id"]) == (1, None)
    extra = {"key": "risk_letter", "text": "a written risk notice signed by the aided person",
             "text_zh": "风险告知书经受援人签字", "evidence": []}
    staff = as_role(intake_service.app.state.settings, Role.agency_staff, sub="staff-li", agency_id=agency)
    versions = "/api/v1/cases/closing-checklists/criminal/versions"
    filed = await client.post(versions, headers=staff, json={"items": [*seed["items"], extra]})
    assert filed.status_code == 201, filed.text
    assert (filed.json()["version"], filed.json()["agency_id"], filed.json()["filed_by"]) == (2, agency,
                                                                                             "staff-li")
    # A version that drops the standard's evidence cannot be filed (the rule's name and the field).
    no_opinion = [i if i["key"] != "defence_statement" else {**i, "evidence": []} for i in seed["items"]]
    dropped = await client.post(versions, headers=staff, json={"items": no_opinion})
    assert dropped.status_code == 422 and dropped.json()["rule"] == "R-CHK-1"
    assert "opinion_filed" in dropped.json()["detail"] and dropped.json()["detail"].startswith("items")
    bad = await client.post(versions, headers=staff, json={"items": [{**extra, "evidence": ["a_feeling"]}]})
    assert bad.status_code == 422 and "items.0.evidence.0" in {e["field"] for e in bad.json()["errors"]}
    # Only the agency's own staff or quality lead: a token naming no agency, or a checker, is refused.
    nobody = as_role(intake_service.app.state.settings, Role.agency_staff, sub="staff-x")
    assert (await client.post(versions, headers=nobody, json={"items": seed["items"]})).status_code == 403
    checker = intake_service.checker(agency_id=agency)
    assert (await client.post(versions, headers=checker, json={"items": seed["items"]})).status_code == 403

    current = (await client.get("/api/v1/cases/closing-checklists/criminal",
                                params={"agency_id": agency})).json()
    assert current["version"] == 2 and current["items"][-1]["key"] == "risk_letter"
    old = await client.get("/api/v1/cases/closing-checklists/criminal", params={"agency_id": agency,
                                                                                 "version": 1})
    assert old.json()["items"] == seed["items"]
    missing = await client.get("/api/v1/cases/closing-checklists/criminal", params={"agency_id": agency,
                                                                                     "version": 9})
    assert missing.status_code == 404
    # The old check keeps the version it used; the next check answers the new version's items.
    assert (await client.get(url)).json()["closing_check_checklist_version"] == 1
    stale = await client.post(f"{url}/closing-check", headers=intake_service.checker(),
                              json={"items": await _all_met(intake_service, "criminal")})
    assert stale.status_code == 422 and "risk_letter" in stale.json()["detail"]
    second = await client.post(f"{url}/closing-check", headers=intake_service.checker(),
                               json={"items": await _all_met(intake_service, "criminal", agency_id=agency)})
    assert second.json()["closing_check_passed"] is True
    assert second.json()["closing_check_checklist_version"] == 2
    async with intake_service.app.state.engine.connect() as conn:
        rows = (await conn.execute(select(checklist_versions))).mappings().all()
    assert [(r["agency_id"], r["case_kind"], r["version"]) for r in rows] == [(agency, "criminal", 2)]


def test_the_review_is_due_at_the_end_of_the_thirtieth_day_in_beijing():
    received = datetime(2026, 11, 1, 23, 30, tzinfo=BEIJING)  # 15:30 UTC, 1 November in Beijing
    # Due by the end of 1 December in Beijing (the first moment after it).
    assert review_due(received.astimezone(UTC), 30) == datetime(2026, 12, 2, tzinfo=BEIJING)
    assert review_due(received, 10) == datetime(2026, 11, 12, tzinfo=BEIJING)


async def test_the_review_worklist_shows_an_overdue_file_at_the_right_moment(intake_service):
    client, app = intake_service.client, intake_service.app
    case = await _closed_with_file(intake_service, [*ENTRIES, MEETING_IN_FULL])
    received_on = local_date(datetime.fromisoformat(case["closing_file_at"]))
    other = await intake_service.register(agency_id="haidian")  # no file handed in: not on the list
    await intake_service.assign(other)

    async def reviews(moment: datetime, **params) -> list[tuple[str, bool, int]]:
        app.dependency_overrides[get_clock] = at(moment)
        page = await client.get("/api/v1/worklist/closing-reviews", headers=intake_service.lead(),
                                params={"agency_id": "chaoyang-centre", **params})
        assert page.status_code == 200, page.text
        return [(i["case_id"], i["overdue"], i["days_overdue"]) for i in page.json()["items"]]

    # Day 30 after receipt, 23:59 in Beijing: still within the limit; a minute past midnight, day 31, overdue.
    day_30 = datetime.combine(received_on + timedelta(days=30), datetime.min.time(), BEIJING).replace(
        hour=23, minute=59)
    day_31 = day_30 + timedelta(minutes=2)
    assert await reviews(day_30) == [(case["case_id"], False, 0)]
    assert await reviews(day_30, overdue=True) == []
    assert await reviews(day_31) == [(case["case_id"], True, 1)]
    assert await reviews(day_31, overdue=True) == [(case["case_id"], True, 1)]
    assert await reviews(day_31, overdue=False) == []
    assert await reviews(day_31 + timedelta(days=3), overdue=True) == [(case["case_id"], True, 4)]
    # Checked and signed off, it leaves the list.
    url = f"/api/v1/cases/{case['case_id']}"
    await client.post(f"{url}/closing-check", headers=intake_service.checker(),
                      json={"items": await _all_met(intake_service, "criminal")})
    assert (await client.post(f"{url}/closing-check/sign-off", headers=intake_service.lead(),
                              json={})).status_code == 200
    assert await reviews(day_31) == []
    # Agency staff and checkers read it too; a handler does not.
    for role in (Role.agency_staff, Role.closing_checker):
        assert (await client.get("/api/v1/worklist/closing-reviews",
                                 headers=as_role(app.state.settings, role, sub="x",
                                                 agency_id=case["agency_id"]))).status_code == 200
    assert (await client.get("/api/v1/worklist/closing-reviews",
                             headers=intake_service.handler())).status_code == 403
