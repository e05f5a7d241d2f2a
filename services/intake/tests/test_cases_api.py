import uuid

import pytest

from services.intake.app import MIGRATIONS, IntakeSettings, create_app
from services.intake.tests.conftest import today
from shared.auth import Role
from shared.testing.auth import TEST_DEV_SECRET, TEST_MASTER_KEYS, TEST_REF_KEY, as_role
from shared.testing.fixtures import serve_in_process

AIDED = {"name": "张三", "id_number": "110101199003071233", "phone": "13800138000",
         "address": "北京市朝阳区某路1号"}
CASE = {"case_kind": "criminal", "cause": "盗窃", "district": "朝阳区", "agency_id": "chaoyang-centre",
        "aided_person": AIDED}


@pytest.fixture
async def intake(migrated_settings):
    settings = await migrated_settings(IntakeSettings, MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False)
    async with serve_in_process(create_app(settings)) as client:
        client.settings = settings
        yield client


async def test_registered_case_is_readable_with_its_status_and_no_personal_data(intake):
    created = await intake.post("/api/v1/cases", json=CASE)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "registered" and body["case_number"].startswith("FY-")
    assert created.headers["location"] == f"/api/v1/cases/{body['case_id']}"
    fetched = await intake.get(f"/api/v1/cases/{body['case_id']}")
    assert fetched.json() == body
    assert "张三" not in fetched.text and AIDED["id_number"] not in fetched.text


async def test_cases_registered_one_after_another_get_ids_in_the_same_order(intake):
    # Time-ordered ids (UUID version 7, shared/ids.py): each index keyed by case id takes a new
    # case at its edge, so a year of cases does not make every registration read a random page.
    ids = []
    for _ in range(5):
        created = await intake.post("/api/v1/cases", json=CASE)
        assert created.status_code == 201, created.text
        ids.append(uuid.UUID(created.json()["case_id"]))
    assert all(case_id.version == 7 for case_id in ids)
    assert sorted(ids) == ids and len(set(ids)) == 5


async def test_invalid_registration_gets_a_problem_naming_each_field(intake):
    bad = {**CASE, "case_kind": "divorce", "aided_person": {**AIDED, "id_number": "123"}, "extra": 1}
    response = await intake.post("/api/v1/cases", json=bad)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"case_kind", "aided_person.id_number", "extra"}


async def test_a_handler_closing_a_case_not_assigned_to_them_finds_no_such_case(intake):
    case_id = (await intake.post("/api/v1/cases", json=CASE)).json()["case_id"]
    response = await intake.post(f"/api/v1/cases/{case_id}/closure",
                                 json={"outcome": "判决", "ended_on": today()},
                                 headers=as_role(intake.settings, Role.case_handler, handler_id="lawyer-1"))
    assert response.status_code == 404 and response.json()["status"] == 404


async def test_unknown_case_is_a_404_problem(intake):
    response = await intake.get("/api/v1/cases/nope")
    assert response.status_code == 404 and response.json()["status"] == 404


def test_every_endpoint_is_described_in_the_domains_words():
    spec = create_app(IntakeSettings(environment="dev", auth_dev_secret=TEST_DEV_SECRET,
                                     personal_data_master_keys=TEST_MASTER_KEYS,
                                     personal_data_ref_key=TEST_REF_KEY)).openapi()
    operations = [(path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()
                  if path.startswith("/api/v1/")]
    assert len(operations) >= 19
    for path, method, op in operations:
        assert op.get("summary") and len(op.get("description", "")) > 40, (method, path)
    assert spec["paths"]["/api/v1/cases/{case_id}/next-stage"]["post"]["summary"].endswith("(一案一卷)")
