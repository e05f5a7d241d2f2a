import asyncio
import hashlib
import hmac
import json

from sqlalchemy import text

from services.intake.tests.conftest import AIDED, CRIMINAL

NOTIFIED = {**CRIMINAL, "source_system": "chaoyang-court", "external_reference": "(2026)京0105刑初1234号"}


async def _outbox(app, type_suffix: str) -> list[dict]:
    async with app.state.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT data FROM outbox WHERE type LIKE :t ORDER BY position"),
                                   {"t": f"%{type_suffix}"})).all()
    return [r[0] if isinstance(r[0], dict) else json.loads(r[0]) for r in rows]


async def test_a_notifying_court_retrying_its_post_creates_one_case(intake_service):
    first = await intake_service.client.post("/api/v1/cases", json=NOTIFIED)
    retries = await asyncio.gather(*(intake_service.client.post("/api/v1/cases", json=NOTIFIED)
                                     for _ in range(5)))
    assert first.status_code == 201
    assert {r.status_code for r in retries} == {200}
    assert {r.json()["case_id"] for r in retries} == {first.json()["case_id"]}
    listed = (await intake_service.client.get("/api/v1/cases")).json()
    assert listed["total"] == 1 and listed["items"][0]["external_reference"] == NOTIFIED["external_reference"]
    assert len(await _outbox(intake_service.app, "case-registered.v1")) == 1
    # The court finds its case, and later who was assigned, by its own reference (R-ASG-7).
    await intake_service.assign(first.json())
    mine = (await intake_service.client.get("/api/v1/cases", params={
        "source_system": "chaoyang-court", "external_reference": NOTIFIED["external_reference"]})).json()
    assert [(c["case_id"], c["handler_name"], c["institution_name"]) for c in mine["items"]] == [
        (first.json()["case_id"], "王律师", "北京市明法律师事务所")]
    # Another court's case with the same reference is another case.
    other = await intake_service.client.post("/api/v1/cases",
                                             json={**NOTIFIED, "source_system": "haidian-court"})
    assert other.status_code == 201 and other.json()["case_id"] != first.json()["case_id"]


async def test_a_notification_names_both_its_system_and_its_reference(intake_service):
    half = {k: v for k, v in NOTIFIED.items() if k != "external_reference"}
    r = await intake_service.client.post("/api/v1/cases", json=half)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["external_reference"]
    case_id = (await intake_service.client.post("/api/v1/cases", json=CRIMINAL)).json()["case_id"]
    nxt = await intake_service.client.post(f"/api/v1/cases/{case_id}/next-stage", json={
        "criminal_stage": "prosecution_review", "source_system": "chaoyang-procuratorate"})
    assert nxt.status_code == 422 and [e["field"] for e in nxt.json()["errors"]] == ["external_reference"]


async def test_concurrent_first_notifications_make_one_case(intake_service):
    answers = await asyncio.gather(*(intake_service.client.post("/api/v1/cases", json=NOTIFIED)
                                     for _ in range(6)))
    assert sorted(r.status_code for r in answers) == [200] * 5 + [201]
    assert len({r.json()["case_id"] for r in answers}) == 1
    assert (await intake_service.client.get("/api/v1/cases")).json()["total"] == 1


async def test_an_idempotency_key_makes_a_repeated_registration_return_the_same_case(intake_service):
    headers = {"Idempotency-Key": "agency-form-7f3a"}
    first = await intake_service.client.post("/api/v1/cases", json=CRIMINAL, headers=headers)
    again = await intake_service.client.post("/api/v1/cases", json=CRIMINAL, headers=headers)
    fresh = await intake_service.client.post("/api/v1/cases", json=CRIMINAL)
    assert (first.status_code, again.status_code, fresh.status_code) == (201, 200, 201)
    assert again.json() == first.json() and fresh.json()["case_id"] != first.json()["case_id"]


async def test_every_case_kind_registers_with_its_stage_role_or_matter(intake_service):
    base = {k: v for k, v in CRIMINAL.items() if k not in ("criminal_stage", "criminal_role")}
    kinds = [
        {"case_kind": "criminal", "criminal_stage": "investigation", "criminal_role": "duty_lawyer_help"},
        {"case_kind": "criminal", "criminal_stage": "death_penalty_review", "criminal_role": "defence"},
        {"case_kind": "civil", "matter": "labour_arbitration"},
        {"case_kind": "administrative", "matter": "state_compensation"},
        {"case_kind": "non_litigation", "matter": "mediation"},
    ]
    for kind in kinds:
        created = (await intake_service.client.post("/api/v1/cases", json={**base, **kind})).json()
        assert {k: created[k] for k in kind} == kind
        fetched = (await intake_service.client.get(f"/api/v1/cases/{created['case_id']}")).json()
        assert fetched == created
    civil = (await intake_service.client.get("/api/v1/cases", params={"case_kind": "civil"})).json()
    assert civil["total"] == 1 and civil["items"][0]["matter"] == "labour_arbitration"


async def test_a_stage_or_matter_that_does_not_fit_the_kind_is_a_problem_naming_the_field(intake_service):
    base = {k: v for k, v in CRIMINAL.items() if k not in ("criminal_stage", "criminal_role")}
    for bad, field in (({"case_kind": "civil", "criminal_stage": "retrial"}, "criminal_stage"),
                       ({"case_kind": "administrative", "matter": "mediation"}, "matter"),
                       ({"case_kind": "criminal", "matter": "civil_litigation"}, "matter"),
                       ({"case_kind": "civil", "source_system": "court-x"}, "external_reference"),
                       ({"case_kind": "civil", "possible_death_penalty_or_life_imprisonment": True},
                        "possible_death_penalty_or_life_imprisonment")):
        response = await intake_service.client.post("/api/v1/cases", json={**base, **bad})
        assert response.status_code == 422, response.text
        assert field in {e["field"] for e in response.json()["errors"]}


async def test_adverse_parties_leave_intake_only_as_keyed_hashes(intake_service):
    parties = [{"name": "李四", "id_number": "110101198001011234"}, {"name": "某某科技有限公司"}]
    created = await intake_service.register(adverse_parties=parties,
                                            flags={"group_case": True, "head_count": 12})
    [published] = await _outbox(intake_service.app, "case-registered.v1")
    key = intake_service.app.state.settings.adverse_party_hash_key.get_secret_value().encode()
    expected = [hmac.new(key, b"id:110101198001011234", hashlib.sha256).hexdigest(),
                hmac.new(key, "name:某某科技有限公司".encode(), hashlib.sha256).hexdigest()]
    assert published["adverse_party_hashes"] == expected
    # The aided person leaves as a keyed hash of the same kind, so that assignment can tell whom a
    # handler acted for when that person is an adverse party of a later case.
    assert published["aided_person_hash"] == hmac.new(key, f"id:{AIDED['id_number']}".encode(),
                                                      hashlib.sha256).hexdigest()
    assert published["flags"]["head_count"] == 12 and published["criminal_stage"] == "first_instance"
    text_out = json.dumps(published, ensure_ascii=False) + json.dumps(created, ensure_ascii=False)
    for secret in ("李四", "110101198001011234", "某某科技", AIDED["name"], AIDED["id_number"],
                   AIDED["phone"]):
        assert secret not in text_out
    # The same party registered again hashes the same: the conflict check can match it.
    await intake_service.register(adverse_parties=[{"name": "李 四", "id_number": "110101198001011234"}])
    again = (await _outbox(intake_service.app, "case-registered.v1"))[1]
    assert again["adverse_party_hashes"] == expected[:1]
