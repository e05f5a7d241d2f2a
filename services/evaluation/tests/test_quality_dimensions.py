"""Over HTTP, with intake's events through the broker: results keep the standard version they
were graded under; an agency's grading rule (and intake's late closing file) grade its cases; a
court's opinion in the quality record; an overdue correction on the worklist; the
excellent-and-good rates against the target, by hand-computed figures."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from services.evaluation.app import MIGRATIONS, EvaluationSettings, create_app
from services.evaluation.domain import seed_for
from services.evaluation.tests.test_evaluations_api import (
    HANDLER,
    case_closed,
    closed_and_known,
    evaluation_of,
    grade,
    reviewer,
)
from services.evaluation.tests.test_quality_record import follow_up
from shared import clock
from shared.auth import Role
from shared.contracts import CaseFlags, CaseKind, CaseRegistered, DeadlineMissed, HandlerRef
from shared.deps import get_clock
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish

THIS_YEAR = clock.local_date(clock.now()).year
PERIOD = f"{THIS_YEAR}-H{1 if clock.local_date(clock.now()).month <= 6 else 2}"


@pytest.fixture
async def service(migrated_settings):
    settings = await migrated_settings(EvaluationSettings, MIGRATIONS,
                                       excellent_good_targets=[f"{THIS_YEAR}:80"])
    app = create_app(settings)
    async with serve_in_process(app) as client:
        yield settings, app, client


def city_bureau(settings, **claims) -> dict[str, str]:
    return as_role(settings, Role.bureau_investigator, sub="bureau-city-1", **claims)


def quality_lead(settings, agency_id: str = "chaoyang-centre") -> dict[str, str]:
    return as_role(settings, Role.quality_lead, sub="lead-1", agency_id=agency_id)


def organ(settings, organ_id: str) -> dict[str, str]:
    return as_role(settings, Role.judicial_organ, sub=f"clerk-of-{organ_id}", institution_id=organ_id)


def registered(case, source_system: str | None = None) -> CaseRegistered:
    return CaseRegistered(case_id=case.case_id, case_number=case.case_number, case_kind=case.case_kind,
                          cause="盗窃罪", district="朝阳区", agency_id=case.agency_id, flags=CaseFlags(),
                          registered_at=datetime(2026, 9, 1, 2, 0, tzinfo=UTC), source_system=source_system)


async def test_a_result_keeps_its_version_after_a_new_edition(service):
    settings, _, client = service
    listed = await client.get("/api/v1/evaluation-standards", headers={"Authorization": ""})
    assert listed.status_code == 200  # public
    assert [v["version"] for v in listed.json()] == ["civil-administrative-v1", "criminal-v1"]
    old = await closed_and_known(service, case_closed())
    first = (await grade(service, old)).json()
    assert (first["standard_version"], first["standard"]) == ("criminal-v1", "SF/T 0086-2020")

    criminal = seed_for(CaseKind.criminal).terms.model_dump(mode="json")
    edition = {**criminal, "code": "SF/T 0086-2026", "effective_from": str(clock.local_date(clock.now())),
               "indicators": [i for i in criminal["indicators"] if i["key"] != "report_duty"]}
    edition["indicators"][0]["max_points"] += 5  # the report duty's 5 points go to the meeting
    district = await client.post("/api/v1/evaluation-standards/criminal/versions", json=edition,
                                 headers=city_bureau(settings, district="朝阳区"))
    assert district.status_code == 403
    registered_ = await client.post("/api/v1/evaluation-standards/criminal/versions", json=edition,
                                    headers=city_bureau(settings))
    assert registered_.status_code == 201, registered_.text
    assert registered_.json()["version"] == "criminal-v2"
    again = await client.post("/api/v1/evaluation-standards/criminal/versions", json=edition,
                              headers=city_bureau(settings))
    assert again.status_code == 409 and "effective_from" in again.json()["detail"]

    new = await closed_and_known(service, case_closed())
    seven = {k: g for k, g in evaluation_of(new)["indicators"].items() if k != "report_duty"}
    second = (await grade(service, new, indicators=seven)).json()
    assert (second["standard_version"], second["standard"]) == ("criminal-v2", "SF/T 0086-2026")
    kept = (await client.get(f"/api/v1/evaluations/{first['evaluation_id']}")).json()
    assert (kept["standard_version"], kept["standard"], set(kept["indicators"])) == (
        "criminal-v1", "SF/T 0086-2020", set(first["indicators"]))
    assert (await client.get("/api/v1/evaluation-standards/criminal-v2")).json()["code"] == "SF/T 0086-2026"


async def test_the_agencys_rule_grades_its_cases_and_a_late_file_fails_under_points_80_late_fails(service):
    settings, _, client = service
    case = await closed_and_known(service, case_closed())
    url = "/api/v1/grading-rules/agencies/chaoyang-centre"
    assert (await client.get(url)).json() == {"agency_id": "chaoyang-centre", "rule_version": "default-v1",
                                              "chosen": False, "history": []}
    other = await client.put("/api/v1/grading-rules/agencies/haidian-centre", headers=quality_lead(settings),
                             json={"rule_version": "points-90-80-60", "reason": "x"})
    assert other.status_code == 404  # another agency's
    chosen = await client.put(url, headers=quality_lead(settings),
                              json={"rule_version": "points-80-late-fails", "reason": "区局通知：百分制"})
    assert chosen.status_code == 200, chosen.text
    assert [(h["rule_version"], h["chosen_by"]) for h in chosen.json()["history"]] == [
        ("points-80-late-fails", "lead-1")]

    no_points = await grade(service, case)
    assert no_points.status_code == 422 and no_points.json()["detail"].startswith("points:")
    late = DeadlineMissed(case_id=case.case_id, case_number=case.case_number, agency_id=case.agency_id,
                          deadline="closing_file", due_at=datetime(2026, 11, 19, 16, tzinfo=UTC),
                          handler=HANDLER, detected_at=datetime(2026, 11, 20, tzinfo=UTC))
    await publish(settings, late, source="/fayuan/intake")
    full = {i.key: i.max_points for i in seed_for(CaseKind.criminal).terms.indicators}

    async def graded():
        response = await client.post("/api/v1/evaluations", headers=reviewer(settings), json={
            **evaluation_of(case, grade="excellent"), "points": full})
        assert response.status_code == 201, response.text
        return response.json()

    async def reported():
        async with service[1].state.engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM late_closing_files"))).scalar_one()

    # Full points, every indicator excellent: intake's report of the late file fails the case.
    await eventually(reported)
    result = await graded()
    assert (result["grade"], result["rule_version"], result["total_points"], result["late_file"]) == (
        "fail", "points-80-late-fails", "100.00", True)


async def test_a_courts_opinion_shows_in_the_quality_record_beside_the_satisfaction(service):
    settings, _, client = service
    case = case_closed()
    await publish(settings, registered(case, source_system="chaoyang-procuratorate"),
                  follow_up(case, 1, "satisfied", datetime(2026, 11, 5).date()), source="/fayuan/intake")
    await closed_and_known(service, case)
    opinion = {"case_id": case.case_id, "organ_kind": "court", "relation": "heard", "assessment": "satisfied",
               "remarks": "辩护意见针对性强"}
    court = organ(settings, "chaoyang-court")
    given = await client.post("/api/v1/case-opinions", json=opinion, headers=court)
    assert given.status_code == 201, given.text
    assert given.headers["location"] == f"/api/v1/evaluations/quality-records/{case.case_id}"
    twice = await client.post("/api/v1/case-opinions", json=opinion, headers=court)
    assert twice.status_code == 409
    # Only the organ that notified the case gives an opinion as its notifier.
    notified = {**opinion, "organ_kind": "procuratorate", "relation": "notified",
                "assessment": "dissatisfied"}
    impostor = await client.post("/api/v1/case-opinions", json=notified,
                                 headers=organ(settings, "haidian-procuratorate"))
    assert impostor.status_code == 404
    assert (await client.post("/api/v1/case-opinions", json=notified,
                              headers=organ(settings, "chaoyang-procuratorate"))).status_code == 201
    unknown = await client.post("/api/v1/case-opinions", json={**opinion, "case_id": "nope"},
                                headers=organ(settings, "chaoyang-court"))
    assert unknown.status_code == 404

    record = (await client.get(f"/api/v1/evaluations/quality-records/{case.case_id}")).json()
    assert record["satisfaction"] == "satisfied"
    opinions = record["opinions"]
    assert sorted((o["organ_id"], o["organ_kind"], o["relation"], o["assessment"]) for o in opinions) == [
        ("chaoyang-court", "court", "heard", "satisfied"),
        ("chaoyang-procuratorate", "procuratorate", "notified", "dissatisfied")]


async def test_an_overdue_correction_is_on_the_agencys_worklist_until_the_handler_corrects(service):
    settings, app, client = service
    case = await closed_and_known(service, case_closed())
    body = evaluation_of(case)
    body["indicators"]["meeting"] = "pass"
    result = (await grade(service, case, indicators=body["indicators"])).json()
    handler = as_role(settings, Role.case_handler, handler_id=HANDLER.handler_id, sub="user-lawyer-li")

    async def asked():
        items = (await client.get("/api/v1/corrections", params={"status": "open"})).json()["items"]
        assert [i["correction_id"] for i in items] == [result["evaluation_id"]]
        return items[0]

    correction = await eventually(asked)
    today = clock.local_date(clock.now())
    assert correction["indicators"] == ["meeting"] and not correction["overdue"]
    assert correction["due_on"] == str(today + timedelta(days=settings.correction_days))
    assert (await client.get("/api/v1/corrections", params={"status": "overdue"})).json()["total"] == 0

    later = datetime.now(UTC) + timedelta(days=settings.correction_days + 1)
    app.dependency_overrides[get_clock] = lambda: (lambda: later)
    overdue = (await client.get("/api/v1/corrections", params={"status": "overdue"})).json()
    assert [i["case_id"] for i in overdue["items"]] == [case.case_id] and overdue["items"][0]["overdue"]
    elsewhere = as_role(settings, Role.agency_staff, agency_id="haidian-centre")
    assert (await client.get("/api/v1/corrections", params={"status": "overdue"},
                             headers=elsewhere)).json()["total"] == 0
    mine = (await client.get("/api/v1/corrections", headers=handler)).json()
    assert mine["total"] == 1

    other = as_role(settings, Role.case_handler, handler_id="lawyer-zhao", sub="user-lawyer-zhao")
    url = f"/api/v1/corrections/{correction['correction_id']}/correction"
    assert (await client.post(url, json={"note": "补充会见笔录"}, headers=other)).status_code == 404
    done = await client.post(url, json={"note": "补充会见笔录"}, headers=handler)
    assert done.status_code == 200, done.text
    assert done.json()["note"] == "补充会见笔录" and done.json()["on_time"] is True
    assert (await client.post(url, json={"note": "again"}, headers=handler)).status_code == 409
    assert (await client.get("/api/v1/corrections", params={"status": "overdue"})).json()["total"] == 0


async def test_an_excellent_or_good_result_asks_no_correction(service):
    _, app, client = service
    case = await closed_and_known(service, case_closed())
    await grade(service, case)  # every indicator good

    async def handled():
        async with app.state.engine.connect() as conn:
            return (await conn.execute(text(
                "SELECT count(*) FROM inbox WHERE type LIKE '%evaluation-completed%'"))).scalar_one()

    await eventually(handled)
    assert (await client.get("/api/v1/corrections")).json()["total"] == 0


def handled_by(case, handler_id: str, institution_id: str):
    return case.model_copy(update={"handler": HandlerRef(
        handler_id=handler_id, name=handler_id, kind="lawyer", licence_number=None,
        institution_id=institution_id, institution_name=f"{institution_id} 律师事务所")})


async def test_rates_per_agency_institution_and_handler_against_the_target(service):
    settings, _, client = service
    # Lawyer Li (firm-a): good, good, pass -> 2/3 = 66.7%, below the 80% target.
    # Lawyer Zhou (firm-c): good, excellent -> 100%.
    # The agency: 4 of 5 = 80.0%, exactly the target: not below it.
    plan = [("lawyer-li", "firm-a", "good"), ("lawyer-li", "firm-a", "good"), ("lawyer-li", "firm-a", "pass"),
            ("lawyer-zhou", "firm-c", "good"), ("lawyer-zhou", "firm-c", "excellent")]
    for handler_id, institution_id, result in plan:
        case = await closed_and_known(service, handled_by(case_closed(), handler_id, institution_id))
        assert (await grade(service, case, grade=result)).status_code == 201

    def row(items, key):
        return next(i for i in items if i["key"] == key)

    by_handler = (await client.get("/api/v1/quality-rates", params={"period": PERIOD})).json()
    assert by_handler["target"] == "80" and by_handler["by"] == "handler"
    li, zhou = row(by_handler["items"], "lawyer-li"), row(by_handler["items"], "lawyer-zhou")
    assert (li["evaluated"], li["good"], li["pass"], li["rate"], li["below_target"]) == (
        3, 2, 1, "66.7", True)
    assert (zhou["evaluated"], zhou["rate"], zhou["below_target"]) == (2, "100.0", False)
    assert [i["key"] for i in by_handler["items"]] == ["lawyer-li", "lawyer-zhou"]  # lowest first
    overall = by_handler["overall"]
    assert (overall["evaluated"], overall["rate"], overall["below_target"]) == (5, "80.0", False)

    flagged = (await client.get("/api/v1/quality-rates",
                                params={"period": PERIOD, "below_target": True})).json()
    assert [i["key"] for i in flagged["items"]] == ["lawyer-li"]
    firms = (await client.get("/api/v1/quality-rates", params={"period": PERIOD, "by": "institution"})).json()
    assert {i["key"]: i["rate"] for i in firms["items"]} == {"firm-a": "66.7", "firm-c": "100.0"}
    agencies = (await client.get("/api/v1/quality-rates", params={"period": PERIOD, "by": "agency"})).json()
    assert [(i["key"], i["rate"], i["below_target"]) for i in agencies["items"]] == [
        ("chaoyang-centre", "80.0", False)]
    other_half = f"{THIS_YEAR - 1}-H2"
    assert (await client.get("/api/v1/quality-rates", params={"period": other_half})).json()["items"] == []
    elsewhere = as_role(settings, Role.agency_staff, agency_id="haidian-centre")
    assert (await client.get("/api/v1/quality-rates", params={"period": PERIOD}, headers=elsewhere)
            ).json()["overall"]["evaluated"] == 0
    # Half-years that are no calendar dates (year 0, the one ending in year 10000) are the
    # caller's mistake, a problem naming the period, never a 500.
    for wrong in ("2026-H3", "0000-H1", "9999-H2"):
        response = await client.get("/api/v1/quality-rates", params={"period": wrong})
        assert response.status_code == 422, wrong
        assert response.headers["content-type"] == "application/problem+json"
