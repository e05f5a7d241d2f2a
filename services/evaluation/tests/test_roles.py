"""Who may call what in evaluation (docs/evaluation.md), over HTTP: 401 without a token, 403 for a
role the endpoint does not admit, and the scoping of peer reviewers (the cases given to them) and
case handlers (their own cases), where anything out of scope is a 404."""

import pytest

from services.evaluation.app import MIGRATIONS, EvaluationSettings, create_app
from services.evaluation.tests.test_evaluations_api import (
    HANDLER,
    REVIEWER,
    case_closed,
    closed_and_known,
    evaluation_of,
    give,
    reviewer,
)
from shared.auth import Role, route_roles
from shared.testing.auth import STAFF_AGENCY, as_role
from shared.testing.fixtures import serve_in_process

READERS = ("agency_staff", "quality_lead", "bureau_investigator", "auditor")
EXPECTED = {
    ("GET", "/api/v1/cases/awaiting-evaluation"): (*READERS, "peer_reviewer"),
    ("GET", "/api/v1/cases/{case_id}/reviewers"): READERS,
    ("POST", "/api/v1/cases/{case_id}/reviewers"): ("agency_staff", "quality_lead"),
    ("GET", "/api/v1/evaluations"): (*READERS, "peer_reviewer", "case_handler"),
    ("POST", "/api/v1/evaluations"): ("peer_reviewer",),
    ("GET", "/api/v1/evaluations/quality-records/{case_id}"): (*READERS, "peer_reviewer", "case_handler"),
    ("GET", "/api/v1/evaluations/{evaluation_id}"): (*READERS, "peer_reviewer", "case_handler"),
    ("GET", "/api/v1/subsidies"): (*READERS, "finance"),
    ("GET", "/api/v1/subsidies/{case_id}"): (*READERS, "finance"),
    ("POST", "/api/v1/subsidies/{case_id}/approval"): ("finance",),
    ("POST", "/api/v1/subsidies/{case_id}/payment"): ("finance",),
    ("GET", "/api/v1/subsidy-schedules/{agency_id}"): (*READERS, "finance"),
    ("POST", "/api/v1/subsidy-schedules/{agency_id}/versions"): ("finance",),
    # The method (R-EVL-4, R-EVL-6): the pool is kept by the bureau; rounds by the agency or bureau.
    ("GET", "/api/v1/experts"): ("bureau_investigator", "agency_staff", "quality_lead", "auditor"),
    ("GET", "/api/v1/experts/{reviewer_id}"): (
        "bureau_investigator", "agency_staff", "quality_lead", "auditor"),
    ("POST", "/api/v1/experts"): ("bureau_investigator",),
    ("PUT", "/api/v1/experts/{reviewer_id}"): ("bureau_investigator",),
    ("GET", "/api/v1/evaluation-rounds"): READERS,
    ("POST", "/api/v1/evaluation-rounds"): ("agency_staff", "quality_lead", "bureau_investigator"),
    ("GET", "/api/v1/evaluation-rounds/{round_id}"): READERS,
    ("GET", "/api/v1/evaluation-rounds/{round_id}/files"): READERS,
    ("POST", "/api/v1/evaluation-rounds/{round_id}/closure"): ("agency_staff", "quality_lead",
                                                               "bureau_investigator"),
    ("GET", "/api/v1/evaluation-rounds/{round_id}/agreement"): READERS,
    ("GET", "/api/v1/evaluation-rounds/{round_id}/bulletin"): READERS,
    ("GET", "/api/v1/evaluation-rounds/{round_id}/bulletin.csv"): READERS,
    ("GET", "/api/v1/review-files"): ("peer_reviewer",),
    ("POST", "/api/v1/review-files/{file_id}/readings"): ("peer_reviewer",),
    ("POST", "/api/v1/review-files/{file_id}/disputes"): (
        "agency_staff", "quality_lead", "bureau_investigator"),
    ("GET", "/api/v1/evaluation-standards"): ("public",),
    ("GET", "/api/v1/evaluation-standards/{version}"): ("public",),
    ("POST", "/api/v1/evaluation-standards/{standard_id}/versions"): ("bureau_investigator",),
    ("GET", "/api/v1/grading-rules"): ("public",),
    ("GET", "/api/v1/grading-rules/agencies/{agency_id}"): READERS,
    ("PUT", "/api/v1/grading-rules/agencies/{agency_id}"): ("quality_lead", "bureau_investigator"),
    ("POST", "/api/v1/case-opinions"): ("judicial_organ",),
    ("GET", "/api/v1/corrections"): (*READERS, "case_handler"),
    ("GET", "/api/v1/corrections/{correction_id}"): (*READERS, "case_handler"),
    ("POST", "/api/v1/corrections/{correction_id}/correction"): ("case_handler",),
    ("GET", "/api/v1/quality-rates"): READERS,
}
CALLS = [("GET", "/api/v1/cases/awaiting-evaluation", None),
         ("GET", "/api/v1/cases/c-1/reviewers", None),
         ("POST", "/api/v1/cases/c-1/reviewers", REVIEWER),
         ("GET", "/api/v1/evaluations", None),
         ("POST", "/api/v1/evaluations", evaluation_of(case_closed())),
         ("GET", "/api/v1/evaluations/quality-records/c-1", None),
         ("GET", "/api/v1/evaluations/e-1", None),
         ("GET", "/api/v1/subsidies", None),
         ("GET", "/api/v1/subsidies/c-1", None),
         ("POST", "/api/v1/subsidies/c-1/approval", None),
         ("POST", "/api/v1/subsidies/c-1/payment", {"paid_on": "2026-11-25", "payment_reference": "P-1"}),
         ("GET", "/api/v1/subsidy-schedules/agency-1", None),
         ("POST", "/api/v1/subsidy-schedules/agency-1/versions", {"effective_from": "2026-01-01",
                                                                  "lines": []}),
         # (the standards and the rules are public; an organ's opinion is the judicial organ's)
         ("POST", "/api/v1/evaluation-standards/criminal/versions", {}),
         ("GET", "/api/v1/grading-rules/agencies/agency-1", None),
         ("PUT", "/api/v1/grading-rules/agencies/agency-1", {"rule_version": "default-v1", "reason": "x"}),
         ("GET", "/api/v1/corrections", None),
         ("GET", "/api/v1/corrections/e-1", None),
         ("POST", "/api/v1/corrections/e-1/correction", {"note": "x"}),
         ("GET", "/api/v1/quality-rates?period=2026-H1", None)]


