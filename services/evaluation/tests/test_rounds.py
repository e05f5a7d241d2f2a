"""Rounds over HTTP with the real database and broker (R-EVL-4, R-EVL-6): experts from the pool,
the draw re-run by hand gives the same cases and readers, the excluded experts never read, a fail
is re-read by two more, the panel decides, and the round's closure emits ONE EvaluationFailed."""

from datetime import date
from decimal import Decimal

from services.evaluation.domain import seed_for
from services.evaluation.domain.pool import ExpertProfile
from services.evaluation.domain.round import DrawRule, RoundPolicy, allocate, draw
from services.evaluation.tests.test_evaluations_api import (
    HANDLER,
    REVIEWER,
    case_closed,
    closed_and_known,
    give,
    reviewer,
    service,  # noqa: F401 - the fixture
)
from services.evaluation.tests.test_quality_dimensions import quality_lead
from shared import clock
from shared.contracts import CaseKind, EvaluationCompleted, EvaluationFailed
from shared.contracts.evaluation import EVALUATIONS
from shared.testing.kafka import eventually, read_topic

TODAY = clock.local_date(clock.now())
PERIOD = f"{TODAY.year}-H{1 if TODAY.month <= 6 else 2}"  # the half-year the round's results complete in

KEYS = (
    "meeting",
    "file_review",
    "investigation_work",
    "legal_opinion",
    "hearing",
    "notice_duty",
    "report_duty",
    "closing_file",
)


def profile(institution: str, district: str = "海淀区", **kw) -> dict:
    return {
        "name": "专家",
        "licence_number": "11101200510000001",
        "practising_since": "2010-03-01",
        "fields": ["criminal"],
        "district": district,
        "institution_id": institution,
        "institution_name": institution,
        "assigning_agencies": [],
        "trained_on": ["2026-09-01"],
        "disciplined_on": [],
        "active": True,
        **kw,
    }


QUALIFIED = {f"expert-{i}": profile(f"firm-q{i}") for i in range(6)}
EXCLUDED = {
    HANDLER.handler_id: profile("firm-z"),  # the handler himself
    "expert-same-firm": profile(HANDLER.institution_id),
    "expert-same-district": profile("firm-x", district="朝阳区"),
    "expert-assigned-by-agency": profile("firm-y", assigning_agencies=["chaoyang-centre"]),
    "expert-junior": profile("firm-w", practising_since="2023-01-01"),
    "expert-untrained": profile("firm-v", trained_on=["2026-12-01"]),
    "expert-civil": profile("firm-u", fields=["civil"]),
    "expert-disciplined": profile("firm-t", disciplined_on=["2025-02-01"]),
}


def reading(grade: str, fail: bool = False) -> dict:
    indicators = dict.fromkeys(KEYS, grade)
    if fail:
        indicators["meeting"] = "fail"
    return {"indicators": indicators, "findings": "未及时会见受援人" if fail else "符合标准"}


