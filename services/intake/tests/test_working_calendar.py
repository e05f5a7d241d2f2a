"""China's official working days in the deadlines (R-ASG-7, R-HDL-6): one calendar, the
working_calendar tables, read by Python and by SQL alike; a year not loaded answers 503 until an
operator loads it from the command line."""

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.intake.app import check_calendar
from services.intake.queries.calendar import missing_year_raised, working_calendar
from services.intake.tests.test_deadlines import at
from services.intake.tests.test_handling import ENTRIES
from shared.calendar import CalendarMissing, WorkingCalendar, YearArrangement, library_arrangement
from shared.clock import BEIJING
from shared.deps import get_clock

SEEDED = range(2004, 2027)


async def test_the_migrated_calendar_is_chinese_calendar_s_for_every_year_it_has(intake_service):
    async with intake_service.app.state.engine.connect() as conn:
        calendar = await working_calendar(conn)
    assert calendar.years == frozenset(SEEDED)
    day = date(SEEDED.start, 1, 1)
    while day.year < SEEDED.stop:
        assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)
    # A year whose arrangement is missing would count Monday to Friday: each year has its New
    # Year's Day and National Day off, and at least one make-up working day.
    for year in SEEDED:
        assert not calendar.is_working_day(date(year, 1, 1)) or date(year, 1, 1).weekday() >= 5, year
        assert not calendar.is_working_day(date(year, 10, 1)), year
        assert not calendar.is_working_day(date(year, 10, 2)), year
        assert any(calendar.exceptions.get(date(year, 1, 1) + timedelta(days=d))
                   for d in range(366)), year
    with pytest.raises(CalendarMissing) as missing:
        calendar.is_working_day(date(2027, 1, 4))
    assert missing.value.year == 2027


def test_the_library_s_years_written_as_the_operators_file_are_the_library_s():
    for year in SEEDED:
        arrangement = YearArrangement.model_validate_json(library_arrangement(year).model_dump_json())
        calendar = WorkingCalendar.of([arrangement])
        day = date(year, 1, 1)
        while day.year == year:
            assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
            day += timedelta(days=1)
    with pytest.raises(CalendarMissing):
        library_arrangement(2027)  # the installed release stops at 2026: a new one brings 2027


def test_national_day_2026_and_its_make_up_saturday():
    calendar = WorkingCalendar.of([library_arrangement(2026)])
    # 1-7 October off; Sunday 20 September and Saturday 10 October are worked (the notice of 2026).
    assert [calendar.is_working_day(date(2026, 10, d)) for d in range(1, 12)] == [
        False] * 7 + [True, True, True, False]
    assert calendar.is_working_day(date(2026, 9, 20))
    # Three working days after Wednesday 30 September: 8, 9 and Saturday 10 October (Monday to
    # Friday would have said Monday 5 October).
    assert calendar.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert calendar.add_working_days(date(2026, 9, 30), 0) == date(2026, 9, 30)


def test_an_arrangement_file_is_checked():
    new_year = {"name": "元旦", "first_day": "2027-01-01", "last_day": "2027-01-03"}
    good = {"year": 2027, "source": "国务院办公厅通知", "holidays": [new_year]}
    assert YearArrangement.model_validate(good).days() == {date(2027, 1, d): False for d in (1, 2, 3)}
    for wrong in ({"last_day": "2026-12-31"},  # backwards
                  {"first_day": "2028-03-01", "last_day": "2028-03-02"},  # another year
                  {"make_up_working_days": ["2027-01-04"]},  # a Monday
                  {"make_up_working_days": ["2027-01-02"]}):  # a day off as well
        with pytest.raises(ValueError):
            YearArrangement.model_validate({**good, "holidays": [{**new_year, **wrong}]})


# Assigned on Wednesday 30 September 2026 at 10:00 in Beijing, the mandate signed on time: the first
# meeting (3 working days, R-HDL-6) is due by the end of Saturday 10 October, the make-up day.
ASSIGNED = datetime(2026, 9, 30, 10, 0, tzinfo=BEIJING)


async def test_a_deadline_across_national_day_falls_on_the_make_up_saturday_in_python_and_in_sql(
        intake_service):
    client, app = intake_service.client, intake_service.app
    case = await intake_service.register(agency_id="tongzhou")
    await intake_service.assign(case, at=ASSIGNED.astimezone(UTC))
    mandate = await intake_service.record(case["case_id"], ENTRIES[0], at="2026-10-01T10:00:00+08:00")
    assert mandate.status_code == 201, mandate.text

    async def overdue_at(moment: datetime) -> tuple[list[tuple[str, str]], int]:
        app.dependency_overrides[get_clock] = at(moment)
        worklist = await client.get("/api/v1/worklist/overdue", params={"agency_id": "tongzhou"})  # Python
        listed = await client.get("/api/v1/cases", params={"overdue": "true", "agency_id": "tongzhou"})  # SQL
        return [(i["deadline"], i["due_at"]) for i in worklist.json()], listed.json()["total"]

    # Monday to Friday would make it overdue from Tuesday 6 October.
    assert await overdue_at(datetime(2026, 10, 6, 9, 0, tzinfo=BEIJING)) == ([], 0)
    assert await overdue_at(datetime(2026, 10, 10, 23, 59, tzinfo=BEIJING)) == ([], 0)
    assert await overdue_at(datetime(2026, 10, 11, 0, 1, tzinfo=BEIJING)) == (
        [("first_meeting", "2026-10-11T00:00:00+08:00")], 1)
    deadlines = (await client.get(f"/api/v1/cases/{case['case_id']}/deadlines")).json()
    assert {d["kind"]: d["due_at"] for d in deadlines if d["kind"] != "assignment"} == {
        "first_meeting": "2026-10-11T00:00:00+08:00", "mandate": "2026-10-06T00:00:00+08:00"}


