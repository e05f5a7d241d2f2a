import asyncio
from datetime import UTC, date, datetime, time, timedelta

from services.intake.domain.deadlines import DeadlinePolicy
from services.intake.tests.conftest import today
from services.intake.tests.test_handling import CHECKLIST, ENTRIES
from shared.calendar import WorkingCalendar, library_arrangement
from shared.clock import BEIJING
from shared.deps import get_clock

# Assigned on Friday 2026-11-06 at 10:00 in Beijing.
ASSIGNED = datetime(2026, 11, 6, 10, 0, tzinfo=BEIJING)


def at(moment: datetime):
    return lambda: (lambda: moment)


def add_working_days(day: date, n: int) -> date:
    """China's official working days of 2026 (shared.calendar, from chinese-calendar)."""
    return WorkingCalendar.of([library_arrangement(2026)]).add_working_days(day, n)


def test_first_meeting_counts_working_days_and_runs_to_the_end_of_the_day():
    assert add_working_days(date(2026, 11, 6), 3) == date(2026, 11, 11)  # Fri + 3 working days = Wed
    assert DeadlinePolicy().first_meeting_working_days == 3 and DeadlinePolicy().closing_file_days == 30


async def test_the_worklist_shows_an_overdue_case_at_the_right_moment(intake_service):
    client, app = intake_service.client, intake_service.app
    case = await intake_service.register(agency_id="chaoyang")
    await intake_service.assign(case, at=ASSIGNED.astimezone(UTC))
    other = await intake_service.register(agency_id="haidian")
    await intake_service.assign(other, at=ASSIGNED.astimezone(UTC))

    async def worklist(moment: datetime, **params) -> list[tuple[str, str]]:
        app.dependency_overrides[get_clock] = at(moment)
        items = (await client.get("/api/v1/worklist/overdue", params=params)).json()
        return [(i["case_id"], i["deadline"]) for i in items]

    # First meeting due by the end of Wednesday 11 November (3 working days), mandate by the end
    # of 11 November (5 days): nothing is overdue at 23:59 that day, both are a minute later.
    last_minute = datetime(2026, 11, 11, 23, 59, tzinfo=BEIJING)
    assert await worklist(last_minute, agency_id="chaoyang") == []
    after = last_minute + timedelta(minutes=2)
    assert sorted(await worklist(after, agency_id="chaoyang")) == sorted(
        [(case["case_id"], "first_meeting"), (case["case_id"], "mandate")])
    assert {c for c, _ in await worklist(after, institution_id="firm-1")} == {case["case_id"],
                                                                              other["case_id"]}
    assert {c for c, _ in await worklist(after, handler_id="someone-else")} == set()
    overdue = (await client.get("/api/v1/cases", params={"overdue": "true", "agency_id": "chaoyang"})).json()
    assert [c["case_id"] for c in overdue["items"]] == [case["case_id"]] and overdue["total"] == 1

    # The sweep records each missed deadline once in the case's history.
    app.dependency_overrides[get_clock] = at(after)
    assert (await client.post("/api/v1/worklist/sweep")).json()["recorded"] == 4  # two deadlines of two cases
    assert (await client.post("/api/v1/worklist/sweep")).json()["recorded"] == 0
    timeline = (await client.get(f"/api/v1/cases/{case['case_id']}/timeline")).json()
    assert {t["summary"] for t in timeline if t["action"] == "deadline_missed"} == {
        "first_meeting not done in time (R-HDL-6)", "mandate not done in time (R-ASG-9)"}

    # The meeting (held late) and the mandate take the case off the worklist; its deadlines say
    # the meeting was missed.
    meeting_on = datetime(2026, 11, 12, 9, 0, tzinfo=BEIJING)
    app.dependency_overrides[get_clock] = at(meeting_on + timedelta(hours=1))
    await intake_service.record(case["case_id"], ENTRIES[1], at=meeting_on.isoformat())
    await intake_service.record(case["case_id"], ENTRIES[0], at=meeting_on.isoformat())
    assert await worklist(meeting_on + timedelta(hours=1), agency_id="chaoyang") == []
    deadlines = (await client.get(f"/api/v1/cases/{case['case_id']}/deadlines")).json()
    assert {d["kind"]: d["overdue"] for d in deadlines} == {"assignment": False, "first_meeting": True,
                                                             "mandate": True}

    # Closing file: due 30 days after the case ended.
    # The case ends today (a closure ends between its registration, today, and today).
    ended = date.fromisoformat(today())
    due = datetime.combine(ended + timedelta(days=30), time(23, 0), tzinfo=BEIJING)
    await client.post(f"/api/v1/cases/{case['case_id']}/closure", headers=intake_service.handler(),
                      json={"outcome": "判决", "ended_on": ended.isoformat()})
    assert await worklist(due, agency_id="chaoyang") == []
    assert await worklist(due + timedelta(hours=1, minutes=1), agency_id="chaoyang") == [
        (case["case_id"], "closing_file")]
    await client.post(f"/api/v1/cases/{case['case_id']}/closing-file", headers=intake_service.handler(),
                      json={"checklist": CHECKLIST})
    assert await worklist(due + timedelta(hours=1, minutes=1), agency_id="chaoyang") == []


