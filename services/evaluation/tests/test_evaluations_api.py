"""Peer evaluation over HTTP, fed with intake's CaseClosed through the broker: the agency gives a
closed case to a peer reviewer, who grades it with their own token."""

import asyncio
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from services.evaluation.app import MIGRATIONS, EvaluationSettings, create_app
from services.evaluation.domain import standard_for
from shared.auth import Role
from shared.contracts import CaseClosed, CaseKind, EvaluationCompleted, EvaluationFailed, HandlerRef
from shared.contracts.evaluation import EVALUATIONS
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish, read_topic

HANDLER = HandlerRef(handler_id="lawyer-li", name="李明", kind="lawyer", licence_number="11101200910000001",
                     institution_id="firm-a", institution_name="北京甲律师事务所")


def case_closed(kind: CaseKind = CaseKind.criminal) -> CaseClosed:
    n = uuid.uuid4().hex[:6]
    return CaseClosed(case_id=f"case-{n}", case_number=f"FY-2026-{n}", case_kind=kind, district="朝阳区",
                      agency_id="chaoyang-centre", handler=HANDLER, outcome="判决",
                      ended_on=date(2026, 10, 20), closed_at=datetime(2026, 10, 30, 2, 0, tzinfo=UTC))


REVIEWER = {"reviewer_id": "reviewer-wang", "name": "王律师", "institution_id": "firm-b",
            "years_of_practice": 12}


def evaluation_of(case: CaseClosed, *, grade: str = "good", **overrides) -> dict:
    indicators = dict.fromkeys(standard_for(case.case_kind).indicators, grade)
    return {"case_id": case.case_id, "indicators": indicators, "findings": "会见笔录简略，辩护意见针对性不足",
            **overrides}


def reviewer(settings, reviewer_id: str = REVIEWER["reviewer_id"]) -> dict[str, str]:
    """Headers of a peer reviewer: who grades is who the token says."""
    return as_role(settings, Role.peer_reviewer, reviewer_id=reviewer_id, sub=f"user-{reviewer_id}")


async def give(client, case: CaseClosed, **overrides):
    """The agency (the default staff caller) gives the case to a reviewer (REVIEWER unless overridden)."""
    return await client.post(f"/api/v1/cases/{case.case_id}/reviewers", json={**REVIEWER, **overrides})


async def grade(service, case: CaseClosed, **overrides):
    """Give the case to REVIEWER and grade it as them."""
    settings, _, client = service
    assert (await give(client, case)).status_code == 201
    return await client.post("/api/v1/evaluations", json=evaluation_of(case, **overrides),
                             headers=reviewer(settings))


@pytest.fixture
async def service(migrated_settings):
    settings = await migrated_settings(EvaluationSettings, MIGRATIONS)
    app = create_app(settings)
    async with serve_in_process(app) as client:
        yield settings, app, client


@pytest.fixture
async def http_only(migrated_settings):
    """The API alone, for what needs no closed case (no consumer to wait for)."""
    settings = await migrated_settings(EvaluationSettings, MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False)
    async with serve_in_process(create_app(settings)) as client:
        yield settings, client


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

    created = await grade(service, case)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["grade"], body["rule_version"], body["standard"]) == ("good", "default-v1", "SF/T 0086-2020")
    assert set(body["indicators"]) == set(standard_for(CaseKind.criminal).indicators)
    assert created.headers["location"] == f"/api/v1/evaluations/{body['evaluation_id']}"
    assert (await client.get(f"/api/v1/evaluations/{body['evaluation_id']}")).json() == body
    listed = (await client.get("/api/v1/evaluations", params={"case_id": case.case_id})).json()
    assert [e["evaluation_id"] for e in listed["items"]] == [body["evaluation_id"]]
    assert (await client.get("/api/v1/cases/awaiting-evaluation")).json()["total"] == 0


async def test_a_redelivered_closure_neither_duplicates_nor_reopens_the_case(service):
    settings, app, client = service
    case = await closed_and_known(service, case_closed())
    assert (await grade(service, case)).status_code == 201
    await publish(settings, case, source="/fayuan/intake")

    async def handled_twice():
        async with app.state.engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM inbox WHERE type LIKE '%case-closed%'"))
                    ).scalar_one() == 2

    await eventually(handled_twice)
    assert (await client.get("/api/v1/cases/awaiting-evaluation")).json()["total"] == 0
    assert (await client.get("/api/v1/evaluations", params={"case_id": case.case_id})).json()["total"] == 1


async def test_an_unknown_case_is_a_404_problem(http_only):
    settings, client = http_only
    response = await client.post("/api/v1/evaluations", json=evaluation_of(case_closed()),
                                 headers=reviewer(settings))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/evaluations/nope")).status_code == 404
    assert (await give(client, case_closed())).status_code == 404
    assert (await client.get("/api/v1/cases/nope/reviewers")).status_code == 404


