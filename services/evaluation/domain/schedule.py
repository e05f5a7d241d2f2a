"""The agency's subsidy schedule (办案补贴标准, R-CHK-3), versioned: what a case is paid by its
kind and stage (or matter), the circumstances that change it (a group case), the unit prices of
an institution's procurement contract, and what a failed peer evaluation does to the handler's
subsidy (R-EVL-7). The stream is `subsidy-schedule-<agency_id>`; an agency that has published no
version is paid by the seed, the Beijing examples of domain.md (amounts marked to confirm).

How an amount is found (`SchedulePrice.price`):
1. The version: the agency's latest version in effect on the sign-off's Beijing date (the
   latest `effective_from` not after it; the seed when none is).
2. The unit price: a contract price of the handler's institution for the case's kind and stage
   (or for the kind, any stage) in effect on that date overrides the schedule's line; otherwise
   the line of the kind and stage, else the kind's general line (every version has one).
3. Circumstances: a group case (群体性案件) is paid the unit price times the version's group
   multiplier, rounded to the fen (half up). The multiplier is 1 when the agency pays group
   cases like any other.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.aggregate import Aggregate, DomainEvent, Forbidden, Invalid
from shared.contracts import CaseKind
from shared.contracts.intake import CriminalStage, Matter

FEN = Decimal("0.01")

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Multiplier = Annotated[Decimal, Field(ge=1, le=10, max_digits=4, decimal_places=2)]


def to_fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


def check_stage(kind: CaseKind, stage: str | None) -> None:
    """A line's stage is one intake registers: a criminal stage, or a matter for the other kinds
    (a misspelt stage would otherwise never match a case, silently)."""
    known = {s.value for s in (CriminalStage if kind is CaseKind.criminal else Matter)}
    if stage is not None and stage not in known:
        raise ValueError(f"stage of a {kind} line must be one of {', '.join(sorted(known))}")


# --- value objects ------------------------------------------------------------------------


class ScheduleLine(BaseModel):
    """One line of the schedule: a case of this kind at this stage (criminal: the stage of
    intake's CriminalStage; civil and administrative: the matter; none: any stage) is paid this."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_kind: CaseKind
    stage: str | None = Field(default=None, max_length=40,
                              description="The criminal stage or the matter; none: the kind's general line")
    amount: Money
    description: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _known_stage(self) -> ScheduleLine:
        check_stage(self.case_kind, self.stage)
        return self

    @property
    def key(self) -> str:
        return f"{self.case_kind}/{self.stage or '*'}"


class ContractPrice(BaseModel):
    """A unit price of an institution's procurement contract (政府购买服务, maximum unit prices):
    for that institution's cases it overrides the schedule's line."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    institution_id: str = Field(min_length=1, max_length=64)
    contract_reference: str = Field(min_length=1, max_length=64)
    case_kind: CaseKind
    stage: str | None = Field(default=None, max_length=40)
    amount: Money
    valid_from: date | None = None
    valid_to: date | None = None

    @model_validator(mode="after")
    def _known_stage(self) -> ContractPrice:
        check_stage(self.case_kind, self.stage)
        return self

    def covers(self, institution_id: str, kind: CaseKind, stage: str | None, on: date) -> bool:
        return (self.institution_id == institution_id and self.case_kind == kind
                and self.stage in (stage, None)
                and (self.valid_from is None or self.valid_from <= on)
                and (self.valid_to is None or on <= self.valid_to))


class FailedEvaluationAction(StrEnum):
    """What a failed peer evaluation does to the handler's subsidy (R-EVL-7)."""

    withhold = "withhold"  # not paid at all; recovered in full if already paid
    reduce = "reduce"  # reduced by a percentage; that share recovered if already paid


class FailedEvaluationRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    action: FailedEvaluationAction = FailedEvaluationAction.withhold
    percent: Annotated[Decimal, Field(gt=0, le=100, max_digits=5, decimal_places=2)] | None = Field(
        default=None, description="The reduction, in percent (reduce only)")

    @model_validator(mode="after")
    def _percent_with_reduce_only(self) -> FailedEvaluationRule:
        if (self.action is FailedEvaluationAction.reduce) != (self.percent is not None):
            raise ValueError("percent is given with the reduce action, and only with it")
        return self

    def cut(self, amount: Decimal) -> Decimal:
        """How much of `amount` a fail takes away."""
        if self.action is FailedEvaluationAction.withhold:
            return amount
        assert self.percent is not None
        return to_fen(amount * self.percent / 100)

    def describe(self) -> str:
        if self.action is FailedEvaluationAction.withhold:
            return "withhold the subsidy (recover it in full if paid)"
        return f"reduce the subsidy by {self.percent}% (recover that share if paid)"


class ScheduleTerms(BaseModel):
    """What a version of the schedule says (published by the agency, or the seed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    effective_from: date
    lines: list[ScheduleLine] = Field(min_length=1, max_length=200)
    group_case_multiplier: Multiplier = Decimal("1")
    contract_prices: list[ContractPrice] = Field(default_factory=list, max_length=500)
    failed_evaluation: FailedEvaluationRule = FailedEvaluationRule()
    note: str = Field(default="", max_length=500)


class AppliedLine(BaseModel):
    """How an amount was made, line by line, recorded with the subsidy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(description="schedule, contract or circumstance")
    key: str
    description: str
    unit_price: Decimal | None = None
    multiplier: Decimal | None = None
    contract_reference: str | None = None


class SchedulePrice(BaseModel):
    """A case's subsidy by one version of the schedule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schedule_version: str
    amount: Decimal
    lines: list[AppliedLine]
    failed_evaluation: FailedEvaluationRule


# --- the seed: the Beijing examples of domain.md ----------------------------------------------

SEED_VERSION = "beijing-2011-seed"
_SEEN = "Beijing 2011 schedule (seen)"
_TO_CONFIRM = "to confirm: not seen in the Beijing 2011 schedule"

SEED = ScheduleTerms(
    effective_from=date(2011, 1, 1),
    lines=[
        ScheduleLine(case_kind=CaseKind.criminal, stage="investigation", amount=Decimal("1200"),
                     description=f"刑事辩护 侦查阶段, per case; {_SEEN}"),
        *[ScheduleLine(case_kind=CaseKind.criminal, stage=stage, amount=Decimal(amount),
                       description=f"刑事 {stage}, per case; {_TO_CONFIRM}")
          for stage, amount in (("prosecution_review", "1200"), ("first_instance", "2000"),
                                ("second_instance", "2000"), ("death_penalty_review", "3000"),
                                ("retrial", "2000"))],
        ScheduleLine(case_kind=CaseKind.criminal, amount=Decimal("1200"),
                     description=f"刑事, any other stage; {_TO_CONFIRM}"),
        ScheduleLine(case_kind=CaseKind.civil, amount=Decimal("1500"),
                     description=f"民事诉讼; {_TO_CONFIRM}"),
        ScheduleLine(case_kind=CaseKind.civil, stage="labour_arbitration", amount=Decimal("1200"),
                     description=f"劳动仲裁; {_TO_CONFIRM}"),
        ScheduleLine(case_kind=CaseKind.civil, stage="mediation", amount=Decimal("600"),
                     description=f"调解; {_TO_CONFIRM}"),
        ScheduleLine(case_kind=CaseKind.administrative, amount=Decimal("1500"),
                     description=f"行政诉讼, 行政复议; {_TO_CONFIRM}"),
        ScheduleLine(case_kind=CaseKind.non_litigation, amount=Decimal("600"),
                     description=f"非诉讼事项; {_TO_CONFIRM}"),
    ],
    group_case_multiplier=Decimal("1.5"),
    failed_evaluation=FailedEvaluationRule(),
    note="The seed: domain.md's Beijing examples (criminal defence at the investigation stage 1,200 "
         "yuan per case); every other amount, the group multiplier and the rule for a fail are to "
         "confirm with the agency. Consultation (150 yuan per working day) is not a case's subsidy.",
)


# --- events -------------------------------------------------------------------------------


class ScheduleVersionPublished(DomainEvent):
    agency_id: str
    version: str
    number: int
    terms: ScheduleTerms
    published_by: str
    published_at: datetime


# --- refusals -----------------------------------------------------------------------------


class ScheduleIncomplete(Invalid):
    rule = "R-CHK-3"


class NotYourAgency(Forbidden):
    pass


def check_terms(terms: ScheduleTerms) -> None:
    """Every kind has a general line, and no line or contract price is given twice."""
    general = {line.case_kind for line in terms.lines if line.stage is None}
    missing = [kind.value for kind in CaseKind if kind not in general]
    if missing:
        raise ScheduleIncomplete(
            f"every case kind needs a general line (no stage): missing {', '.join(missing)}")
    keys = [line.key for line in terms.lines]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ScheduleIncomplete(f"a line is given twice: {', '.join(twice)}")


def price(version: str, terms: ScheduleTerms, *, kind: CaseKind, stage: str | None, group_case: bool,
          institution_id: str, on: date) -> SchedulePrice:
    """The subsidy of a case by these terms (steps 2 and 3 of the module's docstring)."""
    covering = [c for c in terms.contract_prices if c.covers(institution_id, kind, stage, on)]
    # The contract's price for the case's stage before its price for the kind at any stage.
    contract = next((c for c in covering if c.stage == stage), None) or next(iter(covering), None)
    applied: list[AppliedLine]
    if contract is not None:
        unit = contract.amount
        applied = [AppliedLine(source="contract", key=f"{kind}/{contract.stage or '*'}",
                               description=f"contract price of institution {institution_id}",
                               unit_price=unit, contract_reference=contract.contract_reference)]
    else:
        of_kind = [x for x in terms.lines if x.case_kind == kind]
        line = next((x for x in of_kind if stage and x.stage == stage), None) or next(
            x for x in of_kind if x.stage is None)
        unit = line.amount
        applied = [AppliedLine(source="schedule", key=line.key, description=line.description,
                               unit_price=unit)]
    amount = unit
    if group_case and terms.group_case_multiplier != 1:
        amount = unit * terms.group_case_multiplier
        applied.append(AppliedLine(source="circumstance", key="group_case", description="群体性案件",
                                   multiplier=terms.group_case_multiplier))
    return SchedulePrice(schedule_version=version, amount=to_fen(amount), lines=applied,
                         failed_evaluation=terms.failed_evaluation)


# --- the aggregate ------------------------------------------------------------------------


class SubsidySchedule(Aggregate):
    """An agency's schedule versions. Its id is the agency's id."""

    stream_prefix = "subsidy-schedule"

    def __init__(self, id: str):
        super().__init__(id)
        self.versions: list[ScheduleVersionPublished] = []

    def publish(self, *, terms: ScheduleTerms, by: str, by_agency: str | None, at: datetime) -> None:
        """A new version; earlier ones stay, for the subsidies computed by them."""
        if by_agency != self.id:
            raise NotYourAgency(f"only the agency {self.id} publishes its subsidy schedule")
        check_terms(terms)
        number = len(self.versions) + 1
        self.record(ScheduleVersionPublished(agency_id=self.id, version=f"{self.id}-v{number}", number=number,
                                             terms=terms, published_by=by, published_at=at))

    def in_effect(self, on: date) -> tuple[str, ScheduleTerms]:
        """The version in effect on this day (step 1 of the module's docstring)."""
        effective = [v for v in self.versions if v.terms.effective_from <= on]
        if not effective:
            return SEED_VERSION, SEED
        chosen = max(effective, key=lambda v: (v.terms.effective_from, v.number))
        return chosen.version, chosen.terms

    def price(self, *, kind: CaseKind, stage: str | None, group_case: bool, institution_id: str,
              on: date) -> SchedulePrice:
        version, terms = self.in_effect(on)
        return price(version, terms, kind=kind, stage=stage, group_case=group_case,
                     institution_id=institution_id, on=on)

    def when_ScheduleVersionPublished(self, e: ScheduleVersionPublished) -> None:
        self.versions.append(e)


SubsidySchedule.handles(ScheduleVersionPublished)
