"""Steps of the legal-aid case flow, driven over HTTP the way the outside systems drive it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from shared.testing.kafka import eventually

CRIMINAL_INDICATORS = ("meeting", "file_review", "investigation_work", "legal_opinion", "hearing", "notice_duty",
                       "report_duty", "closing_file")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def current_period() -> str:
    today = datetime.now(SHANGHAI).date()
    return f"{today.year}-H{1 if today.month <= 6 else 2}"


async def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


async def recruit_pool(assignment: httpx.AsyncClient, *, agency_id: str, lawyers: int) -> tuple[dict, list[dict]]:
    """One law firm with a signed commitment, and its lawyers, in the agency's pool."""
    firm = await ok(await assignment.post("/api/v1/institutions", json={
        "name": "北京市明法律师事务所", "kind": "law_firm", "agency_id": agency_id, "district": "朝阳区"}), 201)
    today = date.today()
    await ok(await assignment.post(f"/api/v1/institutions/{firm['institution_id']}/commitment", json={
        "signed_on": (today - timedelta(days=30)).isoformat(), "valid_until": (today + timedelta(days=365)).isoformat()}))
    handlers = [
        await ok(await assignment.post("/api/v1/handlers", json={
            "name": f"王律师{i}", "kind": "lawyer", "licence_number": f"1110120{i:08d}",
            "institution_id": firm["institution_id"], "years_of_practice": 8}), 201)
        for i in range(lawyers)
    ]
    return firm, handlers


def case_body(agency_id: str, n: int = 0) -> dict:
    return {
        "case_kind": "criminal", "cause": "盗窃", "district": "朝阳区", "agency_id": agency_id,
        "aided_person": {"name": f"张三{n}", "id_number": "110101199003071234", "phone": "13800138000",
                         "address": "北京市朝阳区某路1号"},
    }


async def assigned(intake: httpx.AsyncClient, case_id: str, timeout: float = 90) -> dict:
    async def probe():
        case = await ok(await intake.get(f"/api/v1/cases/{case_id}"))
        return case if case["status"] == "assigned" else None

    return await eventually(probe, timeout=timeout, interval=0.2)


async def close(intake: httpx.AsyncClient, case_id: str) -> dict:
    return await ok(await intake.post(f"/api/v1/cases/{case_id}/closure",
                                      json={"outcome": "法院采纳部分辩护意见", "ended_on": date.today().isoformat()}))


async def fail_evaluation(evaluation: httpx.AsyncClient, case_id: str, timeout: float = 90) -> dict:
    """Wait until evaluation knows the closed case, then grade it fail (no meeting held)."""

    async def closed_case_known():
        page = await ok(await evaluation.get("/api/v1/cases/awaiting-evaluation", params={"limit": 200}))
        return any(item["case_id"] == case_id for item in page["items"])

    await eventually(closed_case_known, timeout=timeout, interval=0.2)
    indicators = {key: "good" for key in CRIMINAL_INDICATORS} | {"meeting": "fail"}
    return await ok(await evaluation.post("/api/v1/evaluations", json={
        "case_id": case_id, "reviewer_id": "reviewer-1", "reviewer_institution_id": "another-firm",
        "indicators": indicators, "findings": "未会见受援人"}), 201)


def now() -> datetime:
    return datetime.now(UTC)
