"""A case's subsidy (办案补贴, R-CHK-2, R-CHK-3, R-EVL-7). The stream is `subsidy-<case_id>`.

Its life: computed when intake reports the quality lead's sign-off of a passed closing check
(ClosingCheckSignedOff: nothing else starts a subsidy, so nothing is approved without a passed
check and a sign-off), with the schedule version and the lines that made the amount; approved
by the agency's finance; paid once (date and payment reference). A failed peer evaluation
applies the agency's rule of the version the subsidy was computed by: before payment the
subsidy is withheld or reduced, after it the money (all of it, or the reduced share) is to be
recovered. A fail reported before the sign-off is remembered and applied when the subsidy is
computed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from services.evaluation.domain.schedule import (
    AppliedLine,
    FailedEvaluationAction,
    FailedEvaluationRule,
    SchedulePrice,
)
from shared.aggregate import Aggregate, Conflict, DomainEvent, NotFound
from shared.contracts import CaseKind, HandlerRef


class SubsidyStatus(StrEnum):
    computed = "computed"
    approved = "approved"
    paid = "paid"
    withheld = "withheld"


class SignedOffCase(BaseModel):
    """What the subsidy is computed from: intake's sign-off and what evaluation knows of the case's
    registration (its stage or matter, whether it is a group case)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    stage: str | None
    group_case: bool
    signed_off_by: str
    signed_off_at: datetime


def half_year(day: date) -> str:
    """The Beijing half-year of a day, as the disclosures name it: 2026-H1, 2026-H2."""
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


# --- events -------------------------------------------------------------------------------


class SubsidyComputed(DomainEvent):
    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    stage: str | None
    group_case: bool
    schedule_version: str
    lines: list[AppliedLine]
    amount: Decimal
    failed_evaluation_rule: FailedEvaluationRule
    signed_off_by: str
    signed_off_at: datetime
    computed_at: datetime


class SubsidyApproved(DomainEvent):
    case_id: str
    amount: Decimal
    approved_by: str
    approved_at: datetime


class SubsidyPaid(DomainEvent):
    case_id: str
    amount: Decimal
    paid_on: date
    payment_reference: str
    idempotency_key: str | None
    recorded_by: str
    recorded_at: datetime


class EvaluationFailureNoted(DomainEvent):
    """A fail came before the sign-off: applied when the subsidy is computed."""

    case_id: str
    evaluation_id: str
    noted_at: datetime


class SubsidyWithheld(DomainEvent):
    case_id: str
    evaluation_id: str
    rule: FailedEvaluationRule
    rule_applied: str
    schedule_version: str
    amount_withheld: Decimal
    withheld_at: datetime


class SubsidyReduced(DomainEvent):
    case_id: str
    evaluation_id: str
    rule: FailedEvaluationRule
    rule_applied: str
    schedule_version: str
    amount_before: Decimal
    amount: Decimal
    reduced_at: datetime


class SubsidyRecoveryOrdered(DomainEvent):
    case_id: str
    evaluation_id: str
    rule: FailedEvaluationRule
    rule_applied: str
    schedule_version: str
    amount_to_recover: Decimal
    ordered_at: datetime


# --- refusals -----------------------------------------------------------------------------


class NotSignedOff(Conflict):
    rule = "R-CHK-2"


class SubsidyWithheldRefusal(Conflict):
    rule = "R-EVL-7"


class NotApproved(Conflict):
    rule = "R-CHK-2"


class PaidWithAnotherReference(Conflict):
    pass


# --- the aggregate ------------------------------------------------------------------------


