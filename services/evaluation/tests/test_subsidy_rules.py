"""The subsidy's rules in the domain alone (R-CHK-2, R-CHK-3, R-EVL-7): which schedule version
and line price a case, and what a failed evaluation does before and after payment."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.evaluation.domain import (
    SEED,
    SEED_VERSION,
    ContractPrice,
    FailedEvaluationRule,
    ScheduleLine,
    ScheduleTerms,
    SignedOffCase,
    Subsidy,
    SubsidyRecoveryOrdered,
    SubsidyReduced,
    SubsidySchedule,
    SubsidyStatus,
    SubsidyWithheld,
    half_year,
)
from services.evaluation.domain.schedule import NotYourAgency, ScheduleIncomplete
from services.evaluation.domain.subsidy import NotApproved, NotSignedOff, PaidWithAnotherReference
from services.evaluation.tests.test_evaluations_api import HANDLER
from shared.aggregate import NotFound
from shared.contracts import CaseKind

AT = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


def terms(effective_from: date, amount: str, **overrides) -> ScheduleTerms:
    lines = [ScheduleLine(case_kind=kind, amount=Decimal(amount)) for kind in CaseKind]
    return ScheduleTerms(effective_from=effective_from, lines=lines, **overrides)


def case(stage: str | None = "investigation", group_case: bool = False) -> SignedOffCase:
    return SignedOffCase(case_id="case-1", case_number="京朝法援〔2026〕第1号", case_kind=CaseKind.criminal,
                         agency_id="chaoyang-centre", handler=HANDLER, stage=stage, group_case=group_case,
                         signed_off_by="quality-lead-qian", signed_off_at=AT)


def computed_subsidy(schedule: SubsidySchedule | None = None, **case_args) -> Subsidy:
    schedule = schedule or SubsidySchedule("chaoyang-centre")
    signed = case(**case_args)
    subsidy = Subsidy("case-1")
    subsidy.compute(case=signed, price=schedule.price(kind=signed.case_kind, stage=signed.stage,
                                                      group_case=signed.group_case,
                                                      institution_id=HANDLER.institution_id, on=AT.date()),
                    at=AT)
    return subsidy


def test_the_seed_pays_criminal_defence_at_the_investigation_stage_1200_yuan():
    schedule = SubsidySchedule("chaoyang-centre")
    price = schedule.price(kind=CaseKind.criminal, stage="investigation", group_case=False,
                           institution_id="firm-a", on=date(2026, 11, 10))
    assert (price.schedule_version, price.amount) == (SEED_VERSION, Decimal("1200.00"))
    # A stage without a line of its own is paid by the kind's general line.
    unknown = schedule.price(kind=CaseKind.criminal, stage=None, group_case=False, institution_id="firm-a",
                             on=date(2026, 11, 10))
    assert [line.key for line in unknown.lines] == ["criminal/*"]


def test_the_version_in_effect_on_the_sign_off_day_prices_the_case():
    schedule = SubsidySchedule("chaoyang-centre")
    schedule.publish(terms=terms(date(2026, 1, 1), "1000"), by="finance-zhang", by_agency="chaoyang-centre",
                     at=AT)
    schedule.publish(terms=terms(date(2027, 1, 1), "1100"), by="finance-zhang", by_agency="chaoyang-centre",
                     at=AT)
    on = {day: schedule.price(kind=CaseKind.civil, stage=None, group_case=False, institution_id="firm-a",
                              on=day)
          for day in (date(2025, 12, 31), date(2026, 6, 30), date(2027, 1, 1))}
    assert [(p.schedule_version, p.amount) for p in on.values()] == [
        (SEED_VERSION, Decimal("1500.00")), ("chaoyang-centre-v1", Decimal("1000.00")),
        ("chaoyang-centre-v2", Decimal("1100.00"))]


def test_a_contract_price_applies_to_its_institution_within_its_dates_and_a_group_case_multiplies_it():
    contract = ContractPrice(institution_id="firm-a", contract_reference="CY-07", case_kind=CaseKind.criminal,
                             stage="investigation", amount=Decimal("1000"), valid_to=date(2026, 12, 31))
    schedule = SubsidySchedule("chaoyang-centre")
    schedule.publish(terms=terms(date(2026, 1, 1), "1800", contract_prices=[contract],
                                 group_case_multiplier=Decimal("1.25")),
                     by="finance-zhang", by_agency="chaoyang-centre", at=AT)

    def price(institution_id: str, on: date, group_case: bool = False) -> Decimal:
        return schedule.price(kind=CaseKind.criminal, stage="investigation", group_case=group_case,
                              institution_id=institution_id, on=on).amount

    assert price("firm-a", date(2026, 11, 10)) == Decimal("1000.00")
    assert price("firm-a", date(2026, 11, 10), group_case=True) == Decimal("1250.00")
    assert price("firm-c", date(2026, 11, 10)) == Decimal("1800.00")
    assert price("firm-a", date(2027, 1, 1)) == Decimal("1800.00")  # the contract has ended


def test_a_schedule_has_a_general_line_per_kind_and_only_its_agency_publishes_it():
    schedule = SubsidySchedule("chaoyang-centre")
    with pytest.raises(ScheduleIncomplete, match="non_litigation"):
        schedule.publish(terms=ScheduleTerms(effective_from=date(2026, 1, 1), lines=SEED.lines[:-1]),
                         by="finance-zhang", by_agency="chaoyang-centre", at=AT)
    with pytest.raises(NotYourAgency):
        schedule.publish(terms=SEED, by="finance-wu", by_agency="haidian-centre", at=AT)
    with pytest.raises(ValueError, match="percent"):
        FailedEvaluationRule(action="reduce")


def test_nothing_is_approved_or_paid_without_a_sign_off_and_an_approval():
    with pytest.raises(NotSignedOff):
        Subsidy("case-1").approve(by="finance-zhang", agency_id="chaoyang-centre", at=AT)
    subsidy = computed_subsidy()
    with pytest.raises(NotApproved):
        subsidy.pay(paid_on=date(2026, 11, 25), reference="P-1", idempotency_key=None, by="finance-zhang",
                    agency_id="chaoyang-centre", at=AT)
    with pytest.raises(NotFound):
        subsidy.approve(by="finance-wu", agency_id="haidian-centre", at=AT)


def test_a_payment_is_recorded_once():
    subsidy = computed_subsidy()
    assert subsidy.approve(by="finance-zhang", agency_id="chaoyang-centre", at=AT)
    pay = {"paid_on": date(2026, 11, 25), "by": "finance-zhang", "agency_id": "chaoyang-centre", "at": AT}
    assert subsidy.pay(reference="P-1", idempotency_key="k-1", **pay) is True
    assert subsidy.pay(reference="P-1", idempotency_key=None, **pay) is False
    assert subsidy.pay(reference="P-other", idempotency_key="k-1", **pay) is False
    with pytest.raises(PaidWithAnotherReference):
        subsidy.pay(reference="P-2", idempotency_key=None, **pay)
    assert len(subsidy.pending) == 3  # computed, approved, paid


def test_a_fail_withholds_reduces_or_orders_recovery_by_the_versions_rule():
    withheld = computed_subsidy()
    withheld.evaluation_failed(evaluation_id="ev-1", at=AT)
    assert isinstance(withheld.pending[-1], SubsidyWithheld)
    assert withheld.status is SubsidyStatus.withheld

    reducing = SubsidySchedule("chaoyang-centre")
    reducing.publish(terms=terms(date(2026, 1, 1), "1333", failed_evaluation=FailedEvaluationRule(
        action="reduce", percent=Decimal("12.5"))), by="finance-zhang", by_agency="chaoyang-centre", at=AT)
    reduced = computed_subsidy(reducing)
    reduced.evaluation_failed(evaluation_id="ev-2", at=AT)
    event = reduced.pending[-1]
    assert isinstance(event, SubsidyReduced)
    # 1,333 less 12.5 % (166.625, rounded half up to 166.63).
    assert (event.amount_before, event.amount, reduced.amount) == (Decimal("1333.00"), Decimal("1166.37"),
                                                                   Decimal("1166.37"))

    paid = computed_subsidy(reducing)
    paid.approve(by="finance-zhang", agency_id="chaoyang-centre", at=AT)
    paid.pay(paid_on=date(2026, 11, 25), reference="P-1", idempotency_key=None, by="finance-zhang",
             agency_id="chaoyang-centre", at=AT)
    paid.evaluation_failed(evaluation_id="ev-3", at=AT)
    recovery = paid.pending[-1]
    assert isinstance(recovery, SubsidyRecoveryOrdered)
    assert (recovery.amount_to_recover, recovery.schedule_version) == (Decimal("166.63"),
                                                                       "chaoyang-centre-v1")
    paid.evaluation_failed(evaluation_id="ev-3", at=AT)  # redelivered: applied once
    assert paid.pending[-1] is recovery


def test_a_fail_before_the_sign_off_is_applied_when_the_subsidy_is_computed():
    subsidy = Subsidy("case-1")
    subsidy.evaluation_failed(evaluation_id="ev-1", at=AT)
    schedule = SubsidySchedule("chaoyang-centre")
    signed = case()
    subsidy.compute(case=signed, price=schedule.price(kind=signed.case_kind, stage=signed.stage,
                                                      group_case=False, institution_id="firm-a",
                                                      on=AT.date()),
                    at=AT)
    assert [type(e).__name__ for e in subsidy.pending] == ["EvaluationFailureNoted", "SubsidyComputed",
                                                           "SubsidyWithheld"]


def test_the_period_is_the_beijing_half_year_of_the_payment_day():
    assert [half_year(date(2026, 6, 30)), half_year(date(2026, 7, 1))] == ["2026-H1", "2026-H2"]
