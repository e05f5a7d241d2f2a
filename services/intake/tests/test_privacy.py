"""The aided person's personal data in intake (docs/privacy.md), over HTTP and in the database
itself: sealed per person in the store (the raw events table holds tokens, never a value), shown
unmasked only to agency staff and the case's handler (each look recorded for auditors), masked to
the others, and erased by crypto-shredding with the case and its history still readable."""

import asyncio
import json
import os
import subprocess
import sys

from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.intake.app import ConfigurationError, IntakeSettings, create_app
from services.intake.domain.people import SealedPerson
from services.intake.projections import rebuild
from services.intake.tests.conftest import AIDED, LAWYER, today
from shared.auth import Role
from shared.personal_data import Erased, VaultConfigError
from shared.testing.auth import TEST_DEV_SECRET, TEST_MASTER_KEYS, TEST_REF_KEY, as_role
from shared.testing.pii_scan import scan

PARTY = {"name": "李四", "id_number": "110101198001011232"}
MASKED = {"name": "张*", "id_number": "110101********1233", "phone": "138****8000",
          "address": "北京市朝阳区****"}


async def _rows(app, sql: str, **params: str) -> list[str]:
    async with app.state.engine.connect() as conn:
        rows = (await conn.execute(text(sql), params)).all()
    return [json.dumps(list(r), ensure_ascii=False, default=str) for r in rows]


async def test_the_store_and_the_tables_hold_tokens_never_the_persons_values(intake_service):
    case = await intake_service.register(adverse_parties=[PARTY])
    await intake_service.assign(case)
    events = await _rows(intake_service.app, "SELECT type, data FROM events")
    tables = await _rows(intake_service.app, "SELECT * FROM cases") + await _rows(intake_service.app,
                                                                                "SELECT data FROM outbox")
    hits = scan({f"row {n}": row for n, row in enumerate(events + tables)},
                [*AIDED.values(), *PARTY.values()])
    assert not hits, "\n".join(map(str, hits))
    registered = json.loads(events[0])[1]
    assert registered["aided_person"]["sealed"]["name"].startswith("pd1:1:")
    assert registered["adverse_parties"][0]["sealed"]["id_number"].startswith("pd1:1:")
    assert registered["aided_person"]["person_ref"] != registered["adverse_parties"][0]["person_ref"]


async def test_staff_and_the_handler_see_the_values_and_are_recorded_others_see_masks(intake_service):
    client = intake_service.client
    case = await intake_service.register()
    await intake_service.assign(case)
    url = f"/api/v1/cases/{case['case_id']}/aided-person"
    settings = intake_service.app.state.settings
    agency = case["agency_id"]
    staff = as_role(settings, Role.agency_staff, sub="clerk-li", agency_id=agency)
    for headers in (staff, intake_service.handler(LAWYER.handler_id)):
        shown = (await client.get(url, headers=headers)).json()
        assert shown["masked"] is False and shown["erased"] is False
        assert {k: shown[k] for k in AIDED} == AIDED
    for role in (Role.closing_checker, Role.quality_lead, Role.bureau_investigator, Role.auditor):
        shown = (await client.get(url, headers=as_role(settings, role, sub=f"user-{role}",
                                                        agency_id=agency))).json()
        assert shown["masked"] is True and {k: shown[k] for k in AIDED} == MASKED, role
    reads = (await client.get("/api/v1/audit/personal-data-reads",
                              params={"case_id": case["case_id"]})).json()
    assert [(r["actor"], r["role"]) for r in reads] == [("user-lawyer-1", "case_handler"),
                                                        ("clerk-li", "agency_staff")]
    assert reads[0]["fields"] == sorted(AIDED)  # masked answers are not reads of the values
    assert not scan({"reads": json.dumps(reads, ensure_ascii=False)}, AIDED.values())


