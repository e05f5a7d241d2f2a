"""The disclosure as it is published (R-PUB-1, R-EVL-8): a seeded half-year's every table against
figures computed by hand; placing by the case's end day (30 June recorded on 2 July; 1 July); the
workflow (submission, four eyes, publication, correction); nothing unpublished reaches the public,
whatever the caller's role; a published version rebuilt from the events is the same, byte for byte."""

import uuid
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from services.publication.app import MIGRATIONS, PublicationSettings, create_app
from services.publication.domain import Period, scope_of
from services.publication.queries import disclosures as queries
from shared.auth import AGENCY_ROLES, BUREAU_ROLES, Role
from shared.contracts import (
    CaseClosed,
    CaseKind,
    EvaluationCompleted,
    Grade,
    HandlerKind,
    HandlerRef,
    SubsidyPaid,
)
from shared.contracts.intake import CriminalRole
from shared.db import create_engine
from shared.http import beijing_times
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish

CHAOYANG, HAIDIAN = "chaoyang-centre", "haidian-centre"
FIRM = "北京市某某律师事务所"
WANG = HandlerRef(handler_id="h-wang", name="王律师", kind=HandlerKind.lawyer, institution_id="firm-1",
                  institution_name=FIRM)
LI = HandlerRef(handler_id="h-li", name="李律师", kind=HandlerKind.lawyer, institution_id="firm-1",
                institution_name=FIRM)
ZHAO = HandlerRef(handler_id="h-zhao", name="赵工作者", kind=HandlerKind.grassroots_legal_worker,
                  institution_id="office-2", institution_name="朝阳区某某法律服务所")
QIAN = HandlerRef(handler_id="h-qian", name="钱律师", kind=HandlerKind.lawyer, institution_id="firm-9",
                  institution_name="北京市海淀某律师事务所")
AGENCY_OF = {WANG: CHAOYANG, LI: CHAOYANG, ZHAO: CHAOYANG, QIAN: HAIDIAN}
DISTRICT_OF = {CHAOYANG: "朝阳区", HAIDIAN: "海淀区"}
KINDS = {}


def at(moment: str) -> datetime:
    """A Beijing wall-clock time."""
    return datetime.fromisoformat(f"{moment}+08:00")


def closed(n: int, kind: CaseKind, handler: HandlerRef, *, ended: str, recorded: str,
           role: CriminalRole | None = None) -> CaseClosed:
    KINDS[n] = kind
    agency = AGENCY_OF[handler]
    return CaseClosed(case_id=f"case-{n}", case_number=f"FY-2026-{n:03d}", case_kind=kind,
                      district=DISTRICT_OF[agency], agency_id=agency, handler=handler, outcome="判决",
                      ended_on=datetime.fromisoformat(ended).date(), closed_at=at(recorded),
                      criminal_role=role)


def graded(n: int, grade: Grade, handler: HandlerRef, *, on: str) -> EvaluationCompleted:
    return EvaluationCompleted(
        evaluation_id=str(uuid.uuid4()), case_id=f"case-{n}", case_number=f"FY-2026-{n:03d}",
        case_kind=KINDS[n], agency_id=AGENCY_OF[handler], handler=handler, grade=grade,
        reviewer_id="reviewer-1", completed_at=at(on))


def paid(n: int, amount: str, handler: HandlerRef, *, on: str) -> SubsidyPaid:
    day = datetime.fromisoformat(on).date()
    return SubsidyPaid(
        case_id=f"case-{n}", case_number=f"FY-2026-{n:03d}", case_kind=KINDS[n],
        period=str(Period.containing(day)), agency_id=AGENCY_OF[handler],
        institution_id=handler.institution_id,
        institution_name=handler.institution_name, handler_id=handler.handler_id, handler_name=handler.name,
        amount=Decimal(amount), paid_on=day, schedule_version="beijing-2011-seed")