ADD = text("SELECT intake_add_working_days(:d, :n)")


async def test_python_and_sql_count_the_same_working_days_and_refuse_the_same_year(intake_service):
    days = [date(2026, 1, 1) + timedelta(days=d) for d in range(0, 365, 3)]
    async with intake_service.app.state.engine.connect() as conn:
        calendar = await working_calendar(conn)
        for day in days:
            for n in (0, 1, 3, 5):
                try:
                    expected: date | int = calendar.add_working_days(day, n)
                except CalendarMissing as missing:
                    expected = missing.year
                try:
                    with missing_year_raised():  # FYC01 from the SQL function, as CalendarMissing
                        async with conn.begin_nested():
                            in_sql: date | int = (await conn.execute(ADD, {"d": day, "n": n})).scalar_one()
                except CalendarMissing as refused:
                    in_sql = refused.year
                assert in_sql == expected, (day, n)
    assert calendar.add_working_days(date(2026, 12, 24), 3) == date(2026, 12, 29)
    with pytest.raises(CalendarMissing):
        calendar.add_working_days(date(2026, 12, 29), 3)


YEAR_2027 = {"year": 2027, "source": "A test's arrangement: New Year's Day only",
             "holidays": [{"name": "元旦", "first_day": "2027-01-01", "last_day": "2027-01-03",
                           "make_up_working_days": []}]}


async def test_a_year_not_loaded_answers_503_until_an_operator_loads_it(intake_service, tmp_path):
    client, app = intake_service.client, intake_service.app
    case = await intake_service.register(agency_id="yanqing")
    await intake_service.assign(case, at=datetime(2026, 12, 30, 10, 0, tzinfo=BEIJING).astimezone(UTC))
    app.dependency_overrides[get_clock] = at(datetime(2027, 1, 8, 9, 0, tzinfo=BEIJING))

    for path, params in ((f"/api/v1/cases/{case['case_id']}/deadlines", {}),
                         ("/api/v1/worklist/overdue", {"agency_id": "yanqing"}),
                         ("/api/v1/cases", {"overdue": "true", "agency_id": "yanqing"})):  # SQL
        refused = await client.get(path, params=params)
        assert refused.status_code == 503, (path, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["year"] == 2027 and "2027" in refused.json()["detail"]
    assert (await client.get(f"/api/v1/cases/{case['case_id']}")).status_code == 200  # reads still work

    settings = app.state.settings
    env = {**os.environ, "FAYUAN_DATABASE_URL": settings.database_url,
           "FAYUAN_DATABASE_NAME": make_url(settings.sqlalchemy_url).database}
    notice = tmp_path / "2027.json"
    notice.write_text(json.dumps(YEAR_2027, ensure_ascii=False), encoding="utf-8")

    async def load(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "services.intake", "calendar", *args]
        return await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True,
                                       timeout=60)

    done = await load("load", str(notice), "--actor", "ops-1")
    assert done.returncode == 0, done.stderr
    assert "working days of 2027 loaded (3 days off, 0 make-up working days)" in done.stdout
    # Assigned Wednesday 30 December: 31 December, then Monday 4 and Tuesday 5 January.
    deadlines = (await client.get(f"/api/v1/cases/{case['case_id']}/deadlines")).json()
    assert [d["due_at"] for d in deadlines if d["kind"] == "first_meeting"] == ["2027-01-06T00:00:00+08:00"]
    listed = (await client.get("/api/v1/cases", params={"overdue": "true", "agency_id": "yanqing"})).json()
    assert listed["total"] == 1

    again = await load("load", str(notice), "--actor", "ops-1")
    assert again.returncode == 1 and "2027 is loaded already" in again.stderr
    shown = await load("show")
    assert "2027" in shown.stdout and "ops-1" in shown.stdout and YEAR_2027["source"] in shown.stdout
    async with app.state.engine.connect() as conn:
        [row] = (await conn.execute(text("SELECT loaded_by, sha256 FROM working_calendar_years "
                                         "WHERE year = 2027"))).all()
    assert row.loaded_by == "ops-1" and len(row.sha256) == 64

    notice.write_text(json.dumps({**YEAR_2027, "holidays": [{**YEAR_2027["holidays"][0],
                                                            "make_up_working_days": ["2027-01-05"]}]}))
    invalid = await load("load", str(notice), "--actor", "ops-1", "--replace")
    assert invalid.returncode == 2 and "make-up working day on a weekday" in invalid.stderr


async def test_the_next_year_missing_is_told_in_december(intake_service, caplog):
    engine = intake_service.app.state.engine
    from prometheus_client import REGISTRY

    assert await check_calendar(engine, datetime(2026, 11, 30, 12, 0, tzinfo=BEIJING)) is None
    assert REGISTRY.get_sample_value("fayuan_working_calendar_year_missing") == 0
    assert REGISTRY.get_sample_value("fayuan_working_calendar_last_year") == 2026
    with caplog.at_level("WARNING", logger="services.intake.app"):
        # 1 December in Beijing is still 30 November in UTC.
        assert await check_calendar(engine, datetime(2026, 11, 30, 16, 30, tzinfo=UTC)) == 2027
    assert REGISTRY.get_sample_value("fayuan_working_calendar_year_missing") == 2027
    assert any("2027 are not loaded" in r.getMessage() for r in caplog.records)
    assert await check_calendar(engine, datetime(2027, 2, 1, tzinfo=BEIJING)) == 2027
