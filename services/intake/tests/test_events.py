"""What intake tells the other services, read back from the real broker: the flags of R-ASG-8,
an accepted request for another handler, termination, missed deadlines (once each), the
quality lead's sign-off, and the next stage's link (R-HDL-7). Never the aided person's data."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from services.intake.app import MIGRATIONS, IntakeSettings, create_app
from services.intake.domain.case import Case, CaseType
from services.intake.domain.people import SealedPerson, is_minor
from services.intake.tests.conftest import AIDED, Intake, today
from services.intake.tests.test_deadlines import ASSIGNED, at
from services.intake.tests.test_handling import CHECKLIST, ENTRIES, MEETING_IN_FULL
from shared.contracts import CaseFlags, CaseKind
from shared.contracts.intake import CASES
from shared.deps import get_clock
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import read_topic

MINOR = {**AIDED, "id_number": "110101201005051236"}  # born 5 May 2010


def test_a_minor_is_under_18_on_the_day_of_registration_in_beijing():
    assert is_minor("110101200811251238", date(2026, 11, 24))
    assert not is_minor("110101200811251238", date(2026, 11, 25))  # 18 today
    assert not is_minor("110101209913991234", date(2026, 11, 25))  # no real birth date: nothing to tell
    case = Case("c-1")
    # 01:00 on 25 November in Beijing is still the 24th in UTC: the Beijing day decides.
    case.register(case_number="FY-1", case_type=CaseType(case_kind=CaseKind.criminal), cause="盗窃",
                  district="朝阳区", agency_id="a", flags=CaseFlags(),
                  aided_person=SealedPerson(person_ref="p", sealed={}),
                  born_on=date(2008, 11, 25), at=datetime(2026, 11, 24, 17, 0, tzinfo=UTC))
    assert case.registration is not None and case.registration.flags.minor is False


@pytest.fixture
async def publishing_intake(migrated_settings):
    settings = await migrated_settings(IntakeSettings, MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=True)
    app = create_app(settings)
    async with serve_in_process(app) as client:
        yield settings, Intake(client, app)


async def test_intake_tells_the_others_on_its_topic(publishing_intake):
    settings, intake = publishing_intake
    client = intake.client
    # 1. A minor facing a possible life sentence; the agency accepts a request for another handler.
    minor = await intake.register(aided_person=MINOR, possible_death_penalty_or_life_imprisonment=True)
    await intake.assign(minor)
    url = f"/api/v1/cases/{minor['case_id']}"
    await client.post(f"{url}/reassignment-requests",
                      json={"request_id": "r-1",
                            "category": "conflict_of_interest", "reason": "律师曾代理对方"})
    assert (await client.post(f"{url}/reassignment-requests/r-1/acceptance",
                               json={})).status_code == 200
    # 2. Aid terminated (its deadlines stop: nothing is missed on it).
    ended = await intake.register()
    await intake.assign(ended, at=ASSIGNED.astimezone(UTC))
    await client.post(f"/api/v1/cases/{ended['case_id']}/termination",
                      json={"reason": "own_lawyer_engaged", "details": "张三自行委托律师"})
    # 3. Two deadlines missed, swept twice; then closed, checked, signed off, and its next stage.
    late = await intake.register(criminal_stage="first_instance")
    await intake.assign(late, at=ASSIGNED.astimezone(UTC))
    intake.app.dependency_overrides[get_clock] = at(ASSIGNED + timedelta(days=7))
    assert (await client.post("/api/v1/worklist/sweep")).json()["recorded"] == 2
    assert (await client.post("/api/v1/worklist/sweep")).json()["recorded"] == 0
    url = f"/api/v1/cases/{late['case_id']}"
    for entry in [*ENTRIES, MEETING_IN_FULL]:  # late, but on the record: the check asks for it
        assert (await intake.record(late["case_id"], entry)).status_code == 201
    await client.post(f"{url}/closure", headers=intake.handler(),
                      json={"outcome": "判决", "ended_on": today()})
    await client.post(f"{url}/closing-file", headers=intake.handler(),
                      json={"checklist": CHECKLIST})
    checklist = (await client.get("/api/v1/cases/closing-checklists/criminal")).json()
    items = {i["key"]: True for i in checklist["items"]}
    await client.post(f"{url}/closing-check", headers=intake.checker("checker-1"), json={"items": items})
    assert (await client.post(f"{url}/closing-check/sign-off", headers=intake.lead("lead-zhao"),
                              json={})).status_code == 200
    nxt = (await client.post(f"{url}/next-stage",
                             json={"criminal_stage": "second_instance",
                                   "possible_death_penalty_or_life_imprisonment": True})).json()

    envelopes = await read_topic(settings.kafka_bootstrap_servers, settings.topic(CASES), expect=10)
    told = [(e.data["case_id"], e.type.removeprefix("legalaid.intake.").removesuffix(".v1"), e.model())
            for e in envelopes]
    assert all(e.key == e.data["case_id"] for e in envelopes)
    assert sorted((c, t) for c, t, _ in told) == sorted([
        (minor["case_id"], "case-registered"), (minor["case_id"], "reassignment-requested"),
        (ended["case_id"], "case-registered"), (ended["case_id"], "case-terminated"),
        (late["case_id"], "case-registered"), (late["case_id"], "deadline-missed"),
        (late["case_id"], "deadline-missed"), (late["case_id"], "case-closed"),
        (late["case_id"], "closing-check-signed-off"), (nxt["case_id"], "case-registered")])
    by = {(c, t): m for c, t, m in told}
    registered = by[(minor["case_id"], "case-registered")]
    assert registered.flags.minor and registered.flags.possible_death_penalty_or_life_imprisonment
    assert not by[(ended["case_id"], "case-registered")].flags.minor
    reassign = by[(minor["case_id"], "reassignment-requested")]
    assert (reassign.reason, reassign.current_handler.handler_id) == ("conflict_of_interest", "lawyer-1")
    terminated = by[(ended["case_id"], "case-terminated")]
    assert (terminated.reason, terminated.handler.handler_id) == ("own_lawyer_engaged", "lawyer-1")
    missed = sorted((m.deadline, m.due_at) for c, t, m in told if t == "deadline-missed")
    assert [d for d, _ in missed] == ["first_meeting", "mandate"]
    signed = by[(late["case_id"], "closing-check-signed-off")]
    assert (signed.standard, signed.checked_by, signed.signed_off_by) == ("SF/T 0086-2020", "checker-1",
                                                                          "lead-zhao")
    assert signed.checklist_version == 1
    # The closure names the criminal role: publication discloses duty-lawyer help apart from cases.
    assert by[(late["case_id"], "case-closed")].criminal_role == "defence"
    next_stage = by[(nxt["case_id"], "case-registered")]
    assert (next_stage.previous_case_id, next_stage.criminal_stage) == (late["case_id"], "second_instance")
    assert next_stage.flags.possible_death_penalty_or_life_imprisonment
    assert not by[(late["case_id"], "case-registered")].flags.possible_death_penalty_or_life_imprisonment
    assert by[(late["case_id"], "case-registered")].previous_case_id is None
    wire = json.dumps([e.data for e in envelopes], ensure_ascii=False)
    for secret in (AIDED["name"], AIDED["id_number"], MINOR["id_number"], AIDED["phone"], "律师曾代理对方",
                   "自行委托"):
        assert secret not in wire
