import json

import pytest
from sqlalchemy import text

from services.intake.domain.checklists import CHECKLIST_BY_KIND
from services.intake.tests.conftest import AIDED, CRIMINAL, today
from services.intake.tests.test_handling import CHECKLIST, ENTRIES, MEETING_IN_FULL

KINDS = [
    {"case_kind": "criminal", "criminal_stage": "prosecution_review", "criminal_role": "defence"},
    {"case_kind": "criminal", "criminal_stage": "first_instance", "criminal_role": "victim_representation"},
    {"case_kind": "civil", "matter": "civil_litigation", "criminal_stage": None, "criminal_role": None},
    {"case_kind": "administrative", "matter": "administrative_lawsuit", "criminal_stage": None,
     "criminal_role": None},
    {"case_kind": "non_litigation", "matter": "mediation", "criminal_stage": None, "criminal_role": None},
]


async def _published(app, type_suffix: str) -> list[dict]:
    async with app.state.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT data FROM outbox WHERE type LIKE :t ORDER BY position"),
                                   {"t": f"%{type_suffix}"})).all()
    return [r[0] if isinstance(r[0], dict) else json.loads(r[0]) for r in rows]


@pytest.mark.parametrize("kind", KINDS,
                         ids=lambda k: f"{k['case_kind']}-{k.get('matter') or k['criminal_role']}")
async def test_every_case_kind_from_registration_to_archive_and_follow_up(intake_service, kind):
    client = intake_service.client
    case = await intake_service.register(**kind)
    url = f"/api/v1/cases/{case['case_id']}"
    await intake_service.assign(case)
    for entry in [*ENTRIES, MEETING_IN_FULL]:
        assert (await intake_service.record(case["case_id"], entry)).status_code == 201
    closed = await client.post(f"{url}/closure", headers=intake_service.handler(),
                               json={"outcome": "判决", "ended_on": today()})
    assert closed.json()["status"] == "closed"
    li, wang = intake_service.staff(sub="staff-li"), intake_service.staff(sub="staff-wang")
    early = await client.post(f"{url}/archive", json={}, headers=li)
    assert early.status_code == 409 and early.json()["title"] == "ClosingCheckPending"
    await client.post(f"{url}/closing-file", headers=intake_service.handler(),
                      json={"checklist": CHECKLIST})
    # R-CHK-1: the check runs on the checklist of the kind's standard and names what failed.
    checklist = (await client.get(f"/api/v1/cases/closing-checklists/{kind['case_kind']}")).json()
    standard = "SF/T 0086-2020" if kind["case_kind"] == "criminal" else "SF/T 0085-2020"
    assert checklist["standard"] == standard
    items = {i["key"]: True for i in checklist["items"]}
    assert list(items) == list(CHECKLIST_BY_KIND[kind["case_kind"]].keys)
    checker, lead = intake_service.checker("checker-1"), intake_service.lead("lead-zhao")
    failed = await client.post(f"{url}/closing-check", headers=checker,
                               json={"remarks": "缺庭审笔录", "items": {**items, "hearing": False}})
    assert failed.json()["closing_check_passed"] is False
    assert failed.json()["closing_check_failed_items"] == ["hearing"]
    assert failed.json()["closing_check_standard"] == standard
    other_kind = "civil" if kind["case_kind"] == "criminal" else "criminal"
    wrong = (await client.get(f"/api/v1/cases/closing-checklists/{other_kind}")).json()
    mismatch = await client.post(f"{url}/closing-check", headers=checker,
                                 json={"items": {i["key"]: True for i in wrong["items"]}})
    assert mismatch.status_code == 422 and mismatch.json()["rule"] == "R-CHK-1"
    assert (await client.post(f"{url}/archive", json={}, headers=li)).status_code == 409
    early_sign = await client.post(f"{url}/closing-check/sign-off", headers=lead, json={})
    assert early_sign.status_code == 409 and early_sign.json()["rule"] == "R-CHK-2"
    passed = await client.post(f"{url}/closing-check", headers=checker, json={"items": items})
    assert passed.json()["closing_check_passed"] is True and passed.json()["closing_check_failed_items"] == []
    # R-CHK-2: archive waits for the quality lead's sign-off.
    unsigned = await client.post(f"{url}/archive", json={}, headers=li)
    assert unsigned.status_code == 409 and unsigned.json()["title"] == "SignOffPending"
    signed = await client.post(f"{url}/closing-check/sign-off", headers=lead,
                               json={"quality_lead_name": "赵主任"})
    assert signed.json()["signed_off_by"] == "lead-zhao" and signed.json()["signed_off_at"]
    again = await client.post(f"{url}/closing-check", headers=checker, json={"items": items})
    assert again.status_code == 409  # a signed-off check stands
    archived = (await client.post(f"{url}/archive", json={}, headers=li)).json()
    assert archived["status"] == "archived" and archived["archived_at"]
    follow_up = {"follow_up_id": "fu-1", "visited_on": "2026-12-01", "channel": "phone",
                 "satisfaction": "satisfied", "remarks": "张三表示满意"}
    assert (await client.post(f"{url}/follow-ups", json=follow_up, headers=wang)
            ).json()["satisfaction"] == "satisfied"
    await client.post(f"{url}/follow-ups", json=follow_up, headers=wang)  # told twice, recorded once
    [published] = await _published(intake_service.app, "follow-up-completed.v1")
    assert published["satisfaction"] == "satisfied" and published["handler"]["handler_id"] == "lawyer-1"
    assert "张三" not in json.dumps(published, ensure_ascii=False)
    timeline = (await client.get(f"{url}/timeline")).json()
    assert [(t["actor"], t["action"]) for t in timeline][-7:] == [
        ("user-lawyer-1", "closed"), ("user-lawyer-1", "closing_file_submitted"),
        ("checker-1", "closing_checked"),
        ("checker-1", "closing_checked"), ("lead-zhao", "closing_check_signed_off"), ("staff-li", "archived"),
        ("staff-wang", "follow_up")]
    assert timeline[-5]["summary"] == f"closing file check ({standard}): not passed; failed: hearing"
    assert (await intake_service.record(case["case_id"], ENTRIES[2])).status_code == 409
    listed = (await client.get("/api/v1/cases",
                               params={"status": "archived", "case_kind": kind["case_kind"]})).json()
    assert [c["case_id"] for c in listed["items"]] == [case["case_id"]]