async def test_erasure_makes_the_person_unreadable_and_keeps_the_case_whole(intake_service):
    client, app = intake_service.client, intake_service.app
    case = await intake_service.register()
    await intake_service.assign(case)
    url = f"/api/v1/cases/{case['case_id']}"
    before = (await client.get(url)).json()
    timeline = (await client.get(f"{url}/timeline")).json()
    order = {"id_number": AIDED["id_number"], "reason": "受援人申请删除个人信息"}
    assert (await client.post("/api/v1/aided-persons/erasure", json=order,
                              headers=as_role(app.state.settings, Role.auditor))).status_code == 403
    bad = await client.post("/api/v1/aided-persons/erasure",
                            json={**order, "id_number": "110101199003071234"})
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["id_number"]
    assert AIDED["id_number"][:17] not in bad.text
    unknown = await client.post("/api/v1/aided-persons/erasure",
                                json={**order, "id_number": PARTY["id_number"]})
    assert unknown.status_code == 404

    erased = await client.post("/api/v1/aided-persons/erasure", json=order)
    assert erased.status_code == 200, erased.text
    again = await client.post("/api/v1/aided-persons/erasure", json=order)
    assert again.json() == erased.json() and erased.json()["erased_by"] == "staff-1"
    ref = erased.json()["person_ref"]

    # The API: erased, and the case, its history and its past are as before.
    shown = (await client.get(f"{url}/aided-person")).json()
    assert shown["erased"] is True and shown["erased_at"] and all(shown[k] is None for k in AIDED)
    assert (await client.get(url)).json() == before
    assert (await client.get(f"{url}/timeline")).json() == timeline
    assert (await client.get(url, params={"as_of": before["assigned_at"]})).status_code == 200
    assert await rebuild(app.state.engine) == 2 and (await client.get(url)).json() == before
    # The store: the tokens stay and no longer open.
    [registered] = await _rows(app,
                               "SELECT data FROM events WHERE stream_id = :s AND type = 'CaseRegistered'",
                               s=f"case-{case['case_id']}")
    person = SealedPerson.model_validate(json.loads(registered)[0]["aided_person"])
    async with app.state.engine.connect() as conn:
        assert isinstance(await app.state.vault.unseal(conn, person.person_ref, person.sealed), Erased)
    assert person.person_ref == ref
    # Who did it, recorded on the person's own stream.
    audited = (await client.get(f"/api/v1/audit/streams/aided-person-{ref}/events")).json()
    assert [(e["type"], e["actor"], e["role"]) for e in audited] == [("AidedPersonErased", "staff-1",
                                                                     "agency_staff")]
    # The next stage of the erased person's case copies tokens that stay unreadable.
    await client.post(f"{url}/closure", headers=intake_service.handler(),
                      json={"outcome": "移送", "ended_on": today()})
    following = await client.post(f"{url}/next-stage", json={"criminal_stage": "second_instance"})
    assert following.status_code == 201, following.text
    following_person = await client.get(f"/api/v1/cases/{following.json()['case_id']}/aided-person")
    assert following_person.json()["erased"] is True
    # The same person applying again gets a new key: the new case is readable, the old stays erased.
    later = await intake_service.register()
    later_person = await client.get(f"/api/v1/cases/{later['case_id']}/aided-person")
    assert later_person.json()["name"] == AIDED["name"]
    assert (await client.get(f"{url}/aided-person")).json()["erased"] is True


async def test_operators_erase_from_the_command_line_as_the_api_does(intake_service):
    case = await intake_service.register()
    settings = intake_service.app.state.settings
    env = {**os.environ, "FAYUAN_DATABASE_URL": settings.database_url, "FAYUAN_ENVIRONMENT": "dev",
           "FAYUAN_DATABASE_NAME": make_url(settings.sqlalchemy_url).database,
           "FAYUAN_PERSONAL_DATA_MASTER_KEYS": TEST_MASTER_KEYS, "FAYUAN_PERSONAL_DATA_REF_KEY": TEST_REF_KEY}
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "services.intake", "erase-aided-person", "--actor", "ops-1",
                         "--reason", "受援人申请"], input=AIDED["id_number"] + "\n", env=env,
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert AIDED["id_number"] not in done.stdout + done.stderr
    shown = (await intake_service.client.get(f"/api/v1/cases/{case['case_id']}/aided-person")).json()
    assert shown["erased"] is True
    ref = done.stdout.split("erased ")[1].split()[0]
    audited = (await intake_service.client.get(f"/api/v1/audit/streams/aided-person-{ref}/events")).json()
    assert [(e["actor"], e["role"]) for e in audited] == [("ops-1", "operator")]


def test_intake_refuses_to_start_without_its_keys():
    keys = {"personal_data_master_keys": TEST_MASTER_KEYS, "personal_data_ref_key": TEST_REF_KEY}
    try:
        create_app(IntakeSettings(environment="prod", **keys))
        raise AssertionError("started with the development hash key in prod")
    except ConfigurationError as refused:
        assert "FAYUAN_ADVERSE_PARTY_HASH_KEY" in str(refused)
    create_app(IntakeSettings(environment="prod", adverse_party_hash_key="a-production-key-" + "x" * 32,
                              **keys))
    try:
        create_app(IntakeSettings(environment="dev", auth_dev_secret=TEST_DEV_SECRET))
        raise AssertionError("started without personal-data keys")
    except VaultConfigError as refused:
        assert "FAYUAN_PERSONAL_DATA" in str(refused)