@pytest.fixture
async def service(migrated_settings):
    settings = await migrated_settings(EvaluationSettings, MIGRATIONS)
    app = create_app(settings)
    async with serve_in_process(app) as client:
        yield settings, app, client


@pytest.fixture
async def http_only(migrated_settings):
    settings = await migrated_settings(EvaluationSettings, MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False)
    async with serve_in_process(create_app(settings)) as client:
        yield settings, client


def test_every_endpoint_declares_the_roles_of_the_team_plan():
    declared = {(m, p): tuple(r.value for r in roles)
                for m, p, roles in route_roles(create_app(EvaluationSettings()))
                if p.startswith("/api/v1/") and not p.startswith("/api/v1/audit/")}
    assert declared == EXPECTED


async def test_without_a_token_every_endpoint_is_a_401_problem(http_only):
    _, client = http_only
    for method, path, body in CALLS:
        response = await client.request(method, path, json=body, headers={"Authorization": ""})
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == 'Bearer realm="fayuan"'


@pytest.mark.parametrize("role", [Role.bar_association, Role.judicial_organ, Role.closing_checker,
                                  Role.public])
async def test_roles_without_a_part_in_evaluation_are_refused_with_403(http_only, role):
    settings, client = http_only
    for method, path, body in CALLS:
        response = await client.request(method, path, json=body, headers=as_role(settings, role))
        assert response.status_code == 403, (role, method, path, response.text)


async def test_only_a_peer_reviewer_grades_and_only_the_agency_or_quality_lead_gives_cases(http_only):
    settings, client = http_only
    # As the default caller: agency staff, the quality lead, the bureau.
    grading = await client.post("/api/v1/evaluations", json=evaluation_of(case_closed()))
    assert grading.status_code == 403 and "peer_reviewer" in grading.json()["detail"]
    for role in (Role.peer_reviewer, Role.bureau_investigator, Role.auditor, Role.case_handler):
        headers = as_role(settings, role, reviewer_id="reviewer-wang", handler_id=HANDLER.handler_id)
        response = await client.post("/api/v1/cases/c-1/reviewers", json=REVIEWER, headers=headers)
        assert response.status_code == 403, role
        reading = (await client.get("/api/v1/cases/c-1/reviewers", headers=headers)).status_code
        # The bureau and the auditor may read a case's reviewers (none here); reviewers and handlers may not.
        assert reading == (404 if role in (Role.bureau_investigator, Role.auditor) else 403), role


