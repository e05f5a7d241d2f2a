"""The aided person's personal data stays in intake (docs/privacy.md). A person with a name,
resident ID number, phone and address that appear nowhere else, and two adverse parties, go
through the whole flow across the five processes (registration, assignment, the handling record,
closure, closing check, a failed peer evaluation of a lawyer, the investigation, the notice to
the bar association, the disclosure); then every record on every topic of the stack, every line
the five processes wrote, every export and every API response that is not the person's data,
and every row of the other four services' databases are scanned for those values, in every
encoding shared/testing/pii_scan.py knows. A hit names where it was found, never the value.

One stack for the whole module: the flow runs once (a module fixture) and each test examines one
kind of place, so a failure says where the data leaked. The module also holds the cheap checks of
the running stack's security: a protected endpoint without a token, the public disclosure."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import httpx
import pytest

from shared.testing.kafka import eventually
from shared.testing.pii_scan import scan
from shared.validation import id_check_char
from tests.e2e.flow import (
    assigned,
    auditor,
    bar_association,
    close,
    closing_check,
    current_period,
    fail_evaluation,
    investigator,
    ok,
    record_work,
    recruit_pool,
    register,
    staff,
)
from tests.e2e.leaks import database_texts, log_texts, topic_texts

pytestmark = pytest.mark.e2e

AGENCY = "gusu"
_FIRST17 = "32050819870419351"
PERSON = {"name": "欧阳雪晴", "id_number": _FIRST17 + id_check_char(_FIRST17), "phone": "15923456781",
          "address": "江苏省苏州市姑苏区平江路八十八号"}
_ADVERSE17 = "32050819800101001"
ADVERSE = [{"name": "司马光耀", "id_number": _ADVERSE17 + id_check_char(_ADVERSE17)}, {"name": "诸葛明远"}]
NEEDLES = [*PERSON.values(), ADVERSE[0]["name"], ADVERSE[0]["id_number"], ADVERSE[1]["name"]]
OTHER_SERVICES = ("assignment", "evaluation", "sanctions", "publication")
SECURITY_HEADERS = {"x-content-type-options": "nosniff", "cache-control": "no-store",
                    "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


def _body() -> dict:
    return {"case_kind": "criminal", "cause": "故意伤害", "district": "姑苏区", "agency_id": AGENCY,
            "aided_person": PERSON, "adverse_parties": ADVERSE}


def _hits(texts: dict) -> str:
    return "\n".join(map(str, scan(texts, NEEDLES)))


@dataclass(frozen=True)
class Produced:
    """What the flow produced; its repr leaves the responses out, so a failing test's report
    (which shows the fixtures' values) does not print what the scan was looking for."""

    case: dict
    responses: dict[str, bytes] = field(repr=False)


@pytest.fixture(scope="module")
async def produced(module_stack) -> Produced:
    """Run the flow once; return the case and every response and export it produced that is not
    the aided person's own data, read by the roles that read them (masked roles for intake)."""
    stack = module_stack
    clients = {name: httpx.AsyncClient(base_url=stack.url(name), timeout=20) for name in stack.ports}
    intake, assignment, evaluation, sanctions, publication = (
        clients[n] for n in ("intake", "assignment", "evaluation", "sanctions", "publication"))
    try:
        _, (lawyer,) = await recruit_pool(assignment, stack, agency_id=AGENCY, lawyers=1)
        case = await assigned(intake, stack, await register(intake, stack, _body()))
        assert case["handler_id"] == lawyer["handler_id"]
        await record_work(intake, stack, case, "会见受援人, 告知权利义务和诉讼风险")
        await close(intake, stack, case)
        await closing_check(intake, stack, case)
        await fail_evaluation(evaluation, stack, case)

        async def notice():
            page = await ok(await sanctions.get("/api/v1/bar-notices", headers=bar_association(stack)))
            return next((n for n in page["items"] if n["case_id"] == case["case_id"]), None)

        await eventually(notice, timeout=90)

        async def disclosed():
            # The bureau's live draft (the public reads a disclosure once it is published).
            response = await publication.get(f"/api/v1/disclosures/drafts/{current_period()}",
                                             headers=investigator(stack))
            rows = (await ok(response))["tables"]["evaluation_results"]["rows"]
            return response if any(r["case_number"] == case["case_number"] for r in rows) else None

        disclosure = await eventually(disclosed, timeout=90)
        month = date.today().strftime("%Y-%m")
        as_auditor, as_staff = auditor(stack), staff(stack, AGENCY)
        reads = {
            "intake case list": (intake, "/api/v1/cases", {}, as_auditor),
            "intake case": (intake, f"/api/v1/cases/{case['case_id']}", {}, as_auditor),
            "intake timeline": (intake, f"/api/v1/cases/{case['case_id']}/timeline", {}, as_auditor),
            "intake deadlines": (intake, f"/api/v1/cases/{case['case_id']}/deadlines", {}, as_auditor),
            "assignment decision record": (assignment, f"/api/v1/cases/{case['case_id']}/assignment", {},
                                           as_auditor),
            "assignment monthly report csv": (assignment, "/api/v1/assignments/reports/monthly",
                                              {"agency_id": AGENCY, "month": month, "format": "csv"},
                                              as_staff),
            "assignment monthly report xlsx": (assignment, "/api/v1/assignments/reports/monthly",
                                               {"agency_id": AGENCY, "month": month, "format": "xlsx"},
                                               as_staff),
            "assignment fairness report": (assignment, "/api/v1/assignments/reports/fairness",
                                           {"agency_id": AGENCY, "month": month}, as_staff),
            "evaluations": (evaluation, "/api/v1/evaluations", {}, as_auditor),
            "investigations": (sanctions, "/api/v1/investigations", {}, investigator(stack)),
            "bar notices": (sanctions, "/api/v1/bar-notices", {}, bar_association(stack)),
            "disclosure csv": (publication, f"/api/v1/disclosures/drafts/{current_period()}",
                               {"format": "csv"}, investigator(stack)),
            **{f"disclosure csv {table}": (publication, f"/api/v1/disclosures/drafts/{current_period()}",
                                           {"format": "csv", "table": table}, investigator(stack))
               for table in ("subsidy_payments", "cases_per_institution", "cases_per_person")},
            "disclosure xlsx": (publication, f"/api/v1/disclosures/drafts/{current_period()}",
                                {"format": "xlsx"}, investigator(stack)),
            "disclosure html": (publication, f"/api/v1/disclosures/drafts/{current_period()}",
                                {"format": "html"}, investigator(stack)),
        }
        responses: dict[str, bytes] = {"disclosure json": disclosure.content}
        for source, (client, path, params, headers) in reads.items():
            response = await client.get(path, params=params, headers=headers)
            assert response.status_code == 200, f"{source}: {response.status_code} {response.text[:500]}"
            responses[source] = response.content
        return Produced(case, responses)
    finally:
        for client in clients.values():
            await client.aclose()


def test_the_scan_finds_the_seeded_values_where_they_are():
    """The control: the registration body holds every value, so a scan that found nothing
    elsewhere would have found them there."""
    found = {hit.needle for hit in scan({"registration body": json.dumps(_body())}, NEEDLES)}
    assert found == set(NEEDLES)


async def test_no_personal_data_on_any_topic(module_stack, produced, kafka_bootstrap):
    texts = await topic_texts(kafka_bootstrap, module_stack.env["FAYUAN_TOPIC_PREFIX"])
    assert any("bar-association" in source for source in texts), sorted(texts)
    hits = _hits(texts)
    assert not hits, hits


def test_no_personal_data_in_the_logs_of_the_five_processes(module_stack, produced):
    texts = log_texts(module_stack.workdir)
    assert len(texts) >= 5, sorted(texts)
    hits = _hits(texts)
    assert not hits, hits


def test_no_personal_data_in_exports_and_api_responses(produced):
    hits = _hits(produced.responses)
    assert not hits, hits


async def test_no_personal_data_in_the_other_services_databases(module_stack, produced, database_server_url):
    texts = {}
    for service in OTHER_SERVICES:
        texts |= await database_texts(database_server_url, f"{module_stack.database_prefix}_{service}")
    assert any("table events" in source for source in texts), sorted(texts)
    hits = _hits(texts)
    assert not hits, hits


async def test_intake_event_store_holds_the_personal_data_only_sealed(
    module_stack, produced, database_server_url,
):
    """Intake keeps the person's data, but sealed (docs/privacy.md): tokens in its events, never
    the values. (Fails until intake seals what it records.)"""
    texts = await database_texts(database_server_url, f"{module_stack.database_prefix}_intake", ["events"])
    hits = _hits(texts)
    assert not hits, hits


PROTECTED = [("intake", "/api/v1/cases"), ("assignment", "/api/v1/handlers"),
             ("evaluation", "/api/v1/evaluations"), ("sanctions", "/api/v1/investigations"),
             *((name, "/api/v1/audit/personal-data-reads") for name in (
                 "intake", "assignment", "evaluation", "sanctions", "publication"))]


@pytest.mark.parametrize(("service", "path"), PROTECTED, ids=[f"{s} {p}" for s, p in PROTECTED])
def test_without_a_token_a_running_service_answers_401_with_its_security_headers(module_stack, service, path):
    response = httpx.get(module_stack.url(service) + path, timeout=10)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"] == 'Bearer realm="fayuan"'
    assert response.json()["status"] == 401
    for header, value in SECURITY_HEADERS.items():
        assert response.headers.get(header) == value, (header, dict(response.headers))
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_the_public_reads_no_draft_and_staff_read_the_case_in_it(module_stack, produced):
    url = module_stack.url("publication") + f"/api/v1/disclosures/{current_period()}"
    unpublished = httpx.get(url, timeout=10)
    assert unpublished.status_code == 404, unpublished.text
    assert produced.case["case_number"] not in unpublished.text
    response = httpx.get(module_stack.url("publication") + f"/api/v1/disclosures/drafts/{current_period()}",
                         headers=investigator(module_stack), timeout=10)
    assert response.status_code == 200, response.text
    rows = response.json()["tables"]["evaluation_results"]["rows"]
    assert any(r["case_number"] == produced.case["case_number"] for r in rows)
    assert response.headers["cache-control"] == "no-store"