async def test_aid_terminated_for_a_legal_reason_and_a_request_for_another_handler(intake_service):
    client = intake_service.client
    case = await intake_service.register()
    url = f"/api/v1/cases/{case['case_id']}"
    not_yet = await client.post(f"{url}/reassignment-requests",
                                json={"reason": "x", "category": "other"})
    assert not_yet.status_code == 409
    await intake_service.assign(case)
    asked = await client.post(f"{url}/reassignment-requests",
                              json={"reason": "受援人认为律师未及时会见",
                                    "category": "lack_of_diligence"})
    assert asked.status_code == 201 and asked.json()["case"]["reassignment_requested_at"]
    bad = await client.post(f"{url}/termination", json={"reason": "bored"})
    assert bad.status_code == 422 and "reason" in {e["field"] for e in bad.json()["errors"]}
    ended = await client.post(f"{url}/termination",
                              json={"reason": "own_lawyer_engaged"})
    assert ended.json()["status"] == "terminated"
    assert ended.json()["termination_reason"] == "own_lawyer_engaged"
    closing = await client.post(f"{url}/closure", headers=intake_service.handler(),
                                json={"outcome": "判决", "ended_on": today()})
    assert closing.status_code == 409
    timeline = (await client.get(f"{url}/timeline")).json()
    assert [t["action"] for t in timeline][-2:] == ["reassignment_requested", "terminated"]
    assert "未及时会见" not in str(timeline) and AIDED["name"] not in str(timeline)
    assert CRIMINAL["cause"] in (await client.get(url)).json()["cause"]
