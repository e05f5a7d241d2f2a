"""Implausible input refused with a problem naming the field (docs/reliability.md "Hostile
input"): a closure that ends before the case was registered or in the future, and control
characters (a NUL first: PostgreSQL refuses it) in the texts a clerk or a handler sends."""

from datetime import timedelta

from services.intake.tests.conftest import AIDED, CRIMINAL, today
from shared.clock import local_date, now


def _fields(answer) -> set[str]:
    return {e["field"] for e in answer.json().get("errors", [])}


async def test_a_closure_or_follow_up_out_of_order_or_in_the_future_names_its_date(intake_service):
    client = intake_service.client
    case = await intake_service.register()
    await intake_service.assign(case)
    url = f"/api/v1/cases/{case['case_id']}/closure"
    day = local_date(now())
    for ended_on in (day - timedelta(days=1), day + timedelta(days=1), day.replace(year=2199)):
        refused = await client.post(url, headers=intake_service.handler(),
                                    json={"outcome": "判决", "ended_on": ended_on.isoformat()})
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detail"].startswith("ended_on:"), refused.json()
    visit = await client.post(f"/api/v1/cases/{case['case_id']}/follow-ups", json={
        "visited_on": (day + timedelta(days=1)).isoformat(), "channel": "phone", "satisfaction": "satisfied"})
    assert visit.status_code == 422 and visit.json()["detail"].startswith("visited_on:"), visit.text
    closed = await client.post(url, headers=intake_service.handler(),
                               json={"outcome": "判决", "ended_on": today()})
    assert closed.status_code == 200 and closed.json()["status"] == "closed", closed.text


async def test_a_nul_or_another_control_character_in_any_text_is_a_problem_naming_the_field(intake_service):
    client = intake_service.client
    for body, field in (({**CRIMINAL, "cause": "盗窃\x00"}, "cause"),
                        ({**CRIMINAL, "aided_person": {**AIDED, "name": "张\x1b三"}}, "aided_person.name"),
                        ({**CRIMINAL, "aided_person": {**AIDED, "address": "北京市\u0085朝阳区"}},
                         "aided_person.address")):
        refused = await client.post("/api/v1/cases", json=body)
        assert refused.status_code == 422 and field in _fields(refused), refused.text
    for params, field in (({"district": "朝阳\x00"}, "query.district"),
                          ({"agency_id": "a\x00"}, "query.agency_id")):
        refused = await client.get("/api/v1/cases", params=params)
        assert refused.status_code == 422 and field in _fields(refused), refused.text
    refused = await client.get("/api/v1/cases/abc%00def")
    assert refused.status_code == 422 and _fields(refused) == {"path.case_id"}, refused.text
    case = await intake_service.register()
    await intake_service.assign(case)
    url = f"/api/v1/cases/{case['case_id']}"
    for path, body, field in (
            ("record", {"occurred_at": "2026-11-20T09:00:00+08:00",
                        "entry": {"kind": "file_review", "notes": "阅卷\x00"}}, "entry.notes"),
            ("follow-ups", {"visited_on": today(), "channel": "phone", "satisfaction": "satisfied",
                            "remarks": "满意\x07"}, "remarks"),
            ("reassignment-requests", {"reason": "沟通\x00不畅", "category": "breakdown_of_trust"}, "reason"),
            ("closure", {"outcome": "判决\x00", "ended_on": today()}, "outcome")):
        headers = intake_service.handler() if path in ("record", "closure") else intake_service.staff()
        refused = await client.post(f"{url}/{path}", json=body, headers=headers)
        assert refused.status_code == 422 and field in _fields(refused), (path, refused.text)
    # Multi-line free text keeps its lines.
    kept = await client.post(f"{url}/record", headers=intake_service.handler(), json={
        "occurred_at": "2026-11-20T09:00:00+08:00",
        "entry": {"kind": "file_review", "notes": "阅卷：\n起诉书\t一份\r\n"}})
    assert kept.status_code == 201, kept.text


async def test_a_checklist_version_past_32_bits_is_a_problem_naming_it(intake_service):
    for version in (2**31, 2**40, 2**63):
        answer = await intake_service.client.get("/api/v1/cases/closing-checklists/civil",
                                                 params={"version": version})
        assert answer.status_code == 422, answer.text
        assert "query.version" in _fields(answer)