# The seeded half-year. Case 3 ended on 30 June and was recorded closed on 2 July: the first
# half-year's. Case 4 ended on 1 July: the second's. Case 3's grade (10 July) follows its case.
# Cases 6 and 7 are duty-lawyer legal help: two sessions of the first half-year, no cases.
SEED = [
    closed(1, CaseKind.criminal, WANG, ended="2026-03-10", recorded="2026-03-12T09:00:00"),
    closed(2, CaseKind.civil, LI, ended="2026-05-20", recorded="2026-05-21T09:00:00"),
    closed(3, CaseKind.criminal, WANG, ended="2026-06-30", recorded="2026-07-02T09:00:00"),
    closed(4, CaseKind.administrative, ZHAO, ended="2026-07-01", recorded="2026-07-01T00:30:00"),
    closed(5, CaseKind.non_litigation, QIAN, ended="2026-04-01", recorded="2026-04-03T09:00:00"),
    graded(1, Grade.excellent, WANG, on="2026-04-01T10:00:00"),
    graded(2, Grade.good, LI, on="2026-06-01T10:00:00"),
    graded(3, Grade.fail, WANG, on="2026-07-10T10:00:00"),
    graded(4, Grade.good, ZHAO, on="2026-07-20T10:00:00"),
    graded(5, Grade.pass_, QIAN, on="2026-05-01T10:00:00"),
    paid(1, "1200.00", WANG, on="2026-04-15"),
    paid(2, "800.00", LI, on="2026-06-30"),
    paid(5, "500.00", QIAN, on="2026-05-10"),
    paid(3, "1200.00", WANG, on="2026-07-20"),  # paid in the second half-year
    closed(6, CaseKind.criminal, LI, ended="2026-02-01", recorded="2026-02-01T15:00:00",
           role=CriminalRole.duty_lawyer_help),
    closed(7, CaseKind.criminal, WANG, ended="2026-06-30", recorded="2026-07-01T10:00:00",
           role=CriminalRole.duty_lawyer_help),
]


@pytest.fixture
async def seeded(migrated_settings):
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, relay_enabled=False)
    async with serve_in_process(create_app(settings)) as client:
        await publish(settings, *SEED)

        async def all_in() -> bool:
            first = (await client.get("/api/v1/disclosures/drafts/2026-H1")).json()["summary"]
            second = (await client.get("/api/v1/disclosures/drafts/2026-H2")).json()["summary"]
            counts = ("cases_closed", "cases_evaluated", "subsidy_payments", "legal_help_sessions")
            assert [first[c] for c in counts] == [4, 4, 3, 2] and [second[c] for c in counts] == [1, 1, 1, 0]
            return True

        await eventually(all_in)
        yield settings, client


def rows(body: dict, table: str, *columns: str) -> list[tuple]:
    return [tuple(r[c] for c in columns) for r in body["tables"][table]["rows"]]


async def draft(client, period: str, **scope: str) -> dict:
    response = await client.get(f"/api/v1/disclosures/drafts/{period}", params=scope)
    assert response.status_code == 200, response.text
    return response.json()


