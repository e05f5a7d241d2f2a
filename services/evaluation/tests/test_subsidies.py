"""Case subsidies over HTTP, fed with intake's events through the broker (R-CHK-2, R-CHK-3,
R-EVL-7): computed at the quality lead's sign-off by the schedule version in effect, approved and
paid by the agency's finance, withheld, reduced or recovered after a failed peer evaluation.

Worked examples (the seed is domain.md's Beijing examples; its other amounts are to confirm):
criminal defence at the investigation stage 1,200 yuan; a civil case 1,500 (the civil general
line); a group case at first instance 2,000 x 1.5 = 3,000; an institution's contract price 1,000
instead of the line."""

import uuid
from datetime import UTC, date, datetime

import pytest

from services.evaluation.app import MIGRATIONS, EvaluationSettings, create_app
from services.evaluation.tests.test_evaluations_api import HANDLER, REVIEWER, evaluation_of, reviewer
from shared.auth import Role
from shared.contracts import (
    CaseClosed,
    CaseFlags,
    CaseKind,
    CaseRegistered,
    ClosingCheckSignedOff,
    HandlerRef,
)
from shared.contracts.evaluation import SUBSIDIES
from shared.contracts.intake import CriminalStage, Matter
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish, read_topic

AGENCY = "chaoyang-centre"
SIGNED_OFF_AT = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
OTHER_FIRM_HANDLER = HandlerRef(handler_id="lawyer-zhou", name="周华", kind="lawyer",
                                licence_number="11101201110000002", institution_id="firm-c",
                                institution_name="北京丙律师事务所")


@pytest.fixture
async def service(migrated_settings):
    settings = await migrated_settings(EvaluationSettings, MIGRATIONS)
    app = create_app(settings)
    async with serve_in_process(app) as client:
        yield settings, app, client


def finance(settings, agency_id: str = AGENCY) -> dict[str, str]:
    return as_role(settings, Role.finance, agency_id=agency_id, sub=f"finance-of-{agency_id}")


def registered(kind: CaseKind = CaseKind.criminal, *, stage: CriminalStage | None = None,
               matter: Matter | None = None, group_case: bool = False) -> CaseRegistered:
    n = uuid.uuid4().hex[:6]
    return CaseRegistered(
        case_id=f"case-{n}", case_number=f"京朝法援〔2026〕第{n}号", case_kind=kind, cause="盗窃罪",
        district="朝阳区", agency_id=AGENCY,
        flags=CaseFlags(group_case=group_case, head_count=12 if group_case else None),
        registered_at=datetime(2026, 9, 1, 2, 0, tzinfo=UTC), criminal_stage=stage, matter=matter,
    )


def signed_off(case: CaseRegistered, handler: HandlerRef = HANDLER) -> ClosingCheckSignedOff:
    standard = "SF/T 0086-2020" if case.case_kind == CaseKind.criminal else "SF/T 0085-2020"
    return ClosingCheckSignedOff(case_id=case.case_id, case_number=case.case_number, case_kind=case.case_kind,
                                 agency_id=case.agency_id, handler=handler, standard=standard,
                                 checked_by="checker-sun", signed_off_by="quality-lead-qian",
                                 signed_off_at=SIGNED_OFF_AT)


async def computed(service, case: CaseRegistered, handler: HandlerRef = HANDLER) -> dict:
    """Intake registers the case and, at its end, the quality lead signs its closing check off;
    the subsidy as evaluation computed it."""
    settings, _, client = service
    await publish(settings, case, signed_off(case, handler), source="/fayuan/intake")

    async def found():
        response = await client.get(f"/api/v1/subsidies/{case.case_id}")
        return response.json() if response.status_code == 200 else None

    return await eventually(found)


async def test_criminal_defence_at_the_investigation_stage_is_1200_yuan_approved_by_finance(service):
    settings, _, client = service
    case = registered(stage=CriminalStage.investigation)
    subsidy = await computed(service, case)
    assert (subsidy["amount"], subsidy["status"], subsidy["schedule_version"]) == (
        "1200.00", "computed", "beijing-2011-seed")
    assert subsidy["stage"] == "investigation"
    assert [(line["source"], line["key"], line["unit_price"]) for line in subsidy["lines"]] == [
        ("schedule", "criminal/investigation", "1200")]
    assert subsidy["handler"] == HANDLER.model_dump(mode="json")
    assert subsidy["signed_off_by"] == "quality-lead-qian"

    approved = await client.post(f"/api/v1/subsidies/{case.case_id}/approval", headers=finance(settings))
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["approved_by"]) == ("approved",
                                                                          "finance-of-chaoyang-centre")
    again = await client.post(f"/api/v1/subsidies/{case.case_id}/approval", headers=finance(settings))
    assert again.json() == approved.json()

    events = await read_topic(settings.kafka_bootstrap_servers, settings.topic(SUBSIDIES), expect=1)
    assert [e.type for e in events] == ["legalaid.evaluation.subsidy-approved.v1"]
    data = events[0].data
    assert (data["amount"], data["schedule_version"], data["case_kind"]) == ("1200.00", "beijing-2011-seed",
                                                                             "criminal")