async def test_the_time_limits_are_configurable(migrated_settings):
    from services.intake.app import MIGRATIONS, IntakeSettings, create_app
    from services.intake.tests.conftest import Intake
    from shared.testing.fixtures import serve_in_process

    settings = await migrated_settings(IntakeSettings, MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False, first_meeting_working_days=1, mandate_days=10,
                                       first_meeting_case_kinds=["criminal", "civil"])
    app = create_app(settings)
    async with serve_in_process(app) as client:
        intake = Intake(client, app)
        case = await intake.register(case_kind="civil", criminal_stage=None, criminal_role=None,
                                     matter="civil_litigation")
        await intake.assign(case, at=ASSIGNED.astimezone(UTC))
        app.dependency_overrides[get_clock] = at(datetime(2026, 11, 10, 0, 1, tzinfo=BEIJING))
        deadlines = (await client.get(f"/api/v1/cases/{case['case_id']}/deadlines")).json()
    due = {d["kind"]: datetime.fromisoformat(d["due_at"]).astimezone(BEIJING) for d in deadlines
           if d["kind"] != "assignment"}
    assert due == {"first_meeting": datetime(2026, 11, 10, tzinfo=BEIJING),
                   "mandate": datetime(2026, 11, 17, tzinfo=BEIJING)}
    assert {d["kind"] for d in deadlines if d["overdue"]} == {"first_meeting"}


async def test_the_service_sweeps_missed_deadlines_by_itself(migrated_settings):
    from services.intake.app import MIGRATIONS, IntakeSettings, create_app
    from services.intake.tests.conftest import Intake
    from shared.testing.fixtures import serve_in_process
    from shared.testing.kafka import eventually

    settings = await migrated_settings(IntakeSettings, MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False, deadline_sweep_seconds=0.2)
    app = create_app(settings)
    app.dependency_overrides[get_clock] = at(datetime(2026, 11, 12, 9, 0, tzinfo=BEIJING))  # both past due
    async with serve_in_process(app) as client:
        intake = Intake(client, app)
        case = await intake.register()
        await intake.assign(case, at=ASSIGNED.astimezone(UTC))

        async def both_missed() -> bool:  # a sweep records them one after the other
            timeline = (await client.get(f"/api/v1/cases/{case['case_id']}/timeline")).json()
            assert {t["summary"] for t in timeline if t["action"] == "deadline_missed"} == {
                "first_meeting not done in time (R-HDL-6)", "mandate not done in time (R-ASG-9)"}
            return True

        assert await eventually(both_missed, timeout=20)
        await asyncio.sleep(0.5)  # more sweeps have run: still recorded once each
        timeline = (await client.get(f"/api/v1/cases/{case['case_id']}/timeline")).json()
        assert sum(t["action"] == "deadline_missed" for t in timeline) == 2