async def test_every_table_of_the_seeded_half_year_is_as_computed_by_hand(seeded):
    _, client = seeded
    city = await draft(client, "2026-H1")

    assert (city["title"], city["status"], city["number"]) == (
        "全市2026年上半年法律援助信息公开", "draft", None)
    summary = city["summary"]
    assert summary["cases_closed_by_kind"] == {"criminal": 2, "civil": 1, "administrative": 0,
                                               "non_litigation": 1, "total": 4}
    assert [(g["grade"], g["count"], g["percentage"]) for g in summary["grade_distribution"]] == [
        ("excellent", 1, 25.0), ("good", 1, 25.0), ("pass", 1, 25.0), ("fail", 1, 25.0)]
    assert (summary["excellent_and_good_rate"], summary["excellent_and_good_target"]) == (50.0, 70.0)
    assert (summary["subsidies_paid"], summary["subsidy_payments"]) == ("2500.00", 3)
    # Duty-lawyer legal help: its own row, in sessions, counted in no case figure or table.
    assert summary["legal_help_sessions"] == 2 and "值班律师" in summary["notes"][0]
    assert summary["legal_basis"].startswith("依据《中华人民共和国法律援助法》")

    columns = ("agency_id", "case_number", "handler_name", "amount", "paid_on")
    assert rows(city, "subsidy_payments", *columns) == [
        (CHAOYANG, "FY-2026-001", "王律师", "1200.00", "2026-04-15"),
        (HAIDIAN, "FY-2026-005", "钱律师", "500.00", "2026-05-10"),
        (CHAOYANG, "FY-2026-002", "李律师", "800.00", "2026-06-30")]
    # Annex 4's totals: 1200 + 800 at the firm (Chaoyang), 500 at the Haidian firm; overall 2500.
    assert [(t["label"], t["agency_id"], t["institution_name"], t["payments"], t["amount"])
            for t in city["tables"]["subsidy_payments"]["totals"]] == [
        ("小计（2笔）", CHAOYANG, FIRM, 2, "2000.00"),
        ("小计（1笔）", HAIDIAN, "北京市海淀某律师事务所", 1, "500.00"),
        ("合计（3笔）", None, None, 3, "2500.00")]
    # The rate per agency and per institution (R-EVL-8): Chaoyang's firm graded excellent, good and
    # fail (2 of 3: 66.7%), the Haidian firm pass (0%); against 2026's target of 70%, neither reaches it.
    def rates(level: str) -> list[tuple]:
        return [(r["agency_id"] or r["institution_name"], r["cases_evaluated"], r["grade_counts"],
                 r["excellent_and_good_rate"], r["meets_target"]) for r in summary[level]]

    counts = ("excellent", "good", "pass", "fail")
    assert rates("rates_by_agency") == [
        (CHAOYANG, 3, dict(zip(counts, (1, 1, 0, 1), strict=True)), 66.7, False),
        (HAIDIAN, 1, dict(zip(counts, (0, 0, 1, 0), strict=True)), 0.0, False)]
    assert rates("rates_by_institution") == [
        (FIRM, 3, dict(zip(counts, (1, 1, 0, 1), strict=True)), 66.7, False),
        ("北京市海淀某律师事务所", 1, dict(zip(counts, (0, 0, 1, 0), strict=True)), 0.0, False)]
    assert summary["meets_target"] is False
    assert rows(city, "cases_per_institution", "agency_id", "institution_name", "criminal", "civil",
                "administrative", "non_litigation", "total") == [
        (CHAOYANG, FIRM, 2, 1, 0, 0, 3), (HAIDIAN, "北京市海淀某律师事务所", 0, 0, 0, 1, 1)]
    assert rows(city, "cases_per_person", "agency_id", "handler_name", "criminal", "civil", "non_litigation",
                "total") == [
        (CHAOYANG, "李律师", 0, 1, 0, 1), (CHAOYANG, "王律师", 2, 0, 0, 2), (HAIDIAN, "钱律师", 0, 0, 1, 1)]
    assert rows(city, "evaluation_results", "period", "case_number", "grade", "handler_name") == [
        ("2026-H1", "FY-2026-001", "excellent", "王律师"), ("2026-H1", "FY-2026-002", "good", "李律师"),
        ("2026-H1", "FY-2026-003", "fail", "王律师"), ("2026-H1", "FY-2026-005", "pass", "钱律师")]

    district = await draft(client, "2026-H1", level="district", id="朝阳区")
    assert district["title"] == "朝阳区2026年上半年法律援助信息公开"
    district_summary = district["summary"]
    assert (district_summary["cases_closed_by_kind"]["total"],
            district_summary["legal_help_sessions"]) == (3, 2)
    assert (district["summary"]["excellent_and_good_rate"], district["summary"]["subsidies_paid"]) == (
        66.7, "2000.00")
    assert rows(district, "cases_per_person", "handler_name", "total") == [("李律师", 1), ("王律师", 2)]

    haidian = await draft(client, "2026-H1", level="agency", id=HAIDIAN)
    assert rows(haidian, "evaluation_results", "case_number", "grade") == [("FY-2026-005", "pass")]
    assert (haidian["summary"]["excellent_and_good_rate"], haidian["summary"]["subsidies_paid"],
            haidian["summary"]["legal_help_sessions"]) == (0.0, "500.00", 0)

    second = await draft(client, "2026-H2")
    assert (second["summary"]["excellent_and_good_rate"], second["summary"]["meets_target"]) == (100.0, True)
    by_institution = second["summary"]["rates_by_institution"]
    assert [(r["institution_name"], r["meets_target"]) for r in by_institution] == [
        ("朝阳区某某法律服务所", True)]
    assert [t["amount"] for t in second["tables"]["subsidy_payments"]["totals"]] == ["1200.00", "1200.00"]
    # The target is the period's year's, from the settings: 80% in 2027, none for a year not named.
    targets = [(await draft(client, p))["summary"]["excellent_and_good_target"]
               for p in ("2027-Q1", "2025-H2")]
    assert targets == [80.0, None]
    assert rows(second, "cases_per_person", "handler_name", "administrative", "total") == [("赵工作者", 1, 1)]
    assert rows(second, "evaluation_results", "case_number", "grade") == [("FY-2026-004", "good")]
    assert rows(second, "subsidy_payments", "case_number", "amount") == [("FY-2026-003", "1200.00")]

    quarters = {q: (await draft(client, q))["summary"] for q in ("2026-Q1", "2026-Q2", "2026-Q3")}
    assert {q: s["cases_closed"] for q, s in quarters.items()} == {"2026-Q1": 1, "2026-Q2": 3, "2026-Q3": 1}
    assert {q: s["subsidies_paid"] for q, s in quarters.items()} == {
        "2026-Q1": "0.00", "2026-Q2": "2500.00", "2026-Q3": "1200.00"}
    q2 = await draft(client, "2026-Q2")
    assert (q2["starts_on"], q2["ends_on"], q2["title"]) == ("2026-04-01", "2026-06-30",
                                                             "全市2026年第二季度法律援助信息公开")


