"""Scoping by agency and district in evaluation (docs/security.md "Scoping"), over HTTP with real
tokens: the agency's roles (staff, quality lead, finance) read and act on their own agency's closed
cases, evaluations, quality records, reviewers and subsidies only; a district's bureau those of the
cases closed in its district; the city bureau and the auditor every agency's. Another agency's
record is a 404, lists leave it out whatever the query asks. And R-EVL-4 at grading: a reviewer
whose token names the handler's institution does not grade the case."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from services.evaluation.app import MIGRATIONS, EvaluationSettings, create_app
from services.evaluation.tests.test_evaluations_api import HANDLER, REVIEWER, evaluation_of, reviewer
from services.evaluation.tests.test_subsidies import signed_off
from shared.auth import Role
from shared.contracts import CaseClosed, CaseFlags, CaseKind, CaseRegistered, HandlerRef
from shared.contracts.intake import CriminalStage
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish

CHAOYANG, HAIDIAN = "chaoyang-centre", "haidian-centre"
DISTRICT = {CHAOYANG: "朝阳区", HAIDIAN: "海淀区"}
HAIDIAN_HANDLER = HandlerRef(handler_id="lawyer-qian", name="钱进", kind="lawyer",
                             licence_number="11101201210000003", institution_id="firm-h",
                             institution_name="北京海淀丁律师事务所")


@dataclass
class AgencyCases:
    graded: str  # closed, signed off (a subsidy), given to a reviewer and graded
    awaiting: str  # closed, awaiting evaluation
    evaluation_id: str


@pytest.fixture
async def service(migrated_settings):
    settings = await migrated_settings(EvaluationSettings, MIGRATIONS)
    app = create_app(settings)
    async with serve_in_process(app) as client:
        yield settings, app, client


def _closed(agency_id: str, handler: HandlerRef) -> tuple[CaseRegistered, CaseClosed]:
    n = uuid.uuid4().hex[:6]
    registered = CaseRegistered(
        case_id=f"case-{n}", case_number=f"FY-2026-{n}", case_kind=CaseKind.criminal, cause="盗窃罪",
        district=DISTRICT[agency_id], agency_id=agency_id, flags=CaseFlags(),
        registered_at=datetime(2026, 9, 1, 2, 0, tzinfo=UTC), criminal_stage=CriminalStage.first_instance)
    closed = CaseClosed(case_id=registered.case_id, case_number=registered.case_number,
                        case_kind=CaseKind.criminal, district=DISTRICT[agency_id], agency_id=agency_id,
                        handler=handler, outcome="判决", ended_on=date(2026, 10, 20),
                        closed_at=datetime(2026, 10, 30, 2, 0, tzinfo=UTC))
    return registered, closed


def _as(settings, role: Role, agency_id: str | None = CHAOYANG, **claims: str) -> dict[str, str]:
    return as_role(settings, role, sub=f"{role}-of-{agency_id}", agency_id=agency_id, **claims)


async def _agency(service, agency_id: str, handler: HandlerRef) -> AgencyCases:
    """Two closed cases of the agency: one signed off, given to a reviewer by the agency's staff and
    graded; one awaiting evaluation."""
    settings, _, client = service
    (registered, graded), (_, awaiting) = _closed(agency_id, handler), _closed(agency_id, handler)
    await publish(settings, registered, graded, signed_off(registered, handler), awaiting,
                  source="/fayuan/intake")

    async def known():
        found = [(await client.get(path)).status_code for path in (
            f"/api/v1/subsidies/{graded.case_id}", f"/api/v1/evaluations/quality-records/{awaiting.case_id}")]
        return found == [200, 200]

    await eventually(known)
    staff = _as(settings, Role.agency_staff, agency_id)
    given = await client.post(f"/api/v1/cases/{graded.case_id}/reviewers", json=REVIEWER, headers=staff)
    assert given.status_code == 201, given.text
    done = await client.post("/api/v1/evaluations", json=evaluation_of(graded), headers=reviewer(settings))
    assert done.status_code == 201, done.text
    return AgencyCases(graded.case_id, awaiting.case_id, done.json()["evaluation_id"])


def _ids(page: dict, key: str = "case_id") -> set[str]:
    return {item[key] for item in page["items"]}


async def _reads(client, headers: dict[str, str], seen: AgencyCases, unseen: AgencyCases) -> None:
    """What a caller scoped to `seen`'s agency (or district) reads, and that `unseen`'s is not found."""
    awaiting = (await client.get("/api/v1/cases/awaiting-evaluation", headers=headers)).json()
    assert _ids(awaiting) == {seen.awaiting}
    listed = (await client.get("/api/v1/evaluations", headers=headers)).json()
    assert _ids(listed, "evaluation_id") == {seen.evaluation_id} and listed["total"] == 1
    asked = await client.get("/api/v1/evaluations", params={"case_id": unseen.graded}, headers=headers)
    assert asked.json()["total"] == 0
    assert (await client.get(f"/api/v1/evaluations/{seen.evaluation_id}", headers=headers)).status_code == 200
    for path in (f"/api/v1/evaluations/{unseen.evaluation_id}",
                 f"/api/v1/evaluations/quality-records/{unseen.graded}",
                 f"/api/v1/evaluations/quality-records/{unseen.awaiting}",
                 f"/api/v1/cases/{unseen.graded}/reviewers"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404 and response.json()["status"] == 404, (path, response.text)
    for path in (f"/api/v1/evaluations/quality-records/{seen.graded}",
                 f"/api/v1/evaluations/quality-records/{seen.awaiting}",
                 f"/api/v1/cases/{seen.graded}/reviewers"):
        assert (await client.get(path, headers=headers)).status_code == 200, path


async def _subsidies(client, headers: dict[str, str], seen: AgencyCases, unseen: AgencyCases,
                     agencies: tuple[str, str]) -> None:
    own, other = agencies
    assert (await client.get(f"/api/v1/subsidies/{seen.graded}", headers=headers)).status_code == 200
    assert (await client.get(f"/api/v1/subsidies/{unseen.graded}", headers=headers)).status_code == 404
    assert _ids((await client.get("/api/v1/subsidies", headers=headers)).json()) == {seen.graded}
    asked = await client.get("/api/v1/subsidies", params={"agency_id": other}, headers=headers)
    assert asked.json()["total"] == 0
    assert (await client.get(f"/api/v1/subsidy-schedules/{own}", headers=headers)).status_code == 200
    assert (await client.get(f"/api/v1/subsidy-schedules/{other}", headers=headers)).status_code == 404


async def test_the_agency_s_roles_read_their_own_agency_s_records_only(service):
    settings, _, client = service
    chaoyang = await _agency(service, CHAOYANG, HANDLER)
    haidian = await _agency(service, HAIDIAN, HAIDIAN_HANDLER)
    for role in (Role.agency_staff, Role.quality_lead):
        await _reads(client, _as(settings, role, CHAOYANG), chaoyang, haidian)
        await _reads(client, _as(settings, role, HAIDIAN), haidian, chaoyang)
    for role in (Role.agency_staff, Role.quality_lead, Role.finance):
        await _subsidies(client, _as(settings, role, CHAOYANG), chaoyang, haidian, (CHAOYANG, HAIDIAN))
        await _subsidies(client, _as(settings, role, HAIDIAN), haidian, chaoyang, (HAIDIAN, CHAOYANG))
    # Staff who are also peer reviewers read as staff: their agency's, not every agency's.
    both = as_role(settings, Role.agency_staff, Role.peer_reviewer, agency_id=CHAOYANG,
                   reviewer_id="reviewer-x")
    await _reads(client, both, chaoyang, haidian)


async def test_a_district_s_bureau_reads_its_district_s_records_the_city_bureau_and_auditor_all(service):
    settings, _, client = service
    chaoyang = await _agency(service, CHAOYANG, HANDLER)
    haidian = await _agency(service, HAIDIAN, HAIDIAN_HANDLER)
    district = as_role(settings, Role.bureau_investigator, district="海淀区")
    await _reads(client, district, haidian, chaoyang)
    await _subsidies(client, district, haidian, chaoyang, (HAIDIAN, CHAOYANG))
    for everyone in (as_role(settings, Role.bureau_investigator), as_role(settings, Role.auditor)):
        assert (await client.get("/api/v1/evaluations", headers=everyone)).json()["total"] == 2
        assert _ids((await client.get("/api/v1/cases/awaiting-evaluation", headers=everyone)).json()) == {
            chaoyang.awaiting, haidian.awaiting}
        assert (await client.get("/api/v1/subsidies", headers=everyone)).json()["total"] == 2
        for agency in (CHAOYANG, HAIDIAN):
            schedule = await client.get(f"/api/v1/subsidy-schedules/{agency}", headers=everyone)
            assert schedule.status_code == 200


async def test_an_agency_gives_its_own_closed_cases_to_reviewers_only(service):
    settings, _, client = service
    haidian = await _agency(service, HAIDIAN, HAIDIAN_HANDLER)
    for role in (Role.agency_staff, Role.quality_lead):
        given = await client.post(f"/api/v1/cases/{haidian.awaiting}/reviewers", json=REVIEWER,
                                  headers=_as(settings, role, CHAOYANG))
        assert given.status_code == 404 and given.json()["status"] == 404, (role, given.text)
    assert (await client.get(f"/api/v1/cases/{haidian.awaiting}/reviewers")).json()["reviewers"] == []
    own = await client.post(f"/api/v1/cases/{haidian.awaiting}/reviewers", json=REVIEWER,
                            headers=_as(settings, Role.quality_lead, HAIDIAN))
    assert own.status_code == 201, own.text


async def test_a_reviewer_whose_token_names_the_handler_s_institution_does_not_grade_r_evl_4(service):
    settings, _, client = service
    registered, closed = _closed(CHAOYANG, HANDLER)
    await publish(settings, registered, closed, source="/fayuan/intake")

    async def known():
        return (await client.get(f"/api/v1/evaluations/quality-records/{closed.case_id}")).status_code == 200

    await eventually(known)
    # Given as of another firm (firm-b); the reviewer's token now names the handler's firm.
    assert (await client.post(f"/api/v1/cases/{closed.case_id}/reviewers", json=REVIEWER)).status_code == 201
    moved = as_role(settings, Role.peer_reviewer, reviewer_id=REVIEWER["reviewer_id"],
                    institution_id=HANDLER.institution_id, sub="user-reviewer-wang")
    refused = await client.post("/api/v1/evaluations", json=evaluation_of(closed), headers=moved)
    assert refused.status_code == 409, refused.text
    assert (refused.json()["rule"], refused.json()["title"]) == ("R-EVL-4", "ReviewerNotIndependent")
    assert HANDLER.institution_name in refused.json()["detail"]
    assert (await client.get("/api/v1/evaluations")).json()["total"] == 0
    independent = as_role(settings, Role.peer_reviewer, reviewer_id=REVIEWER["reviewer_id"],
                          institution_id=REVIEWER["institution_id"], sub="user-reviewer-wang")
    graded = await client.post("/api/v1/evaluations", json=evaluation_of(closed), headers=independent)
    assert graded.status_code == 201, graded.text