async def test_the_overdue_filter_pages_like_any_other(intake_service):
    client, app = intake_service.client, intake_service.app
    late, on_time = [], []
    for n in range(5):
        case = await intake_service.register(agency_id="shunyi")
        await intake_service.assign(case, at=ASSIGNED.astimezone(UTC))
        if n % 2:
            await intake_service.record(case["case_id"], ENTRIES[0], at=ASSIGNED.isoformat())
            await intake_service.record(case["case_id"], ENTRIES[1], at=ASSIGNED.isoformat())
            on_time.append(case["case_id"])
        else:
            late.append(case["case_id"])
    app.dependency_overrides[get_clock] = at(datetime(2026, 11, 12, 0, 1, tzinfo=BEIJING))
    pages = [(await client.get("/api/v1/cases", params={"overdue": overdue, "agency_id": "shunyi", "limit": 2,
                                                         "offset": offset})).json()
             for overdue in ("true", "false") for offset in (0, 2)]
    assert [p["total"] for p in pages] == [3, 3, 2, 2]
    assert [len(p["items"]) for p in pages] == [2, 1, 2, 0]
    assert {c["case_id"] for p in pages[:2] for c in p["items"]} == set(late)
    assert {c["case_id"] for p in pages[2:] for c in p["items"]} == set(on_time)
    worklist = (await client.get("/api/v1/worklist/overdue", params={"agency_id": "shunyi"})).json()
    assert {i["case_id"] for i in worklist} == set(late)


async def test_working_days_in_sql_are_those_of_python(intake_service):
    from sqlalchemy import text

    days = [date(2026, 11, 1) + timedelta(days=d) for d in range(14)] + [
        date(2026, 9, 15) + timedelta(days=d) for d in range(30)]  # Mid-autumn, National Day
    async with intake_service.app.state.engine.connect() as conn:
        for day in days:
            for n in range(0, 12):
                in_sql = (await conn.execute(text("SELECT intake_add_working_days(:d, :n)"),
                                             {"d": day, "n": n})).scalar_one()
                assert in_sql == add_working_days(day, n), (day, n)


async def test_a_case_not_assigned_within_3_working_days_of_registration_is_overdue(intake_service):
    client, app = intake_service.client, intake_service.app
    case = await intake_service.register(agency_id="miyun", source_system="miyun-court",
                                         external_reference="刑初1号")
    registered_on = datetime.fromisoformat(case["registered_at"]).astimezone(BEIJING).date()
    due = datetime.combine(add_working_days(registered_on, 3) + timedelta(days=1), datetime.min.time(),
                           BEIJING)

    async def overdue_at(moment: datetime) -> tuple[list, int]:
        app.dependency_overrides[get_clock] = at(moment)
        items = (await client.get("/api/v1/worklist/overdue", params={"agency_id": "miyun"})).json()
        listed = (await client.get("/api/v1/cases", params={"overdue": "true", "agency_id": "miyun"})).json()
        return [(i["deadline"], i["rule"]) for i in items], listed["total"]

    assert await overdue_at(due - timedelta(minutes=1)) == ([], 0)
    assert await overdue_at(due + timedelta(minutes=1)) == ([("assignment", "R-ASG-7")], 1)
    await intake_service.assign(case, at=(due + timedelta(hours=1)).astimezone(UTC))
    assert await overdue_at(due + timedelta(hours=2)) == ([], 0)
    [deadline] = [d for d in (await client.get(f"/api/v1/cases/{case['case_id']}/deadlines")).json()
                  if d["kind"] == "assignment"]
    assert deadline["overdue"] and deadline["met_at"]  # assigned, but late