BUREAU_2 = {"sub": "bureau-2"}


async def publish_city(client, settings, period: str = "2026-H1") -> dict:
    submitted = await client.post(f"/api/v1/disclosures/drafts/{period}/submission", json={"level": "city"})
    assert submitted.status_code == 201, submitted.text
    approved = await client.post(f"/api/v1/disclosures/drafts/{period}/approval", json={"level": "city"},
                                 headers=as_role(settings, Role.bureau_investigator, **BUREAU_2))
    assert approved.status_code == 201, approved.text
    return approved.json()


async def test_a_late_evaluation_changes_the_draft_and_a_correction_never_the_published_version(seeded):
    settings, client = seeded
    before = await draft(client, "2026-H1")
    submitted = await client.post("/api/v1/disclosures/drafts/2026-H1/submission", json={"level": "city"})
    assert submitted.status_code == 201
    assert submitted.json()["tables"] == before["tables"]
    own = await client.post("/api/v1/disclosures/drafts/2026-H1/approval", json={"level": "city"})
    assert own.status_code == 403 and "four eyes" in own.json()["detail"]
    v1 = (await client.post("/api/v1/disclosures/drafts/2026-H1/approval", json={"level": "city"},
                            headers=as_role(settings, Role.bureau_investigator, **BUREAU_2))).json()
    assert (v1["number"], v1["status"], v1["version"], v1["corrects"]) == (
        "FY-2026H1-CITY-01", "published", 1, None)
    assert v1["summary"] == {**before["summary"]} and v1["tables"] == before["tables"]
    published = (await client.get("/api/v1/disclosures/2026-H1")).content
    assert published == (await client.get("/api/v1/disclosures/published/FY-2026H1-CITY-01")).content

    # After publication: case 3 re-graded by a panel, and a case that ended on 15 June closed and graded.
    await publish(settings, graded(3, Grade.good, WANG, on="2026-11-20T10:00:00"),
                  closed(7, CaseKind.civil, LI, ended="2026-06-15", recorded="2026-11-20T11:00:00"))
    await publish(settings, graded(7, Grade.excellent, LI, on="2026-11-21T10:00:00"))

    async def changed() -> dict:
        body = await draft(client, "2026-H1")
        assert body["summary"]["cases_evaluated"] == 5 and body["summary"]["excellent_and_good_rate"] == 80.0
        return body

    late = await eventually(changed)
    assert late["version"] == 2 and late["corrects"]["replaces"] == "FY-2026H1-CITY-01"
    assert "结案数由4变为5。" in late["corrects"]["changes"]
    assert (await client.get("/api/v1/disclosures/2026-H1")).content == published

    v2 = await publish_city(client, settings)
    assert (v2["number"], v2["version"]) == ("FY-2026H1-CITY-02", 2)
    changes = v2["corrects"]["changes"]
    assert v2["corrects"]["replaces"] == "FY-2026H1-CITY-01" and changes == late["corrects"]["changes"]
    assert "优良率（%）由50.0变为80.0。" in changes
    assert any(c.startswith("附件7新增案件FY-2026-007的评估结果") for c in changes)
    assert any(c.startswith("附件7案件FY-2026-003的评估结果由") and "评估等级不合格" in c for c in changes)
    assert (await client.get("/api/v1/disclosures/published/FY-2026H1-CITY-01")).content == published
    assert (await client.get("/api/v1/disclosures/2026-H1")).json()["number"] == "FY-2026H1-CITY-02"

    listed = (await client.get("/api/v1/disclosures")).json()
    assert [(e["number"], e["corrects"] and e["corrects"]["replaces"]) for e in listed["items"]] == [
        ("FY-2026H1-CITY-02", "FY-2026H1-CITY-01"), ("FY-2026H1-CITY-01", None)]

    # Nothing changed since version 2: no third version.
    again = await client.post("/api/v1/disclosures/drafts/2026-H1/submission", json={"level": "city"})
    assert again.status_code == 201
    nothing = await client.post("/api/v1/disclosures/drafts/2026-H1/approval", json={"level": "city"},
                                headers=as_role(settings, Role.bureau_investigator, **BUREAU_2))
    assert nothing.status_code == 409


