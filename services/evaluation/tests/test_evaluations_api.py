"""Peer evaluation over HTTP, fed with intake's CaseClosed through the broker."""

import asyncio
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from services.evaluation.app import MIGRATIONS, EvaluationSettings, create_app
from services.evaluation.domain import standard_for
from shared.contracts import CaseClosed, CaseKind, EvaluationCompleted, EvaluationFailed, HandlerRef
from shared.contracts.evaluation import EVALUATIONS
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish, read_topic

HANDLER = HandlerRef(handler_id="lawyer-li", name="李明", kind="lawyer", licence_number="11101200910000001",
                     institution_id="firm-a", institution_name="北京甲律师事务所")


def case_closed(kind: CaseKind = CaseKind.criminal) -> CaseClosed:
    n = uuid.uuid4().hex[:6]
    return CaseClosed(case_id=f"case-{n}", case_number=f"FY-2026-{n}", case_kind=kind, district="朝阳区",
                      agency_id="chaoyang-centre", handler=HANDLER, outcome="判决", ended_on=date(2026, 10, 20),
                      closed_at=datetime(2026, 10, 30, 2, 0, tzinfo=UTC))


def evaluation_of(case: CaseClosed, *, grade: str = "good", institution: str = "firm-b", **overrides) -> dict:
    indicators = dict.fromkeys(standard_for(case.case_kind).indicators, grade)
    return {"case_id": case.case_id, "reviewer_id": "reviewer-wang", "reviewer_institution_id": institution,
            "indicators": indicators, "findings": "会见笔录简略，辩护意见针对性不足", **overrides}


@pytest.fixture
async def service(migrated_settings):
    settings = await migrated_settings(EvaluationSettings, MIGRATIONS)
    app = create_app(settings)
    async with serve_in_process(app) as client:
        yield settings, app, client


@pytest.fixture
async def http_only(migrated_settings):
    """The API alone, for what needs no closed case (no consumer to wait for)."""
    settings = await migrated_settings(EvaluationSettings, MIGRATIONS, consumers_enabled=False, relay_enabled=False)
    async with serve_in_process(create_app(settings)) as client:
        yield client


async def closed_and_known(service, case: CaseClosed) -> CaseClosed:
    """Publish the closure as intake would, and wait until evaluation lists the case."""
    settings, _, client = service
    await publish(settings, case, source="/fayuan/intake")

    async def listed():
        items = (await client.get("/api/v1/cases/awaiting-evaluation")).json()["items"]
        return [i for i in items if i["case_id"] == case.case_id]

    await eventually(listed)
    return case


async def test_a_closed_case_awaits_evaluation_and_leaves_the_list_once_graded(service):
    _, _, client = service
    case = await closed_and_known(service, case_closed())
    awaiting = (await client.get("/api/v1/cases/awaiting-evaluation")).json()
    assert awaiting["total"] == 1
    item = awaiting["items"][0]
    assert (item["case_number"], item["case_kind"], item["agency_id"]) == (case.case_number, "criminal",
                                                                           "chaoyang-centre")
    assert item["handler"] == HANDLER.model_dump(mode="json")

    created = await client.post("/api/v1/evaluations", json=evaluation_of(case))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["grade"] == "good" and body["rule_version"] == "default-v1" and body["standard"] == "SF/T 0086-2020"
    assert set(body["indicators"]) == set(standard_for(CaseKind.criminal).indicators)
    assert created.headers["location"] == f"/api/v1/evaluations/{body['evaluation_id']}"
    assert (await client.get(f"/api/v1/evaluations/{body['evaluation_id']}")).json() == body
    listed = (await client.get("/api/v1/evaluations", params={"case_id": case.case_id})).json()
    assert [e["evaluation_id"] for e in listed["items"]] == [body["evaluation_id"]]
    assert (await client.get("/api/v1/cases/awaiting-evaluation")).json()["total"] == 0


async def test_a_redelivered_closure_neither_duplicates_nor_reopens_the_case(service):
    settings, app, client = service
    case = await closed_and_known(service, case_closed())
    assert (await client.post("/api/v1/evaluations", json=evaluation_of(case))).status_code == 201
    await publish(settings, case, source="/fayuan/intake")

    async def handled_twice():
        async with app.state.engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM inbox"))).scalar_one() == 2

    await eventually(handled_twice)
    assert (await client.get("/api/v1/cases/awaiting-evaluation")).json()["total"] == 0
    assert (await client.get("/api/v1/evaluations", params={"case_id": case.case_id})).json()["total"] == 1


