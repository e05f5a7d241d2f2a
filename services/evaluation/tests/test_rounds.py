"""Rounds over HTTP with the real database and broker (R-EVL-4, R-EVL-6): experts from the pool,
the draw re-run by hand gives the same cases and readers, the excluded experts never read, a fail
is re-read by two more, the panel decides, and the round's closure emits ONE EvaluationFailed."""

from datetime import date

from services.evaluation.domain.pool import ExpertProfile
from services.evaluation.domain.round import DrawRule, RoundPolicy, allocate, draw
from services.evaluation.tests.test_evaluations_api import (
    HANDLER,
    case_closed,
    closed_and_known,
    reviewer,
    service,  # noqa: F401 - the fixture
)
from shared.contracts import CaseKind, EvaluationCompleted, EvaluationFailed
from shared.contracts.evaluation import EVALUATIONS
from shared.testing.kafka import read_topic

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

    agreement = (await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/agreement")).json()
    assert (
        agreement["re_read_fails"],
        agreement["confirmed_fails"],
        agreement["files_with_three_grades"],
    ) == (1, 1, 1)
    bulletin = (await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/bulletin")).json()
    assert len(bulletin["excellent_cases"]) == 2 and bulletin["problems"][0]["indicator"] == "meeting"
    csv = await client.get(f"/api/v1/evaluation-rounds/{round_['round_id']}/bulletin.csv")
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf") and b"meeting" in csv.content