async def test_a_round_draws_allocates_re_reads_a_fail_and_emits_one_evaluation_failed(service):  # noqa: F811
    settings, _, client = service
    for rid, body in {**QUALIFIED, **EXCLUDED}.items():
        created = await client.post("/api/v1/experts", json={"reviewer_id": rid, **body})
        assert created.status_code == 201, created.text
    assert (
        await client.post("/api/v1/experts", json={"reviewer_id": "expert-0", **QUALIFIED["expert-0"]})
    ).status_code == 409
    cases = [await closed_and_known(service, case_closed(CaseKind.criminal)) for _ in range(3)]

    opened = await client.post(
        "/api/v1/evaluation-rounds",
        json={
            "agency_id": "chaoyang-centre",
            "period_from": "2026-10-01",
            "period_to": "2026-10-31",
            "opens_on": "2026-11-02",
            "draw_rule": "all",
            "seed": "2026-10-chaoyang",
        },
    )
    assert opened.status_code == 201, opened.text
    round_ = opened.json()
    assert (round_["seed"], round_["draw_rule"], round_["readers"], round_["drawn"]) == (
        "2026-10-chaoyang",
        "all",
        "one-then-two",
        3,
    )
    files = (await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/files")).json()["items"]

    # Anyone re-running the published algorithm over the same data gets the same cases and readers.
    pool = {
        e["reviewer_id"]: ExpertProfile.model_validate({k: e[k] for k in ExpertProfile.model_fields})
        for e in (await client.get("/api/v1/experts", params={"limit": 100})).json()["items"]
    }
    assert [f["case_id"] for f in files] == draw(
        [c.case_id for c in cases], rule=DrawRule.all, seed="2026-10-chaoyang"
    )
    for f in files:
        from services.evaluation.domain.pool import Candidate

        candidate = Candidate(
            f["case_id"],
            CaseKind.criminal,
            "chaoyang-centre",
            "朝阳区",
            HANDLER.handler_id,
            HANDLER.institution_id,
        )
        assert [r["reviewer_id"] for r in f["readers"]] == allocate(
            candidate,
            pool,
            seed="2026-10-chaoyang",
            stage="first",
            count=1,
            opens_on=date(2026, 11, 2),
            policy=RoundPolicy(),
        )
        assert f["readers"][0]["reviewer_id"] in QUALIFIED

    # The reader sees the file blind.
    failing, *passing = files
    first = failing["readers"][0]["reviewer_id"]
    mine = (await client.get("/api/v1/review-files", headers=reviewer(settings, first))).json()["items"]
    assert failing["file_id"] in {m["file_id"] for m in mine}
    assert not {"handler", "handler_id", "handler_name", "institution_id", "institution_name"} & set(mine[0])

    # A fail is re-read by two more; two of three fail: the fail stands.
    url = f"/api/v1/review-files/{failing['file_id']}/readings"
    assert (
        await client.post(
            url, json=reading("good", fail=True), headers=reviewer(settings, "expert-same-firm")
        )
    ).status_code == 404
    assert (
        await client.post(url, json=reading("good", fail=True), headers=reviewer(settings, first))
    ).status_code == 201
    after = (await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/files")).json()["items"][0]
    re_readers = [r["reviewer_id"] for r in after["readers"] if r["stage"] == "re-read"]
    assert len(re_readers) == 2 and set(re_readers) <= set(QUALIFIED) - {first} and after["grade"] is None
    for rid, body in zip(re_readers, (reading("good", fail=True), reading("excellent")), strict=True):
        assert (await client.post(url, json=body, headers=reviewer(settings, rid))).status_code == 201
    for f in passing:
        rid = f["readers"][0]["reviewer_id"]
        done = await client.post(
            f"/api/v1/review-files/{f['file_id']}/readings",
            json=reading("excellent"),
            headers=reviewer(settings, rid),
        )
        assert done.status_code == 201, done.text
    files = (await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/files")).json()["items"]
    assert [f["grade"] for f in files] == ["fail", "excellent", "excellent"]

    closed = await client.post(f"/api/v1/evaluation-rounds/{round_['round_id']}/closure")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    envelopes = await read_topic(settings.kafka_bootstrap_servers, settings.topic(EVALUATIONS), expect=4)
    failures = [e.model() for e in envelopes if e.type == EvaluationFailed.type]
    completed = [e.model() for e in envelopes if e.type == EvaluationCompleted.type]
    assert [(f.case_id, f.evaluation_id) for f in failures] == [(failing["case_id"], failing["file_id"])]
    assert sorted(c.grade for c in completed) == ["excellent", "excellent", "fail"]
    record = (await client.get(f"/api/v1/evaluations/quality-records/{failing['case_id']}")).json()
    assert record["evaluation"]["grade"] == "fail" and not record["awaiting_evaluation"]
    # The final result with its readings: the fail and the two re-reads, graded as any evaluation.
    assert (record["evaluation"]["evaluation_id"], record["evaluation"]["standard_version"]) == (
        failing["file_id"], "criminal-v1")
    panel = record["panel"]
    assert (panel["round_id"], panel["result_no"], panel["disputed"]) == (round_["round_id"], 1, False)
    assert sorted((r["stage"], r["grade"]) for r in panel["readings"]) == [
        ("first", "fail"), ("re-read", "excellent"), ("re-read", "fail")]
    passed = (await client.get(f"/api/v1/evaluations/quality-records/{passing[0]['case_id']}")).json()
    only = passing[0]["readers"][0]["reviewer_id"]
    assert [r["reviewer_id"] for r in passed["panel"]["readings"]] == [only]

    # Only final results count: one evaluation per case (not one per reading), one correction for
    # the failed case, and the rates over the same results as the bulletin.
    listed = (await client.get("/api/v1/evaluations", params={"limit": 100})).json()
    assert sorted(e["case_id"] for e in listed["items"]) == sorted(c.case_id for c in cases)

    async def corrections():
        found = (await client.get("/api/v1/corrections")).json()
        return found if found["total"] else None

    asked = await eventually(corrections)
    assert [(c["case_id"], c["evaluation_id"]) for c in asked["items"]] == [
        (failing["case_id"], failing["file_id"])]

    agreement = (await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/agreement")).json()
    assert (
        agreement["re_read_fails"],
        agreement["confirmed_fails"],
        agreement["files_with_three_grades"],
    ) == (1, 1, 1)
    bulletin = (await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/bulletin")).json()
    assert len(bulletin["excellent_cases"]) == 2 and bulletin["problems"][0]["indicator"] == "meeting"
    rates = (await client.get("/api/v1/quality-rates", params={"period": PERIOD, "by": "agency"})).json()
    overall = rates["overall"]
    assert bulletin["final"] is True and bulletin["graded"] == {
        g: overall[g] for g in ("excellent", "good", "pass", "fail")} == {
        "excellent": 2, "good": 0, "pass": 0, "fail": 1}
    assert overall["evaluated"] == 3
    csv = await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/bulletin.csv")
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf") and b"meeting" in csv.content


def points_for(total: int) -> dict[str, str]:
    """Points per criminal indicator adding up to `total`: each its full weight, less what is
    missing taken from the legal opinion (20), then the meeting (15), then the closing file (15)."""
    given = {i.key: i.max_points for i in seed_for(CaseKind.criminal).terms.indicators}
    short = 100 - total
    for key in ("legal_opinion", "meeting", "closing_file"):
        taken = min(short, given[key])
        given[key] -= taken
        short -= taken
    assert short == 0
    return {k: str(Decimal(v)) for k, v in given.items()}


async def register_pool(client) -> None:
    for rid, body in QUALIFIED.items():
        assert (await client.post("/api/v1/experts", json={"reviewer_id": rid, **body})).status_code == 201


async def open_round(client, **overrides) -> dict:
    opened = await client.post("/api/v1/evaluation-rounds", json={
        "agency_id": "chaoyang-centre", "period_from": "2026-10-01", "period_to": "2026-10-31",
        "opens_on": "2026-11-02", "draw_rule": "all", "seed": "points-round", **overrides})
    assert opened.status_code == 201, opened.text
    return opened.json()


async def test_readings_are_graded_by_the_agencys_points_rule_recorded_on_the_round(service):  # noqa: F811
    """R-EVL-2 in a round: the agency's rule (points-90-80-60), chosen before the round opens, grades
    every reading through grade_case: points are required (422 naming them), the grade follows the
    total, not the indicator grades; a 55 is re-read by two, 85 and 82, and the panel's good stands,
    with the lower median total (82) and the rule and standard version in the final result."""
    settings, _, client = service
    await register_pool(client)
    case = await closed_and_known(service, case_closed(CaseKind.criminal))
    rule_url = "/api/v1/grading-rules/agencies/chaoyang-centre"
    chosen = await client.put(rule_url, headers=quality_lead(settings),
                              json={"rule_version": "points-90-80-60", "reason": "区局通知：百分制"})
    assert chosen.status_code == 200, chosen.text
    round_ = await open_round(client)
    assert round_["grading_rule"] == "points-90-80-60"
    # The agency changing its rule later does not change the open round's.
    assert (await client.put(rule_url, headers=quality_lead(settings),
                             json={"rule_version": "default-v1", "reason": "x"})).status_code == 200
    (file,) = (await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/files")).json()["items"]
    first = file["readers"][0]["reviewer_id"]
    (mine,) = (await client.get("/api/v1/review-files", headers=reviewer(settings, first))).json()["items"]
    assert (mine["standard_version"], mine["rule_version"], mine["points_required"]) == (
        "criminal-v1", "points-90-80-60", True)
    assert "meeting.met" in mine["veto_items"] and mine["indicators"] == list(KEYS)

    url = f"/api/v1/review-files/{file['file_id']}/readings"
    no_points = await client.post(url, json=reading("good"), headers=reviewer(settings, first))
    assert no_points.status_code == 422 and no_points.json()["detail"].startswith("points:")
    # Every indicator good, but 55 points: a fail under the points rule.
    done = await client.post(url, json={**reading("good"), "points": points_for(55)},
                             headers=reviewer(settings, first))
    assert done.status_code == 201, done.text
    assert done.json()["my_grade"] == "fail"
    after = (await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/files")).json()["items"][0]
    re_readers = [r["reviewer_id"] for r in after["readers"] if r["stage"] == "re-read"]
    assert len(re_readers) == 2
    for rid, total in zip(re_readers, (85, 82), strict=True):
        read = await client.post(url, json={**reading("good"), "points": points_for(total)},
                                 headers=reviewer(settings, rid))
        assert read.status_code == 201 and read.json()["my_grade"] == "good", read.text
    closed = await client.post(f"/api/v1/evaluation-rounds/{round_['round_id']}/closure")
    assert closed.status_code == 200, closed.text
    result = (await client.get(f"/api/v1/evaluations/{file['file_id']}")).json()
    assert (result["case_id"], result["grade"], result["rule_version"], result["standard_version"],
            result["total_points"]) == (case.case_id, "good", "points-90-80-60", "criminal-v1", "82.00")
    record = (await client.get(f"/api/v1/evaluations/quality-records/{case.case_id}")).json()
    assert sorted(r["total_points"] for r in record["panel"]["readings"]) == ["55.00", "82.00", "85.00"]


async def test_a_veto_item_two_of_three_readers_list_fails_the_panels_result(service):  # noqa: F811
    """A veto item not done fails the reading under every rule (here default-v1, indicators all
    excellent); listed by two of three readers it is the panel's too, and the result fails."""
    settings, _, client = service
    await register_pool(client)
    await closed_and_known(service, case_closed(CaseKind.criminal))
    round_ = await open_round(client, seed="veto-round")
    assert round_["grading_rule"] == "default-v1"
    (file,) = (await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/files")).json()["items"]
    url = f"/api/v1/review-files/{file['file_id']}/readings"
    first = file["readers"][0]["reviewer_id"]
    unknown = await client.post(url, json={**reading("excellent"), "not_done": ["meeting.in_time"]},
                                headers=reviewer(settings, first))
    assert unknown.status_code == 422 and unknown.json()["detail"].startswith("not_done:")
    vetoed = {**reading("excellent"), "not_done": ["meeting.met"]}
    first_reading = await client.post(url, json=vetoed, headers=reviewer(settings, first))
    assert first_reading.json()["my_grade"] == "fail"
    after = (await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/files")).json()["items"][0]
    re_readers = [r["reviewer_id"] for r in after["readers"] if r["stage"] == "re-read"]
    for rid, body in zip(re_readers, (vetoed, reading("excellent")), strict=True):
        assert (await client.post(url, json=body, headers=reviewer(settings, rid))).status_code == 201
    assert (await client.post(f"/api/v1/evaluation-rounds/{round_['round_id']}/closure")).status_code == 200
    result = (await client.get(f"/api/v1/evaluations/{file['file_id']}")).json()
    assert (result["grade"], result["not_done"], result["indicators"]["meeting"]) == (
        "fail", ["meeting.met"], "fail")


async def test_a_case_is_either_drawn_into_a_round_or_given_by_hand_never_both(service):  # noqa: F811
    """The older one-case route and rounds: a case given by hand is not drawn; a drawn case cannot
    be given by hand (409 problem)."""
    settings, _, client = service
    await register_pool(client)
    by_hand = await closed_and_known(service, case_closed(CaseKind.criminal))
    drawn = await closed_and_known(service, case_closed(CaseKind.criminal))
    assert (await give(client, by_hand)).status_code == 201
    round_ = await open_round(client, seed="either-or")
    assert (round_["candidates"], round_["drawn"]) == (1, 1)
    files = (await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/files")).json()["items"]
    assert [f["case_id"] for f in files] == [drawn.case_id]
    refused = await client.post(f"/api/v1/cases/{drawn.case_id}/reviewers",
                                json={**REVIEWER, "reviewer_id": "reviewer-zhou"})
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert round_["round_id"] in problem["detail"] and problem.get("rule") == "R-EVL-6"