async def test_a_published_version_rebuilt_from_the_events_is_the_same_byte_for_byte(seeded):
    settings, client = seeded
    v1 = await publish_city(client, settings)
    await publish(settings, graded(2, Grade.fail, LI, on="2026-11-25T10:00:00"),
                  paid(4, "300.00", ZHAO, on="2026-06-29"))

    async def changed() -> bool:
        summary = (await draft(client, "2026-H1"))["summary"]
        assert summary["subsidies_paid"] == "2800.00" and summary["excellent_and_good_rate"] == 25.0
        return True

    await eventually(changed)
    v2 = await publish_city(client, settings)
    stored = {n: (await client.get(f"/api/v1/disclosures/published/{n}")).content
              for n in (v1["number"], v2["number"])}

    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            workflow = await queries.workflow_of(conn, scope_of("city", None), Period.parse("2026-H1"))
            rebuilt = [(await queries.rebuild(conn, workflow, v)).model_dump_json().encode() for v in (1, 2)]
        frozen = [(await queries.published(engine, n) or "").encode() for n in (v1["number"], v2["number"])]
    finally:
        await engine.dispose()
    # As stored at publication, and as served (the API shows every instant in Beijing time).
    assert rebuilt == frozen
    assert [beijing_times(r) for r in rebuilt] == [stored[v1["number"]], stored[v2["number"]]]
    assert b"FY-2026-002" in stored[v1["number"]] and v1["summary"]["excellent_and_good_rate"] == 50.0


