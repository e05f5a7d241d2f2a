"""A period's disclosure, fed through the broker as evaluation and intake would feed it, read over
HTTP as staff read its live draft (the public reads only what is published: test_workflow.py)."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from services.publication.app import MIGRATIONS, PublicationSettings, create_app
from shared.auth import Role
from shared.clock import local_date
from shared.contracts import CaseClosed, CaseKind, EvaluationCompleted, Grade, HandlerKind, HandlerRef
from shared.events import Envelope
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish

BEIJING = timezone(timedelta(hours=8))
AGENCY = "chaoyang-centre"

WANG = HandlerRef(handler_id="h-wang", name="王律师", kind=HandlerKind.lawyer,
                  licence_number="11101200000001", institution_id="firm-1",
                  institution_name="北京市某某律师事务所")
LI = HandlerRef(handler_id="h-li", name="李律师", kind=HandlerKind.lawyer, institution_id="firm-1",
                institution_name="北京市某某律师事务所")
ZHAO = HandlerRef(handler_id="h-zhao", name="赵工作者", kind=HandlerKind.grassroots_legal_worker,
                  institution_id="office-2", institution_name="朝阳区某某法律服务所")


def evaluated(case_number: str, grade: Grade, at: datetime, *, handler: HandlerRef = WANG,
              kind: CaseKind = CaseKind.criminal, case_id: str | None = None) -> EvaluationCompleted:
    return EvaluationCompleted(
        evaluation_id=str(uuid.uuid4()), case_id=case_id or f"case-{case_number}", case_number=case_number,
        case_kind=kind, agency_id=AGENCY, handler=handler, grade=grade, reviewer_id="reviewer-1",
        completed_at=at,
    )


def closed(case_number: str, kind: CaseKind, at: datetime, *, handler: HandlerRef = WANG) -> CaseClosed:
    return CaseClosed(
        case_id=f"case-{case_number}", case_number=case_number, case_kind=kind, district="朝阳区",
        agency_id=AGENCY, handler=handler, outcome="判决", ended_on=local_date(at), closed_at=at,
    )


def on(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00+08:00")


@pytest.fixture
async def publication(migrated_settings):
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, relay_enabled=False)
    async with serve_in_process(create_app(settings)) as client:
        yield settings, client


@pytest.fixture
async def public_api(migrated_settings):
    """The HTTP side only, for what needs no events."""
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, relay_enabled=False,
                                       consumers_enabled=False)
    async with serve_in_process(create_app(settings)) as client:
        yield client


async def disclosure_once(client, period: str, *, cases_closed: int, cases_evaluated: int) -> dict:
    """The period's disclosure once it counts what the test has sent."""

    async def probe() -> dict:
        response = await client.get(f"/api/v1/disclosures/drafts/{period}")
        assert response.status_code == 200, response.text
        summary = response.json()["summary"]
        counts = (summary["cases_closed"], summary["cases_evaluated"])
        assert counts == (cases_closed, cases_evaluated), summary
        return response.json()

    return await eventually(probe)


async def consumed(client, consumer: str, outcome: str) -> float:
    """How many events the named consumer has handled with this outcome (its /metrics)."""
    families = text_string_to_metric_families((await client.get("/metrics")).text)
    return sum(
        sample.value
        for family in families if family.name == "fayuan_events_consumed"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels["consumer"] == consumer
        and sample.labels["outcome"] == outcome
    )