async def test_indicators_outside_the_case_standard_are_a_422_naming_them(service):
    _, _, client = service
    case = await closed_and_known(service, case_closed(CaseKind.criminal))
    civil = evaluation_of(case_closed(CaseKind.civil))["indicators"]
    response = await grade(service, case, indicators=civil)
    assert response.status_code == 422
    problem = response.json()
    assert problem["rule"] == "R-EVL-1"
    for name in ("notice_duty", "report_duty", "mandate", "notice_and_report_duty"):
        assert name in problem["detail"]


async def test_a_grade_outside_the_scale_a_missing_and_an_extra_field_are_422_naming_the_fields(http_only):
    settings, client = http_only
    body = evaluation_of(case_closed())
    body["indicators"]["meeting"] = "superb"
    del body["findings"]
    # The reviewer is the caller: a body naming one is refused rather than silently believed or ignored.
    body["reviewer_id"] = "someone-else"
    response = await client.post("/api/v1/evaluations", json=body, headers=reviewer(settings))
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"indicators.meeting", "findings",
                                                                "reviewer_id"}


async def test_a_case_is_never_given_to_its_handler_or_the_handlers_institution_r_evl_4(service):
    settings, _, client = service
    case = await closed_and_known(service, case_closed())
    response = await give(client, case, institution_id=HANDLER.institution_id)
    assert response.status_code == 409
    assert response.json()["rule"] == "R-EVL-4"
    own = await give(client, case, reviewer_id=HANDLER.handler_id, institution_id="firm-z")
    assert (own.status_code, own.json()["rule"]) == (409, "R-EVL-4")
    assert (await client.get(f"/api/v1/cases/{case.case_id}/reviewers")).json()["reviewers"] == []
    refused = await client.post("/api/v1/evaluations", json=evaluation_of(case),
                                headers=reviewer(settings, HANDLER.handler_id))
    assert refused.status_code == 404
    assert (await client.get("/api/v1/cases/awaiting-evaluation")).json()["total"] == 1


async def test_a_case_is_evaluated_once_even_when_two_gradings_race(migrated_settings):
    # Two reviewers per file (R-EVL-6's other setting), both grading at once: one evaluation.
    settings = await migrated_settings(EvaluationSettings, MIGRATIONS, reviewers_per_case=2)
    async with serve_in_process(create_app(settings)) as client:
        service = settings, None, client
        case = await closed_and_known(service, case_closed(CaseKind.administrative))
        assert (await give(client, case)).status_code == 201
        zhao = await give(client, case, reviewer_id="reviewer-zhao", institution_id="firm-c")
        assert zhao.status_code == 201
        first, second = await asyncio.gather(
            client.post("/api/v1/evaluations", json=evaluation_of(case, grade="excellent"),
                        headers=reviewer(settings)),
            client.post("/api/v1/evaluations", json=evaluation_of(case),
                        headers=reviewer(settings, "reviewer-zhao")),
        )
        assert sorted([first.status_code, second.status_code]) == [201, 409]
        listed = await client.get("/api/v1/evaluations", params={"case_id": case.case_id})
        assert listed.json()["total"] == 1
        again = await client.post("/api/v1/evaluations", json=evaluation_of(case), headers=reviewer(settings))
    assert again.status_code == 409 and again.json()["title"] == "AlreadyEvaluated"


async def test_a_fail_is_published_as_completed_and_failed_with_the_findings(service):
    settings, _, client = service
    failed_case = await closed_and_known(service, case_closed(CaseKind.civil))
    good_case = await closed_and_known(service, case_closed(CaseKind.non_litigation))
    fail = evaluation_of(failed_case, grade="excellent")
    fail["indicators"]["meeting"] = "fail"
    failed = await grade(service, failed_case, indicators=fail["indicators"])
    assert failed.status_code == 201 and failed.json()["grade"] == "fail"
    assert (await grade(service, good_case)).json()["grade"] == "good"

    envelopes = await read_topic(settings.kafka_bootstrap_servers, settings.topic(EVALUATIONS), expect=3)
    events = [(e.type, e.model()) for e in envelopes]
    completed = {e.case_id: e for t, e in events if t == EvaluationCompleted.type}
    failures = [e for t, e in events if t == EvaluationFailed.type]
    assert {c: e.grade for c, e in completed.items()} == {failed_case.case_id: "fail",
                                                          good_case.case_id: "good"}
    assert len(failures) == 1
    failure = failures[0]
    assert (failure.case_id, failure.evaluation_id) == (failed_case.case_id, failed.json()["evaluation_id"])
    assert failure.findings == fail["findings"] and failure.handler == HANDLER
    assert all(e.key == e.data["case_id"] for e in envelopes)