async def test_a_civil_case_is_paid_by_the_civil_line(service):
    subsidy = await computed(service, registered(CaseKind.civil, matter=Matter.civil_litigation))
    assert (subsidy["amount"], subsidy["stage"]) == ("1500.00", "civil_litigation")
    assert [line["key"] for line in subsidy["lines"]] == ["civil/*"]


async def test_a_group_case_is_paid_the_line_times_the_group_multiplier(service):
    subsidy = await computed(service, registered(stage=CriminalStage.first_instance, group_case=True))
    assert subsidy["amount"] == "3000.00"
    assert subsidy["group_case"] is True
    lines = [(x["source"], x["key"], x["unit_price"], x["multiplier"]) for x in subsidy["lines"]]
    assert lines == [("schedule", "criminal/first_instance", "2000", None),
                     ("circumstance", "group_case", None, "1.5")]


VERSION = {
    "effective_from": "2026-07-01",
    "lines": [{"case_kind": "criminal", "stage": "investigation", "amount": "1300"},
              {"case_kind": "criminal", "amount": "1800"},
              {"case_kind": "civil", "amount": "1600"},
              {"case_kind": "administrative", "amount": "1600"},
              {"case_kind": "non_litigation", "amount": "500"}],
    "group_case_multiplier": "1.2",
    "contract_prices": [{"institution_id": "firm-a", "contract_reference": "CY-2026-采购-07",
                         "case_kind": "criminal", "amount": "1000", "valid_from": "2026-07-01"}],
    "failed_evaluation": {"action": "reduce", "percent": "30"},
}


async def test_an_institutions_contract_price_overrides_the_schedule_line(service):
    settings, _, client = service
    published = await client.post(f"/api/v1/subsidy-schedules/{AGENCY}/versions", json=VERSION,
                                  headers=finance(settings))
    assert published.status_code == 201, published.text
    assert [(v["version"], v["seed"]) for v in published.json()["versions"]] == [
        ("beijing-2011-seed", True), ("chaoyang-centre-v1", False)]

    by_contract = await computed(service, registered(stage=CriminalStage.investigation))
    assert (by_contract["amount"], by_contract["schedule_version"]) == ("1000.00", "chaoyang-centre-v1")
    assert [(line["source"], line["contract_reference"]) for line in by_contract["lines"]] == [
        ("contract", "CY-2026-采购-07")]
    # Another institution, without a contract: the version's line.
    by_line = await computed(service, registered(stage=CriminalStage.investigation), OTHER_FIRM_HANDLER)
    assert (by_line["amount"], by_line["lines"][0]["key"]) == ("1300.00", "criminal/investigation")
    assert (await client.get(f"/api/v1/subsidy-schedules/{AGENCY}")).json() == published.json()


async def test_a_schedule_needs_a_general_line_per_kind_and_is_published_by_its_own_agency(service):
    settings, _, client = service
    incomplete = {**VERSION, "lines": VERSION["lines"][:3]}
    refused = await client.post(f"/api/v1/subsidy-schedules/{AGENCY}/versions", json=incomplete,
                                headers=finance(settings))
    assert refused.status_code == 422
    assert "administrative" in refused.json()["detail"] and "non_litigation" in refused.json()["detail"]
    other = await client.post(f"/api/v1/subsidy-schedules/{AGENCY}/versions", json=VERSION,
                              headers=finance(settings, "haidian-centre"))
    assert other.status_code == 403
    misspelt = {**VERSION, "lines": [*VERSION["lines"], {"case_kind": "criminal", "stage": "trial",
                                                          "amount": "2000"}]}
    unknown_stage = await client.post(f"/api/v1/subsidy-schedules/{AGENCY}/versions", json=misspelt,
                                      headers=finance(settings))
    assert unknown_stage.status_code == 422
    assert "first_instance" in unknown_stage.text
    float_money = await client.post(f"/api/v1/subsidy-schedules/{AGENCY}/versions",
                                    json={**VERSION, "group_case_multiplier": "1.234"},
                                    headers=finance(settings))
    assert float_money.status_code == 422
    assert "group_case_multiplier" in float_money.text