async def test_a_reviewer_sees_and_grades_a_case_only_once_it_is_given_to_them(service):
    settings, _, client = service
    case = await closed_and_known(service, case_closed())
    wang, zhao = reviewer(settings), reviewer(settings, "reviewer-zhao")
    record = f"/api/v1/evaluations/quality-records/{case.case_id}"

    # Not given yet: the reviewer cannot tell the case exists.
    assert (await client.get("/api/v1/cases/awaiting-evaluation", headers=wang)).json()["total"] == 0
    assert (await client.get(record, headers=wang)).status_code == 404
    not_given = await client.post("/api/v1/evaluations", json=evaluation_of(case), headers=wang)
    assert not_given.status_code == 404

    given = await give(client, case)
    assert given.status_code == 201, given.text
    assert given.headers["location"] == f"/api/v1/cases/{case.case_id}/reviewers"
    [shown] = given.json()["reviewers"]
    assert {k: shown[k] for k in REVIEWER} == REVIEWER
    assert (await client.get(f"/api/v1/cases/{case.case_id}/reviewers")).json() == given.json()

    mine = (await client.get("/api/v1/cases/awaiting-evaluation", headers=wang)).json()
    assert [i["case_id"] for i in mine["items"]] == [case.case_id] and mine["total"] == 1
    assert (await client.get(record, headers=wang)).json()["awaiting_evaluation"] is True
    # Another reviewer still sees nothing of it, whatever they ask.
    assert (await client.get("/api/v1/cases/awaiting-evaluation", headers=zhao)).json()["total"] == 0
    assert (await client.get(record, headers=zhao)).status_code == 404
    assert (await client.post("/api/v1/evaluations", json=evaluation_of(case), headers=zhao)
            ).status_code == 404

    graded = await client.post("/api/v1/evaluations", json=evaluation_of(case), headers=wang)
    assert graded.status_code == 201, graded.text
    body = graded.json()
    # The grader is the token's reviewer; the institution is the one recorded when the case was given.
    assert (body["reviewer_id"], body["reviewer_institution_id"]) == ("reviewer-wang", "firm-b")
    evaluation = f"/api/v1/evaluations/{body['evaluation_id']}"
    assert (await client.get(evaluation, headers=wang)).json() == body
    assert (await client.get("/api/v1/evaluations", headers=wang)).json()["total"] == 1
    assert (await client.get(evaluation, headers=zhao)).status_code == 404
    asked = await client.get("/api/v1/evaluations", params={"case_id": case.case_id}, headers=zhao)
    assert asked.json()["total"] == 0
    # A reviewer token without a reviewer id is scoped to nothing.
    anonymous = as_role(settings, Role.peer_reviewer)
    assert (await client.get("/api/v1/evaluations", headers=anonymous)).json()["total"] == 0
    assert (await client.get(evaluation, headers=anonymous)).status_code == 404


async def test_a_handler_reads_the_evaluation_of_their_own_cases_only(service):
    settings, _, client = service
    case = await closed_and_known(service, case_closed())
    own = as_role(settings, Role.case_handler, handler_id=HANDLER.handler_id)
    other = as_role(settings, Role.case_handler, handler_id="lawyer-zhou")
    record = f"/api/v1/evaluations/quality-records/{case.case_id}"
    assert (await client.get(record, headers=own)).json()["awaiting_evaluation"] is True
    assert (await client.get(record, headers=other)).status_code == 404
    # The awaiting list is the agency's and the reviewers' worklist, not the handler's.
    assert (await client.get("/api/v1/cases/awaiting-evaluation", headers=own)).status_code == 403

    assert (await give(client, case)).status_code == 201
    body = (await client.post("/api/v1/evaluations", json=evaluation_of(case),
                              headers=reviewer(settings))).json()
    evaluation = f"/api/v1/evaluations/{body['evaluation_id']}"
    assert (await client.get(evaluation, headers=own)).json()["findings"] == body["findings"]
    own_list = (await client.get("/api/v1/evaluations", headers=own)).json()
    assert [e["evaluation_id"] for e in own_list["items"]] == [body["evaluation_id"]]
    assert (await client.get(evaluation, headers=other)).status_code == 404
    assert (await client.get("/api/v1/evaluations", params={"case_id": case.case_id}, headers=other)
            ).json()["total"] == 0
    assert (await client.get(record, headers=other)).status_code == 404


async def test_one_qualified_reviewer_per_file_by_default_r_evl_6(service):
    settings, _, client = service
    case = await closed_and_known(service, case_closed())
    junior = await give(client, case, years_of_practice=3)
    assert (junior.status_code, junior.json()["rule"]) == (422, "R-EVL-6")
    bad = await give(client, case, years_of_practice=-1, reviewer_id="", extra="x")
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"years_of_practice", "reviewer_id", "extra"}

    lead = as_role(settings, Role.quality_lead, agency_id=STAFF_AGENCY)
    assert (await client.post(f"/api/v1/cases/{case.case_id}/reviewers", json=REVIEWER, headers=lead)
            ).status_code == 201
    again = await give(client, case)
    assert (again.status_code, again.json()["title"]) == (409, "ReviewerAlreadyGiven")
    second = await give(client, case, reviewer_id="reviewer-zhao", institution_id="firm-c")
    assert (second.status_code, second.json()["rule"]) == (409, "R-EVL-6")
    assert [r["reviewer_id"] for r in (await client.get(f"/api/v1/cases/{case.case_id}/reviewers")).json()[
        "reviewers"]] == ["reviewer-wang"]

    assert (await client.post("/api/v1/evaluations", json=evaluation_of(case), headers=reviewer(settings))
            ).status_code == 201
    late = await give(client, case, reviewer_id="reviewer-zhao", institution_id="firm-c")
    assert (late.status_code, late.json()["title"]) == (409, "AlreadyEvaluated")