def claims_of(role: Role) -> dict[str, str]:
    return {"agency_id": CHAOYANG} if role in AGENCY_ROLES else {}


async def test_no_caller_of_any_role_reads_a_draft_or_an_unpublished_grade_in_public(seeded):
    settings, client = seeded
    published = await publish_city(client, settings)
    await publish(settings, closed(8, CaseKind.civil, LI, ended="2026-06-20", recorded="2026-11-26T09:00:00"))
    await publish(settings, graded(8, Grade.fail, LI, on="2026-11-27T10:00:00"))

    async def graded_late() -> bool:
        rows_ = (await draft(client, "2026-H1"))["tables"]["evaluation_results"]["rows"]
        assert "FY-2026-008" in [r["case_number"] for r in rows_]
        return True

    await eventually(graded_late)
    staff_roles = AGENCY_ROLES | BUREAU_ROLES
    by_number = f"/api/v1/disclosures/published/{published['number']}"
    public_paths = ["/api/v1/disclosures", "/api/v1/disclosures/2026-H1",
                    "/api/v1/disclosures/2026-H1?format=csv",
                    by_number, f"{by_number}?format=csv&table=cases_per_person"]
    callers = {"anonymous": {"Authorization": ""}} | {
        role.value: as_role(settings, role, **claims_of(role)) for role in Role}
    for who, headers in callers.items():
        for path in public_paths:
            response = await client.get(path, headers=headers)
            assert response.status_code == 200, (who, path)
            assert "FY-2026-008" not in response.text, (who, path)
        for period in ("2026-H1", "2026-H2"):
            answer = await client.get(f"/api/v1/disclosures/drafts/{period}", headers=headers,
                                      params={"level": "agency", "id": CHAOYANG})
            role = Role(who) if who != "anonymous" else None
            expected = 200 if role in staff_roles else (401 if role is None else 403)
            assert answer.status_code == expected, (who, period, answer.text)
        unpublished = await client.get("/api/v1/disclosures/2026-H2", headers=headers)
        assert unpublished.status_code == 404, who


async def test_staff_read_and_submit_only_the_disclosures_they_act_for(seeded):
    settings, client = seeded
    agency = as_role(settings, Role.agency_staff, sub="clerk-1", agency_id=CHAOYANG)
    district = as_role(settings, Role.bureau_investigator, sub="d-1", district="朝阳区")
    cases = [
        (agency, {"level": "agency", "id": CHAOYANG}, 200), (agency, {"level": "agency", "id": HAIDIAN}, 403),
        (agency, {"level": "city"}, 403), (agency, {"level": "district", "id": "朝阳区"}, 403),
        (district, {"level": "district", "id": "朝阳区"}, 200),
        (district, {"level": "agency", "id": CHAOYANG}, 200),
        (district, {"level": "agency", "id": HAIDIAN}, 403), (district, {"level": "city"}, 403),
    ]
    for headers, scope, expected in cases:
        response = await client.get("/api/v1/disclosures/drafts/2026-H1", params=scope, headers=headers)
        assert response.status_code == expected, (scope, response.text)

    # The agency submits its own; an agency role cannot approve; the district bureau can, and publishes.
    submitted = await client.post("/api/v1/disclosures/drafts/2026-H1/submission", headers=agency,
                                  json={"level": "agency", "id": CHAOYANG,
                                        "cut_off": "2026-11-01T00:00:00+08:00"})
    assert submitted.status_code == 201, submitted.text
    refused = await client.post("/api/v1/disclosures/drafts/2026-H1/approval", headers=agency,
                                json={"level": "agency", "id": CHAOYANG})
    assert refused.status_code == 403
    approved = await client.post("/api/v1/disclosures/drafts/2026-H1/approval", headers=district,
                                 json={"level": "agency", "id": CHAOYANG})
    assert approved.status_code == 201, approved.text
    body = approved.json()
    assert (body["number"], body["cut_off"]) == (
        "FY-2026H1-A-CHAOYANG-CENTRE-01", "2026-11-01T00:00:00+08:00")
    public = await client.get("/api/v1/disclosures/2026-H1", params={"agency_id": CHAOYANG}, headers={})
    assert public.json()["number"] == body["number"]


