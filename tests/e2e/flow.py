"""Steps of the legal-aid case flow, driven over HTTP the way the outside systems drive it, each
call with the token of the person who makes it in real life (docs/security.md, "Endpoints and
roles"): agency staff register and build the pool, the case's own handler records and closes,
the closing checker checks, the quality lead gives the closed case to a peer reviewer, who grades
it; the bureau investigates, the bar association reads its notices, the public reads disclosures
without a token."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from devstack.stack import Stack
from shared.auth import Role
from shared.testing.kafka import eventually

CRIMINAL_INDICATORS = ("meeting", "file_review", "investigation_work", "legal_opinion", "hearing",
                       "notice_duty", "report_duty", "closing_file")
SHANGHAI = ZoneInfo("Asia/Shanghai")
# The closing check's items for a criminal case (SF/T 0086: GET /api/v1/cases/closing-checklists/criminal).
CRIMINAL_CHECKLIST = ("meeting_record", "file_review_notes", "investigation", "defence_statement", "hearing",
                      "notice_duty", "report_duty", "closing_file_in_time")
# A valid resident ID number (its check character matches: shared/validation.py).
ID_NUMBER = "110101199003071233"


# --- who calls ------------------------------------------------------------------------------


def staff(stack: Stack, agency_id: str) -> dict[str, str]:
    return stack.headers(Role.agency_staff, sub=f"staff-{agency_id}", agency_id=agency_id)


def handler(stack: Stack, handler_id: str) -> dict[str, str]:
    """The case's own handler: the handler_id claim is what scopes them to their cases."""
    return stack.headers(Role.case_handler, sub=f"lawyer-{handler_id}", handler_id=handler_id)


def checker(stack: Stack, agency_id: str) -> dict[str, str]:
    return stack.headers(Role.closing_checker, sub=f"checker-{agency_id}", agency_id=agency_id)


def quality_lead(stack: Stack, agency_id: str) -> dict[str, str]:
    return stack.headers(Role.quality_lead, sub=f"lead-{agency_id}", agency_id=agency_id)


def reviewer(stack: Stack, reviewer_id: str, institution_id: str) -> dict[str, str]:
    return stack.headers(Role.peer_reviewer, sub=reviewer_id, reviewer_id=reviewer_id,
                         institution_id=institution_id)


def investigator(stack: Stack) -> dict[str, str]:
    return stack.headers(Role.bureau_investigator, sub="investigator-1")


def bar_association(stack: Stack) -> dict[str, str]:
    return stack.headers(Role.bar_association, sub="bar-1")


def auditor(stack: Stack) -> dict[str, str]:
    return stack.headers(Role.auditor, sub="auditor-1")


# --- steps ----------------------------------------------------------------------------------


def current_period() -> str:
    today = datetime.now(SHANGHAI).date()
    return f"{today.year}-H{1 if today.month <= 6 else 2}"


async def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.text}")
    return response.json()


async def recruit_pool(assignment: httpx.AsyncClient, stack: Stack, *, agency_id: str,
                       lawyers: int) -> tuple[dict, list[dict]]:
    """One law firm with a signed commitment, and its lawyers, in the agency's pool."""
    as_staff = staff(stack, agency_id)
    firm = await ok(await assignment.post("/api/v1/institutions", headers=as_staff, json={
        "name": "北京市明法律师事务所", "kind": "law_firm", "agency_id": agency_id,
        "district": "朝阳区"}), 201)
    today = date.today()
    await ok(await assignment.post(f"/api/v1/institutions/{firm['institution_id']}/commitment",
                                   headers=as_staff,
                                   json={"signed_on": (today - timedelta(days=30)).isoformat(),
                                         "valid_until": (today + timedelta(days=365)).isoformat()}))
    handlers = [
        await ok(await assignment.post("/api/v1/handlers", headers=as_staff, json={
            "name": f"王律师{i}", "kind": "lawyer", "licence_number": f"1110120{i:08d}",
            "institution_id": firm["institution_id"], "years_of_practice": 8}), 201)
        for i in range(lawyers)
    ]
    return firm, handlers


def case_body(agency_id: str, n: int = 0) -> dict:
    return {
        "case_kind": "criminal", "cause": "盗窃", "district": "朝阳区", "agency_id": agency_id,
        "aided_person": {"name": f"张三{n}", "id_number": ID_NUMBER, "phone": "13800138000",
                         "address": "北京市朝阳区某路1号"},
    }


async def register(intake: httpx.AsyncClient, stack: Stack, body: dict) -> dict:
    return await ok(await intake.post("/api/v1/cases", json=body,
                                      headers=staff(stack, body["agency_id"])), 201)


async def assigned(intake: httpx.AsyncClient, stack: Stack, case: dict, timeout: float = 90) -> dict:
    as_staff = staff(stack, case["agency_id"])

    async def probe():
        seen = await ok(await intake.get(f"/api/v1/cases/{case['case_id']}", headers=as_staff))
        return seen if seen["status"] == "assigned" else None

    return await eventually(probe, timeout=timeout, interval=0.2)