class Subsidy(Aggregate):
    """A case's subsidy. Its id is the case's id."""

    stream_prefix = "subsidy"

    def __init__(self, id: str):
        super().__init__(id)
        self.computed: SubsidyComputed | None = None
        self.amount = Decimal("0")
        self.status: SubsidyStatus | None = None
        self.approved: SubsidyApproved | None = None
        self.paid: SubsidyPaid | None = None
        self.failed_evaluation_id: str | None = None
        self.fail_applied = False

    # reads

    def check_agency(self, agency_id: str | None) -> None:
        """Finance acts for its own agency: another agency's subsidy is answered as unknown."""
        if self.computed is not None and self.computed.agency_id != agency_id:
            raise NotFound(f"no subsidy of case {self.id} in your agency")

    # commands

    def compute(self, *, case: SignedOffCase, price: SchedulePrice, at: datetime) -> None:
        """R-CHK-2, R-CHK-3: the amount at the sign-off, by the schedule version in effect. A second
        report of the same sign-off changes nothing."""
        if self.computed is not None:
            return
        self.record(SubsidyComputed(
            case_id=case.case_id, case_number=case.case_number, case_kind=case.case_kind,
            agency_id=case.agency_id, handler=case.handler, stage=case.stage, group_case=case.group_case,
            schedule_version=price.schedule_version, lines=price.lines, amount=price.amount,
            failed_evaluation_rule=price.failed_evaluation, signed_off_by=case.signed_off_by,
            signed_off_at=case.signed_off_at, computed_at=at,
        ))
        if self.failed_evaluation_id is not None:
            self._apply_fail(self.failed_evaluation_id, at)

    def approve(self, *, by: str, agency_id: str | None, at: datetime) -> bool:
        """The agency's finance approves the computed amount; True when this call approved it
        (an approved or paid subsidy is left as it is)."""
        if self.computed is None:
            raise NotSignedOff(
                f"case {self.id} has no subsidy: its closing check has not been signed off as passed"
            )
        self.check_agency(agency_id)
        if self.status is SubsidyStatus.withheld:
            raise SubsidyWithheldRefusal(f"the subsidy of case {self.computed.case_number} is withheld "
                                         "after a failed peer evaluation")
        if self.approved is not None:
            return False
        self.record(SubsidyApproved(case_id=self.id, amount=self.amount, approved_by=by, approved_at=at))
        return True

    def pay(self, *, paid_on: date, reference: str, idempotency_key: str | None, by: str,
            agency_id: str | None, at: datetime) -> bool:
        """Record the payment, once: the same reference (or the same Idempotency-Key) again
        changes nothing; True when this call recorded it."""
        if self.computed is None:
            raise NotSignedOff(
                f"case {self.id} has no subsidy: its closing check has not been signed off as passed"
            )
        self.check_agency(agency_id)
        if self.paid is not None:
            if reference == self.paid.payment_reference or (
                    idempotency_key is not None and idempotency_key == self.paid.idempotency_key):
                return False
            raise PaidWithAnotherReference(
                f"the subsidy of case {self.computed.case_number} was paid on {self.paid.paid_on} "
                f"with reference {self.paid.payment_reference}"
            )
        if self.status is SubsidyStatus.withheld:
            raise SubsidyWithheldRefusal(f"the subsidy of case {self.computed.case_number} is withheld "
                                         "after a failed peer evaluation")
        if self.approved is None:
            raise NotApproved(f"the subsidy of case {self.computed.case_number} is not approved yet")
        self.record(SubsidyPaid(case_id=self.id, amount=self.amount, paid_on=paid_on,
                                payment_reference=reference, idempotency_key=idempotency_key,
                                recorded_by=by, recorded_at=at))
        return True

    def evaluation_failed(self, *, evaluation_id: str, at: datetime) -> None:
        """R-EVL-7: apply the agency's rule for a fail, once per case."""
        if self.failed_evaluation_id is not None:
            return
        if self.computed is None:
            self.record(EvaluationFailureNoted(case_id=self.id, evaluation_id=evaluation_id, noted_at=at))
            return
        self._apply_fail(evaluation_id, at)

    def _apply_fail(self, evaluation_id: str, at: datetime) -> None:
        assert self.computed is not None
        rule = self.computed.failed_evaluation_rule
        version = self.computed.schedule_version
        cut = rule.cut(self.amount)
        if self.paid is not None:
            self.record(SubsidyRecoveryOrdered(
                case_id=self.id, evaluation_id=evaluation_id, rule=rule, rule_applied=rule.describe(),
                schedule_version=version, amount_to_recover=cut, ordered_at=at))
        elif rule.action is FailedEvaluationAction.withhold:
            self.record(SubsidyWithheld(
                case_id=self.id, evaluation_id=evaluation_id, rule=rule, rule_applied=rule.describe(),
                schedule_version=version, amount_withheld=self.amount, withheld_at=at))
        else:
            self.record(SubsidyReduced(
                case_id=self.id, evaluation_id=evaluation_id, rule=rule, rule_applied=rule.describe(),
                schedule_version=version, amount_before=self.amount, amount=self.amount - cut, reduced_at=at))

    # state changes

    def when_SubsidyComputed(self, e: SubsidyComputed) -> None:
        self.computed = e
        self.amount = e.amount
        self.status = SubsidyStatus.computed

    def when_SubsidyApproved(self, e: SubsidyApproved) -> None:
        self.approved = e
        self.status = SubsidyStatus.approved

    def when_SubsidyPaid(self, e: SubsidyPaid) -> None:
        self.paid = e
        self.status = SubsidyStatus.paid

    def when_EvaluationFailureNoted(self, e: EvaluationFailureNoted) -> None:
        self.failed_evaluation_id = e.evaluation_id

    def when_SubsidyWithheld(self, e: SubsidyWithheld) -> None:
        self.failed_evaluation_id = e.evaluation_id
        self.fail_applied = True
        self.status = SubsidyStatus.withheld

    def when_SubsidyReduced(self, e: SubsidyReduced) -> None:
        self.failed_evaluation_id = e.evaluation_id
        self.fail_applied = True
        self.amount = e.amount

    def when_SubsidyRecoveryOrdered(self, e: SubsidyRecoveryOrdered) -> None:
        self.failed_evaluation_id = e.evaluation_id
        self.fail_applied = True


Subsidy.handles(SubsidyComputed, SubsidyApproved, SubsidyPaid, EvaluationFailureNoted, SubsidyWithheld,
                SubsidyReduced, SubsidyRecoveryOrdered)