async def test_approval_is_refused_before_the_sign_off(service):
    settings, _, client = service
    case = registered(stage=CriminalStage.investigation)
    closed = CaseClosed(case_id=case.case_id, case_number=case.case_number, case_kind=case.case_kind,
                        district="朝阳区", agency_id=AGENCY, handler=HANDLER, outcome="撤案",
                        ended_on=date(2026, 10, 20), closed_at=datetime(2026, 10, 30, 2, 0, tzinfo=UTC))
    await publish(settings, case, closed, source="/fayuan/intake")

    async def known():
        items = (await client.get("/api/v1/cases/awaiting-evaluation")).json()["items"]
        return [i for i in items if i["case_id"] == case.case_id]

    await eventually(known)  # closed, but its closing check not signed off
    payment = {"paid_on": "2026-11-25", "payment_reference": "P-1"}
    for action, body in (("approval", None), ("payment", payment)):
        refused = await client.post(f"/api/v1/subsidies/{case.case_id}/{action}", json=body,
                                    headers=finance(settings))
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["rule"] == "R-CHK-2"
    assert (await client.get(f"/api/v1/subsidies/{case.case_id}")).status_code == 404


async def test_payment_needs_an_approval_and_is_recorded_once_when_retried(service):
    settings, _, client = service
    case = registered(stage=CriminalStage.investigation)
    await computed(service, case)
    pay = {"paid_on": "2026-11-25", "payment_reference": "CZ-20261125-0042"}
    early = await client.post(f"/api/v1/subsidies/{case.case_id}/payment", json=pay,
                              headers=finance(settings))
    assert (early.status_code, early.json()["rule"]) == (409, "R-CHK-2")
    assert (await client.post(f"/api/v1/subsidies/{case.case_id}/approval",
                              headers=finance(settings))).status_code == 200

    headers = {**finance(settings), "Idempotency-Key": "pay-7f3a"}
    paid = await client.post(f"/api/v1/subsidies/{case.case_id}/payment", json=pay, headers=headers)
    assert paid.status_code == 200, paid.text
    body = paid.json()
    assert (body["status"], body["paid_on"], body["payment_reference"], body["amount"]) == (
        "paid", "2026-11-25", "CZ-20261125-0042", "1200.00")
    # The same reference again, and the same Idempotency-Key again (whatever its body): the first result.
    assert (await client.post(f"/api/v1/subsidies/{case.case_id}/payment", json=pay,
                              headers=finance(settings))).json() == body
    retried = await client.post(f"/api/v1/subsidies/{case.case_id}/payment",
                                json={**pay, "payment_reference": "CZ-retyped"}, headers=headers)
    assert (retried.status_code, retried.json()) == (200, body)
    # Another payment of a paid subsidy is a conflict.
    other = await client.post(f"/api/v1/subsidies/{case.case_id}/payment",
                              json={"paid_on": "2026-11-26", "payment_reference": "CZ-20261126-0001"},
                              headers=finance(settings))
    assert other.status_code == 409
    assert "CZ-20261125-0042" in other.json()["detail"]

    events = await read_topic(settings.kafka_bootstrap_servers, settings.topic(SUBSIDIES), expect=2)
    assert [e.type for e in events] == ["legalaid.evaluation.subsidy-approved.v1",
                                        "legalaid.evaluation.subsidy-paid.v1"]
    # Annex 4's columns (period, agency, institution, handler, case number, case kind, amount, date
    # paid), and nothing else: nothing of the aided person, no payment reference.
    assert events[1].data == {
        "case_id": case.case_id, "case_number": case.case_number, "case_kind": "criminal",
        "period": "2026-H2",
        "agency_id": AGENCY, "institution_id": "firm-a", "institution_name": "北京甲律师事务所",
        "handler_id": "lawyer-li", "handler_name": "李明", "amount": "1200.00", "paid_on": "2026-11-25",
        "schedule_version": "beijing-2011-seed",
    }