async def record_work(intake: httpx.AsyncClient, stack: Stack, case: dict, conversation: str) -> dict:
    """The handler records the mandate and a meeting with the aided person."""
    as_handler = handler(stack, case["handler_id"])
    at = now().isoformat()
    await ok(await intake.post(f"/api/v1/cases/{case['case_id']}/record", headers=as_handler, json={
        "occurred_at": at,
        "entry": {"kind": "mandate", "agreement_signed": True, "power_of_attorney_signed": True}}), 201)
    return await ok(await intake.post(f"/api/v1/cases/{case['case_id']}/record", headers=as_handler, json={
        "occurred_at": at,
        "entry": {"kind": "meeting", "rights_explained": True, "obligations_explained": True,
                  "risks_explained": True, "conversation_record": conversation}}), 201)


async def close(intake: httpx.AsyncClient, stack: Stack, case: dict) -> dict:
    """The case's handler closes it."""
    return await ok(await intake.post(f"/api/v1/cases/{case['case_id']}/closure",
                                      headers=handler(stack, case["handler_id"]),
                                      json={"outcome": "法院采纳部分辩护意见",
                                            "ended_on": datetime.now(SHANGHAI).date().isoformat()}))


# The rest of the handling record the closing check asks for (R-HDL-2..5): the file read, the
# defence statement, the hearing attended and a report to the agency.
REST_OF_THE_RECORD = (
    {"kind": "file_review", "notes": "阅卷: 起诉书、证据材料"},
    {"kind": "legal_opinion", "opinion_kind": "defence_statement", "text": "辩护词"},
    {"kind": "hearing", "venue": "北京市朝阳区人民法院"},
    {"kind": "report", "subject": "开庭情况", "text": "已出庭"},
)


async def closing_check(intake: httpx.AsyncClient, stack: Stack, case: dict) -> dict:
    """The handler records the rest of the work and hands in the closing file; the agency's
    checker (the token's subject) checks it against the file and the record (R-CHK-1)."""
    as_handler = handler(stack, case["handler_id"])
    for entry in REST_OF_THE_RECORD:
        await ok(await intake.post(f"/api/v1/cases/{case['case_id']}/record", headers=as_handler, json={
            "occurred_at": now().isoformat(), "entry": entry}), 201)
    checklist = dict.fromkeys(("mandate_documents", "meeting_records", "file_review_notes",
                               "investigation_materials", "legal_opinion", "hearing_records",
                               "outcome_document", "reports_to_agency"), True)
    await ok(await intake.post(f"/api/v1/cases/{case['case_id']}/closing-file",
                               headers=handler(stack, case["handler_id"]),
                               json={"checklist": checklist}))
    return await ok(await intake.post(f"/api/v1/cases/{case['case_id']}/closing-check",
                                      headers=checker(stack, case["agency_id"]),
                                      json={"items": dict.fromkeys(CRIMINAL_CHECKLIST, True)}))


async def give_for_review(evaluation: httpx.AsyncClient, stack: Stack, case: dict, reviewer_id: str,
                          reviewer_institution_id: str) -> dict:
    """The quality lead gives the closed case to a peer reviewer of another firm (R-EVL-4, R-EVL-6):
    a reviewer sees and grades only the cases given to them."""
    return await ok(await evaluation.post(f"/api/v1/cases/{case['case_id']}/reviewers",
                                          headers=quality_lead(stack, case["agency_id"]), json={
        "reviewer_id": reviewer_id, "name": "赵律师", "institution_id": reviewer_institution_id,
        "years_of_practice": 12}), 201)


async def fail_evaluation(evaluation: httpx.AsyncClient, stack: Stack, case: dict, timeout: float = 90,
                          reviewer_id: str = "reviewer-1",
                          reviewer_institution_id: str = "another-firm") -> dict:
    """Wait until evaluation knows the closed case, have the quality lead give it to a reviewer
    of another firm, and the reviewer grades it fail (no meeting held)."""
    as_lead = quality_lead(stack, case["agency_id"])

    async def closed_case_known():
        page = await ok(await evaluation.get("/api/v1/cases/awaiting-evaluation", params={"limit": 200},
                                             headers=as_lead))
        return any(item["case_id"] == case["case_id"] for item in page["items"])

    await eventually(closed_case_known, timeout=timeout, interval=0.2)
    await give_for_review(evaluation, stack, case, reviewer_id, reviewer_institution_id)
    indicators = dict.fromkeys(CRIMINAL_INDICATORS, "good") | {"meeting": "fail"}
    return await ok(await evaluation.post("/api/v1/evaluations", headers=reviewer(
        stack, reviewer_id, reviewer_institution_id), json={
        "case_id": case["case_id"], "indicators": indicators, "findings": "未会见受援人"}), 201)


def now() -> datetime:
    return datetime.now(UTC)