async def redeliver(settings, *envelopes: Envelope) -> None:
    """Send already-published events again, same ids: what a broker does after a lost commit."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        for envelope in envelopes:
            message = envelope.to_kafka()
            key = message.key.encode() if isinstance(message.key, str) else message.key
            await producer.send_and_wait(settings.topic(envelope.topic), message.value, key=key,
                                         headers=list(message.headers.items()))
    finally:
        await producer.stop()


async def test_disclosure_has_the_half_years_figures_and_the_annexes_tables(publication):
    settings, client = publication
    await publish(
        settings,
        closed("FY-2026-000003", CaseKind.civil, on("2026-02-10"), handler=LI),
        closed("FY-2026-000001", CaseKind.criminal, on("2026-03-01")),
        closed("FY-2026-000002", CaseKind.criminal, on("2026-03-02")),
        closed("FY-2026-000004", CaseKind.administrative, on("2026-04-02"), handler=ZHAO),
        closed("FY-2025-000009", CaseKind.civil, on("2025-12-30")),  # the previous half-year
    )
    await publish(
        settings,
        evaluated("FY-2026-000003", Grade.good, on("2026-05-01"), handler=LI, kind=CaseKind.civil),
        evaluated("FY-2026-000001", Grade.excellent, on("2026-05-02")),
        evaluated("FY-2026-000004", Grade.fail, on("2026-05-03"), handler=ZHAO, kind=CaseKind.administrative),
        evaluated("FY-2025-000009", Grade.excellent, on("2025-12-31"), kind=CaseKind.civil),
    )

    body = await disclosure_once(client, "2026-H1", cases_closed=4, cases_evaluated=3)

    assert (body["period"], body["starts_on"], body["ends_on"]) == ("2026-H1", "2026-01-01", "2026-06-30")
    summary = body["summary"]
    assert summary["cases_closed_by_kind"] == {"criminal": 2, "civil": 1, "administrative": 1,
                                               "non_litigation": 0, "total": 4}
    assert [(g["grade"], g["title"], g["count"], g["percentage"]) for g in summary["grade_distribution"]] == [
        ("excellent", "优秀", 1, 33.3), ("good", "良好", 1, 33.3), ("pass", "合格", 0, 0.0),
        ("fail", "不合格", 1, 33.3)]
    assert summary["excellent_and_good_rate"] == 66.7

    results = body["tables"]["evaluation_results"]
    assert (results["annex"], results["title"]) == (7, "法律援助案件质量同行评估结果")
    assert [c["name"] for c in results["columns"]] == [
        "period", "agency_id", "case_number", "case_kind", "grade", "institution_name", "handler_name"]
    assert results["rows"] == [
        {"period": "2026-H1", "agency_id": AGENCY, "case_number": "FY-2026-000001", "case_kind": "criminal",
         "grade": "excellent", "institution_name": "北京市某某律师事务所", "handler_name": "王律师"},
        {"period": "2026-H1", "agency_id": AGENCY, "case_number": "FY-2026-000003", "case_kind": "civil",
         "grade": "good", "institution_name": "北京市某某律师事务所", "handler_name": "李律师"},
        {"period": "2026-H1", "agency_id": AGENCY, "case_number": "FY-2026-000004",
         "case_kind": "administrative", "grade": "fail", "institution_name": "朝阳区某某法律服务所",
         "handler_name": "赵工作者"},
    ]

    institutions = body["tables"]["cases_per_institution"]
    assert (institutions["annex"], institutions["title"]) == (5, "法律服务机构承办案件情况")
    assert [(r["institution_name"], r["criminal"], r["civil"], r["administrative"], r["total"])
            for r in institutions["rows"]] == [
        ("北京市某某律师事务所", 2, 1, 0, 3), ("朝阳区某某法律服务所", 0, 0, 1, 1)]

    persons = body["tables"]["cases_per_person"]
    assert (persons["annex"], persons["title"]) == (6, "法律援助人员承办案件情况")
    assert [(r["institution_name"], r["handler_name"], r["handler_kind"], r["criminal"], r["civil"],
             r["total"]) for r in persons["rows"]] == [
        ("北京市某某律师事务所", "李律师", "lawyer", 0, 1, 1),
        ("北京市某某律师事务所", "王律师", "lawyer", 2, 0, 2),
        ("朝阳区某某法律服务所", "赵工作者", "grassroots_legal_worker", 0, 0, 1),
    ]

    previous = (await client.get("/api/v1/disclosures/drafts/2025-H2")).json()
    assert (previous["summary"]["cases_closed"], previous["summary"]["cases_evaluated"]) == (1, 1)
    other_agency = (await client.get("/api/v1/disclosures/drafts/2026-H1",
                                     params={"level": "agency", "id": "haidian-centre"})).json()
    assert other_agency["summary"]["cases_evaluated"] == 0
    assert other_agency["tables"]["evaluation_results"]["rows"] == []


async def test_the_half_year_is_decided_in_beijing_time(publication):
    settings, client = publication
    late_on_30_june = datetime(2026, 6, 30, 23, 30, tzinfo=BEIJING)  # 15:30 UTC: first half-year
    already_1_july = datetime(2026, 6, 30, 17, 0, tzinfo=UTC)  # 01:00 on 1 July in Beijing
    await publish(
        settings,
        evaluated("FY-2026-000101", Grade.good, late_on_30_june),
        evaluated("FY-2026-000102", Grade.pass_, already_1_july),
        closed("FY-2026-000101", CaseKind.criminal, late_on_30_june),
        closed("FY-2026-000102", CaseKind.criminal, already_1_july),
    )

    second = await disclosure_once(client, "2026-H2", cases_closed=1, cases_evaluated=1)
    first = await disclosure_once(client, "2026-H1", cases_closed=1, cases_evaluated=1)

    assert [r["case_number"] for r in first["tables"]["evaluation_results"]["rows"]] == ["FY-2026-000101"]
    assert [r["case_number"] for r in second["tables"]["evaluation_results"]["rows"]] == ["FY-2026-000102"]
    assert (second["starts_on"], second["ends_on"]) == ("2026-07-01", "2026-12-31")


async def test_redelivery_and_republication_do_not_count_twice(publication):
    settings, client = publication
    sent = await publish(
        settings,
        closed("FY-2026-000201", CaseKind.civil, on("2026-03-01")),
        evaluated("FY-2026-000201", Grade.excellent, on("2026-04-01"), kind=CaseKind.civil),
    )
    await disclosure_once(client, "2026-H1", cases_closed=1, cases_evaluated=1)
    duplicates_before = await consumed(client, "publication.cases", "duplicate") + await consumed(
        client, "publication.evaluations", "duplicate")
    handled_before = await consumed(client, "publication.cases", "handled")

    await redeliver(settings, *sent, *sent)
    # The same closure once more under a new id, as a producer that re-sent it by another path would.
    await publish(settings, closed("FY-2026-000201", CaseKind.civil, on("2026-03-01")))

    async def all_seen() -> bool:
        duplicates = await consumed(client, "publication.cases", "duplicate") + await consumed(
            client, "publication.evaluations", "duplicate")
        handled = await consumed(client, "publication.cases", "handled")
        # At least: a consumer that restarts before committing may see a message once more.
        assert duplicates - duplicates_before >= 4 and handled - handled_before == 1
        return True

    await eventually(all_seen)
    body = (await client.get("/api/v1/disclosures/drafts/2026-H1")).json()
    assert (body["summary"]["cases_closed"], body["summary"]["cases_evaluated"]) == (1, 1)
    assert body["tables"]["cases_per_person"]["rows"][0]["total"] == 1
    assert [g["count"] for g in body["summary"]["grade_distribution"]] == [1, 0, 0, 0]


async def test_a_re_evaluation_replaces_the_cases_result(publication):
    settings, client = publication
    await publish(settings, evaluated("FY-2026-000301", Grade.fail, on("2026-03-01"), case_id="case-301"))
    await disclosure_once(client, "2026-H1", cases_closed=0, cases_evaluated=1)
    await publish(settings, evaluated("FY-2026-000301", Grade.good, on("2026-03-20"), case_id="case-301"))

    async def regraded() -> dict:
        body = (await client.get("/api/v1/disclosures/drafts/2026-H1")).json()
        assert [(r["case_number"], r["grade"]) for r in body["tables"]["evaluation_results"]["rows"]] == [
            ("FY-2026-000301", "good")]
        return body

    body = await eventually(regraded)
    assert body["summary"]["excellent_and_good_rate"] == 100.0


async def test_evaluation_results_as_csv_open_in_excel_with_chinese_headers(publication):
    settings, client = publication
    await publish(
        settings,
        evaluated("FY-2026-000402", Grade.pass_, on("2026-08-01"), handler=ZHAO,
                  kind=CaseKind.non_litigation),
        evaluated("FY-2026-000401", Grade.excellent, on("2026-08-02")),
    )
    await disclosure_once(client, "2026-Q3", cases_closed=0, cases_evaluated=2)
    await client.post("/api/v1/disclosures/drafts/2026-Q3/submission", json={"level": "city"})
    approver = as_role(settings, Role.bureau_investigator, sub="bureau-2")
    approved = await client.post("/api/v1/disclosures/drafts/2026-Q3/approval", json={"level": "city"},
                                 headers=approver)
    assert approved.status_code == 201, approved.text

    response = await client.get("/api/v1/disclosures/2026-Q3", params={"format": "csv"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "evaluation-results-2026-Q3.csv" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        ["期间", "法律援助机构", "案件编号", "案件类别", "评估等级", "法律服务机构", "承办人员"],
        ["2026-Q3", AGENCY, "FY-2026-000401", "刑事", "优秀", "北京市某某律师事务所", "王律师"],
        ["2026-Q3", AGENCY, "FY-2026-000402", "非诉讼", "合格", "朝阳区某某法律服务所", "赵工作者"],
    ]


async def test_a_period_without_cases_has_zero_counts(public_api):
    response = await public_api.get("/api/v1/disclosures/drafts/2031-H2")

    assert response.status_code == 200
    body = response.json()
    assert (body["summary"]["cases_closed"], body["summary"]["cases_evaluated"]) == (0, 0)
    assert [g["count"] for g in body["summary"]["grade_distribution"]] == [0, 0, 0, 0]
    assert body["summary"]["excellent_and_good_rate"] is None
    assert all(table["rows"] == [] and table["columns"] for table in body["tables"].values())
    assert body["summary"]["subsidies_paid"] == "0.00"
    unpublished = await public_api.get("/api/v1/disclosures/2031-H2", params={"format": "csv"})
    assert unpublished.status_code == 404


@pytest.mark.parametrize("period", ["2026-H3", "2026H1", "26-H1", "2026-h1", "0000-H1", "2026-H1x",
                                    "2026-Q5"])
async def test_a_malformed_period_is_a_problem_naming_the_period(public_api, period):
    response = await public_api.get(f"/api/v1/disclosures/{period}")

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["path.period"]


async def test_an_unknown_format_is_a_problem_naming_the_format(public_api):
    response = await public_api.get("/api/v1/disclosures/2026-H1", params={"format": "xls"})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.format"]
