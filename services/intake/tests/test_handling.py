import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.intake.projections import cases, rebuild
from services.intake.tests.conftest import AIDED, today

SCAN = b"%PDF-1.7 judgment"
ENTRIES = [
    {"kind": "mandate", "agreement_signed": True, "power_of_attorney_signed": True},
    {"kind": "meeting", "rights_explained": True, "obligations_explained": True, "risks_explained": False,
     "conversation_record": "受援人张三称案发当晚在家，联系电话13800138000"},
    {"kind": "file_review", "notes": "阅卷：起诉书、证人证言三份"},
    {"kind": "investigation_work", "description": "调取监控录像", "evidence": ["监控录像一份"]},
    {"kind": "legal_opinion", "opinion_kind": "defence_statement", "text": "辩护词：证据不足"},
    {"kind": "hearing", "venue": "北京市朝阳区人民法院"},
    {"kind": "report", "subject": "开庭情况", "text": "已参加庭审"},
    {"kind": "document", "title": "判决书", "media_type": "application/pdf", "size_bytes": len(SCAN),
     "sha256": hashlib.sha256(SCAN).hexdigest()},
]
# A meeting that told the aided person their rights, obligations and risks (R-HDL-1): with ENTRIES,
# the whole handling record a closing check asks for.
MEETING_IN_FULL = {"kind": "meeting", "rights_explained": True, "obligations_explained": True,
                   "risks_explained": True, "conversation_record": "告知诉讼风险"}
CHECKLIST = dict.fromkeys(("mandate_documents", "meeting_records", "file_review_notes",
                           "investigation_materials", "legal_opinion", "hearing_records", "outcome_document",
                           "reports_to_agency"), True)


async def test_the_handling_record_and_timeline_show_who_did_what_without_personal_data(intake_service):
    case = await intake_service.register(registered_by="staff-1")
    early = await intake_service.record(case["case_id"], ENTRIES[1])
    assert early.status_code == 404  # nobody's handler yet: for a handler, no such case
    await intake_service.assign(case)
    for entry in ENTRIES:
        response = await intake_service.record(case["case_id"], entry, author="lawyer-1")
        assert response.status_code == 201, response.text
    again = await intake_service.record(case["case_id"], ENTRIES[2], entry_id="e-1")
    same = await intake_service.record(case["case_id"], ENTRIES[2], entry_id="e-1")
    assert again.json()["record_entries"] == same.json()["record_entries"] == len(ENTRIES) + 1
    url = f"/api/v1/cases/{case['case_id']}"
    await intake_service.client.post(f"{url}/closure", headers=intake_service.handler(),
                                     json={"outcome": "判决", "ended_on": today()})
    closing = await intake_service.client.post(f"{url}/closing-file", headers=intake_service.handler(),
                                               json={"checklist": CHECKLIST})
    assert closing.status_code == 200 and closing.json()["closing_file_at"] is not None

    timeline = (await intake_service.client.get(f"/api/v1/cases/{case['case_id']}/timeline")).json()
    assert [(t["actor"], t["action"]) for t in timeline] == [
        ("staff-1", "registered"), ("assignment", "assigned"),
        *[("user-lawyer-1", e["kind"]) for e in ENTRIES], ("user-lawyer-1", "file_review"),
        ("user-lawyer-1", "closed"), ("user-lawyer-1", "closing_file_submitted")]
    assert "explained: rights, obligations" in timeline[3]["summary"]
    assert hashlib.sha256(SCAN).hexdigest() in timeline[9]["summary"]
    for secret in (AIDED["name"], AIDED["phone"], AIDED["id_number"], "案发当晚"):
        assert secret not in str(timeline)


async def test_a_bad_entry_is_a_problem_naming_its_field(intake_service):
    case = await intake_service.register()
    await intake_service.assign(case)
    bad = await intake_service.record(case["case_id"], {**ENTRIES[7], "sha256": "not-a-checksum"})
    assert bad.status_code == 422 and "entry.document.sha256" in {e["field"] for e in bad.json()["errors"]}
    future = await intake_service.record(case["case_id"], ENTRIES[2],
                                         at=(datetime.now(UTC) + timedelta(days=2)).isoformat())
    assert future.status_code == 422


async def test_the_state_as_of_a_past_moment_is_the_state_read_then(intake_service):
    case = await intake_service.register()
    url = f"/api/v1/cases/{case['case_id']}"
    seen = [(datetime.now(UTC), (await intake_service.client.get(url)).json())]
    await intake_service.assign(case)
    await intake_service.record(case["case_id"], ENTRIES[0])
    seen.append((datetime.now(UTC), (await intake_service.client.get(url)).json()))
    await intake_service.record(case["case_id"], ENTRIES[1])
    await intake_service.client.post(f"{url}/closure", headers=intake_service.handler(),
                                     json={"outcome": "判决", "ended_on": today()})
    seen.append((datetime.now(UTC), (await intake_service.client.get(url)).json()))
    for moment, view in seen:
        as_of = await intake_service.client.get(url, params={"as_of": moment.isoformat()})
        assert as_of.json() == view
    assert [v["status"] for _, v in seen] == ["registered", "assigned", "closed"]
    before = await intake_service.client.get(url, params={"as_of": "2000-01-01T00:00:00+08:00"})
    assert before.status_code == 404


async def test_rebuilding_the_projections_from_the_store_gives_identical_tables(intake_service):
    for n in range(3):
        case = await intake_service.register(cause=f"盗窃{n}")
        if n:
            await intake_service.assign(case)
            for entry in ENTRIES[: 2 * n]:
                await intake_service.record(case["case_id"], entry)
        if n == 2:
            await intake_service.client.post(f"/api/v1/cases/{case['case_id']}/closure",
                                             headers=intake_service.handler(),
                                             json={"outcome": "调解", "ended_on": today()})
    engine = intake_service.app.state.engine

    async def table():
        async with engine.connect() as conn:
            rows = (await conn.execute(select(cases))).mappings().all()
            return sorted(map(dict, rows), key=lambda r: r["case_id"])

    before = await table()
    assert await rebuild(engine) == 3 + 2 + (2 + 4) + 1  # registered, assigned, entries, closed
    assert await table() == before


async def test_the_rebuild_projections_verb_refolds_the_case_list(intake_service):
    import asyncio
    import os
    import subprocess
    import sys

    from sqlalchemy import text as sql
    from sqlalchemy.engine import make_url

    case = await intake_service.register()
    await intake_service.assign(case)
    engine, settings = intake_service.app.state.engine, intake_service.app.state.settings
    async with engine.begin() as conn:
        await conn.execute(sql("UPDATE cases SET status = 'garbled', handler_name = NULL"))
    env = {**os.environ, "FAYUAN_DATABASE_URL": settings.database_url,
           "FAYUAN_DATABASE_NAME": make_url(settings.sqlalchemy_url).database}
    done = await asyncio.to_thread(subprocess.run,
                                   [sys.executable, "-m", "services.intake", "rebuild-projections"],
                                   env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "from 2 events" in done.stdout
    fetched = (await intake_service.client.get(f"/api/v1/cases/{case['case_id']}")).json()
    assert (fetched["status"], fetched["handler_name"]) == ("assigned", "王律师")