async def test_finance_acts_and_reads_for_its_own_agency_only(service):
    settings, _, client = service
    case = registered(stage=CriminalStage.investigation)
    await computed(service, case)
    elsewhere = finance(settings, "haidian-centre")
    approval = await client.post(f"/api/v1/subsidies/{case.case_id}/approval", headers=elsewhere)
    assert approval.status_code == 404
    assert (await client.get(f"/api/v1/subsidies/{case.case_id}", headers=elsewhere)).status_code == 404
    assert (await client.get("/api/v1/subsidies", params={"agency_id": AGENCY}, headers=elsewhere)).json()[
        "total"] == 0
    # An agency role acts for the agency its token names; without one it is refused (docs/security.md).
    no_agency = as_role(settings, Role.finance, sub="finance-without-agency")
    assert (await client.get("/api/v1/subsidies", headers=no_agency)).status_code == 403
    own = (await client.get("/api/v1/subsidies", params={"status": "computed"},
                            headers=finance(settings))).json()
    assert [s["case_id"] for s in own["items"]] == [case.case_id]


async def grade_fail(service, case: CaseRegistered, handler: HandlerRef = HANDLER) -> None:
    """The case closes, is given to a peer reviewer, who grades it fail: evaluation's EvaluationFailed."""
    settings, _, client = service
    closed = CaseClosed(case_id=case.case_id, case_number=case.case_number, case_kind=case.case_kind,
                        district="朝阳区", agency_id=AGENCY, handler=handler, outcome="判决",
                        ended_on=date(2026, 10, 20), closed_at=datetime(2026, 10, 30, 2, 0, tzinfo=UTC))
    await publish(settings, closed, source="/fayuan/intake")

    async def known():
        return (await client.get(f"/api/v1/evaluations/quality-records/{case.case_id}")).status_code == 200

    await eventually(known)
    assert (await client.post(f"/api/v1/cases/{case.case_id}/reviewers", json=REVIEWER)).status_code == 201
    graded = await client.post("/api/v1/evaluations", json=evaluation_of(closed, grade="fail"),
                               headers=reviewer(settings))
    assert (graded.status_code, graded.json()["grade"]) == (201, "fail")


async def adjusted(service, case_id: str) -> dict:
    _, _, client = service

    async def found():
        body = (await client.get(f"/api/v1/subsidies/{case_id}")).json()
        return body if body["adjustment"] else None

    return await eventually(found)


async def test_a_fail_after_payment_orders_the_subsidy_recovered(service):
    settings, _, client = service
    case = registered(stage=CriminalStage.investigation)
    await computed(service, case)
    assert (await client.post(f"/api/v1/subsidies/{case.case_id}/approval",
                              headers=finance(settings))).status_code == 200
    assert (await client.post(f"/api/v1/subsidies/{case.case_id}/payment",
                              json={"paid_on": "2026-11-25", "payment_reference": "CZ-1"},
                              headers=finance(settings))).status_code == 200
    await grade_fail(service, case)
    subsidy = await adjusted(service, case.case_id)
    assert (subsidy["adjustment"], subsidy["amount_to_recover"], subsidy["status"]) == (
        "recovery_ordered", "1200.00", "paid")
    assert subsidy["rule_applied"] == "withhold the subsidy (recover it in full if paid)"
    assert subsidy["failed_evaluation_id"]


async def test_a_fail_before_approval_withholds_the_subsidy_by_the_seeds_rule(service):
    settings, _, client = service
    case = registered(stage=CriminalStage.investigation)
    await computed(service, case)
    await grade_fail(service, case)
    subsidy = await adjusted(service, case.case_id)
    assert (subsidy["adjustment"], subsidy["status"]) == ("withheld", "withheld")
    refused = await client.post(f"/api/v1/subsidies/{case.case_id}/approval", headers=finance(settings))
    assert (refused.status_code, refused.json()["rule"]) == (409, "R-EVL-7")


async def test_a_fail_reduces_the_subsidy_when_the_agencys_rule_says_so(service):
    settings, _, client = service
    assert (await client.post(f"/api/v1/subsidy-schedules/{AGENCY}/versions", json=VERSION,
                              headers=finance(settings))).status_code == 201
    case = registered(stage=CriminalStage.investigation)
    await computed(service, case, OTHER_FIRM_HANDLER)  # 1,300 by the version's line
    await grade_fail(service, case, OTHER_FIRM_HANDLER)
    subsidy = await adjusted(service, case.case_id)
    assert (subsidy["adjustment"], subsidy["computed_amount"], subsidy["amount"]) == ("reduced", "1300.00",
                                                                                      "910.00")
    assert subsidy["rule_applied"] == "reduce the subsidy by 30% (recover that share if paid)"
    approved = await client.post(f"/api/v1/subsidies/{case.case_id}/approval", headers=finance(settings))
    assert approved.json()["amount"] == "910.00"