async def test_the_bureau_edits_the_texts_a_submission_freezes(seeded):
    settings, client = seeded
    bureau = as_role(settings, Role.bureau_investigator, sub="bureau-1")
    edited = await client.put("/api/v1/disclosures/texts", headers=bureau, json={
        "level": "city", "legal_basis": "依据《中华人民共和国法律援助法》第五十八条。",
        "procedure": "结案、评估、公开。"})
    assert edited.status_code == 200, edited.text
    agency = as_role(settings, Role.agency_staff, agency_id=CHAOYANG)
    assert (await client.put("/api/v1/disclosures/texts", headers=agency, json={
        "level": "agency", "id": CHAOYANG, "legal_basis": "甲乙", "procedure": "丙丁"})).status_code == 403
    published = await publish_city(client, settings)
    assert (published["summary"]["legal_basis"], published["summary"]["procedure"]) == (
        "依据《中华人民共和国法律援助法》第五十八条。", "结案、评估、公开。")


@pytest.mark.parametrize(("body", "field"), [
    ({"level": "city", "cut_off": "2026-06-30T23:00:00+08:00"}, "cut_off"),  # before the period ended
    ({"level": "city", "cut_off": "2099-01-01T00:00:00+08:00"}, "cut_off"),  # in the future
])
async def test_a_cut_off_before_the_periods_end_or_in_the_future_is_refused(seeded, body, field):
    _, client = seeded
    response = await client.post("/api/v1/disclosures/drafts/2026-H1/submission", json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]



async def test_a_half_year_with_more_paid_cases_than_a_statement_can_name_is_still_drafted(migrated_settings):
    """A big city's half-year: 40,000 subsidies paid (more than the 32,767 values one PostgreSQL
    statement can take), each for a case that ended the half-year before. The draft reads their
    closures by a subquery, never by naming every case, and counts every payment."""
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, relay_enabled=False,
                                       consumers_enabled=False)
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            names = {"agency": CHAOYANG, "firm": FIRM}
            await conn.execute(text(
                "INSERT INTO closed_cases (case_id, case_number, case_kind, agency_id, institution_id, "
                "institution_name, handler_id, handler_name, handler_kind, closed_at, period, ended_on, "
                "district) SELECT 'case-' || n, 'FY-2025-' || n, 'civil', :agency, 'firm-1', :firm, "
                "'h-wang', '王律师', 'lawyer', '2025-12-20T10:00:00+08:00', '2025-H2', '2025-12-20', "
                "'朝阳区' FROM generate_series(1, 40000) AS n"), names)
            await conn.execute(text(
                "INSERT INTO subsidy_payments (case_id, case_number, case_kind, agency_id, institution_id, "
                "institution_name, handler_id, handler_name, amount, paid_on) SELECT 'case-' || n, "
                "'FY-2025-' || n, 'civil', :agency, 'firm-1', :firm, 'h-wang', '王律师', 100.00, "
                "'2026-01-15' FROM generate_series(1, 40000) AS n"), names)
    finally:
        await engine.dispose()
    async with serve_in_process(create_app(settings)) as client:
        summary = (await draft(client, "2026-H1"))["summary"]
    assert summary["subsidy_payments"] == 40000 and summary["cases_closed"] == 0