async def test_an_unknown_case_is_a_404_problem(http_only):
    client = http_only
    response = await client.post("/api/v1/evaluations", json=evaluation_of(case_closed()))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/evaluations/nope")).status_code == 404


async def test_indicators_outside_the_case_standard_are_a_422_naming_them(service):
    _, _, client = service
    case = await closed_and_known(service, case_closed(CaseKind.criminal))
    civil = evaluation_of(case_closed(CaseKind.civil))["indicators"]
    response = await client.post("/api/v1/evaluations", json=evaluation_of(case, indicators=civil))
    assert response.status_code == 422
    problem = response.json()
    assert problem["rule"] == "R-EVL-1"
    for name in ("notice_duty", "report_duty", "mandate", "notice_and_report_duty"):
        assert name in problem["detail"]


async def test_a_grade_outside_the_scale_and_a_missing_field_are_422_naming_the_fields(http_only):
    client = http_only
    body = evaluation_of(case_closed())
    body["indicators"]["meeting"] = "superb"
    del body["reviewer_institution_id"]
    response = await client.post("/api/v1/evaluations", json=body)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"indicators.meeting", "reviewer_institution_id"}


async def test_a_reviewer_of_the_handlers_own_institution_is_refused_r_evl_4(service):
    _, _, client = service
    case = await closed_and_known(service, case_closed())
    response = await client.post("/api/v1/evaluations", json=evaluation_of(case, institution=HANDLER.institution_id))
    assert response.status_code == 409
    assert response.json()["rule"] == "R-EVL-4"
    own = evaluation_of(case, reviewer_id=HANDLER.handler_id)
    assert (await client.post("/api/v1/evaluations", json=own)).json()["rule"] == "R-EVL-4"
    assert (await client.get("/api/v1/cases/awaiting-evaluation")).json()["total"] == 1


async def test_a_case_is_evaluated_once_even_when_two_reviewers_race(service):
    _, _, client = service
    case = await closed_and_known(service, case_closed(CaseKind.administrative))
    first, second = await asyncio.gather(
        client.post("/api/v1/evaluations", json=evaluation_of(case, grade="excellent")),
        client.post("/api/v1/evaluations", json=evaluation_of(case, institution="firm-c")),
    )
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    assert (await client.get("/api/v1/evaluations", params={"case_id": case.case_id})).json()["total"] == 1
    again = await client.post("/api/v1/evaluations", json=evaluation_of(case))
    assert again.status_code == 409 and again.json()["title"] == "AlreadyEvaluated"


async def test_a_fail_is_published_as_completed_and_failed_with_the_findings(service):
    settings, _, client = service
    failed_case = await closed_and_known(service, case_closed(CaseKind.civil))
    good_case = await closed_and_known(service, case_closed(CaseKind.non_litigation))
    fail = evaluation_of(failed_case, grade="excellent")
    fail["indicators"]["meeting"] = "fail"
    failed = await client.post("/api/v1/evaluations", json=fail)
    assert failed.status_code == 201 and failed.json()["grade"] == "fail"
    assert (await client.post("/api/v1/evaluations", json=evaluation_of(good_case))).json()["grade"] == "good"

    envelopes = await read_topic(settings.kafka_bootstrap_servers, settings.topic(EVALUATIONS), expect=3)
    events = [(e.type, e.model()) for e in envelopes]
    completed = {e.case_id: e for t, e in events if t == EvaluationCompleted.type}
    failures = [e for t, e in events if t == EvaluationFailed.type]
    assert {c: e.grade for c, e in completed.items()} == {failed_case.case_id: "fail", good_case.case_id: "good"}
    assert len(failures) == 1
    failure = failures[0]
    assert (failure.case_id, failure.evaluation_id) == (failed_case.case_id, failed.json()["evaluation_id"])
    assert failure.findings == fail["findings"] and failure.handler == HANDLER
    assert all(e.key == e.data["case_id"] for e in envelopes)
