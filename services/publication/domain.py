"""Public disclosure (信息公开, R-PUB-1): the period, the disclosure's figures and tables, the facts
they are made of and the publishing workflow (pure: no I/O).

Publication records each fact it reads from other services (a closure, a final grade, a subsidy
paid) as an event of its own (`ClosureNoted`, `GradeNoted`, `SubsidyPaymentNoted`), so that a
published disclosure can be rebuilt from the events up to its cut-off. `compose` turns facts into
a disclosure: which period a fact counts in (the case's end day, in Beijing's calendar), the
summary above the tables, the tables. The Disclosure aggregate (`DisclosureWorkflow`) decides
submission, four-eyes approval and corrections (docs/publication.md). Nothing here may ever name
an aided person; the facts it is given carry no such data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Generic, Literal, NamedTuple, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shared.aggregate import Aggregate, Conflict, DomainEvent, Forbidden, Invalid
from shared.clock import BEIJING, local_date
from shared.contracts import CaseKind, Grade

# Disclosures follow the bureau's calendar, not UTC: an evaluation at 01:00 on 1 July in Beijing
# belongs to the second half-year even though it is still 30 June in UTC (shared.clock).
# A period is a half-year (2026-H1) or a quarter (2026-Q3): some districts publish quarterly.
PERIOD_PATTERN = r"^[1-9]\d{3}-(H[12]|Q[1-4])$"

CASE_KIND_TITLES = {
    CaseKind.criminal: "刑事",
    CaseKind.civil: "民事",
    CaseKind.administrative: "行政",
    CaseKind.non_litigation: "非诉讼",
}
GRADE_TITLES = {Grade.excellent: "优秀", Grade.good: "良好", Grade.pass_: "合格", Grade.fail: "不合格"}
PERIOD_TITLES = {"H1": "上半年", "H2": "下半年", "Q1": "第一季度", "Q2": "第二季度", "Q3": "第三季度",
                 "Q4": "第四季度"}


@dataclass(frozen=True, order=True)
class Period:
    """A half-year or a quarter of the Beijing calendar: `2026-H1` is January to June, `2026-H2`
    July to December, `2026-Q3` July to September. `half` is the number of the half-year or of the
    quarter (`unit` says which); the default unit is the half-year."""

    year: int
    half: int
    unit: Literal["H", "Q"] = "H"

    @classmethod
    def parse(cls, text: str) -> Period:
        year, rest = text.split("-", 1)
        unit = rest[0]
        if unit not in ("H", "Q"):
            raise ValueError(f"not a period: {text!r}")
        return cls(int(year), int(rest[1:]), "Q" if unit == "Q" else "H")

    @classmethod
    def of(cls, moment: datetime) -> Period:
        """The half-year a moment falls in; a naive moment is taken as UTC, as the kernel writes it."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return cls.containing(local_date(moment))

    @classmethod
    def containing(cls, day: date, unit: Literal["H", "Q"] = "H") -> Period:
        """The half-year (or quarter) of a Beijing calendar day."""
        months = 6 if unit == "H" else 3
        return cls(day.year, (day.month - 1) // months + 1, unit)

    @property
    def months(self) -> int:
        return 6 if self.unit == "H" else 3

    @property
    def starts_on(self) -> date:
        return date(self.year, (self.half - 1) * self.months + 1, 1)

    @property
    def ends_on(self) -> date:
        last_month = self.half * self.months
        following = date(self.year + 1, 1, 1) if last_month == 12 else date(self.year, last_month + 1, 1)
        return following - timedelta(days=1)

    def contains(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on

    @property
    def compact(self) -> str:
        """As a disclosure's number writes it: 2026H1, 2026Q3."""
        return f"{self.year:04d}{self.unit}{self.half}"

    @property
    def title(self) -> str:
        return f"{self.year}年{PERIOD_TITLES[f'{self.unit}{self.half}']}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.unit}{self.half}"


# --- the tables (domain.md "Disclosure", annexes 5 to 7) ---------------------------------
# Column names are stable English keys; each column's title is the Chinese header published.


class Row(BaseModel):
    model_config = ConfigDict(frozen=True)

    @classmethod
    def columns(cls) -> list[Column]:
        return [Column(name=name, title=field.title or name) for name, field in cls.model_fields.items()]

    @classmethod
    def made_of(cls: type[R], rows: Iterable[dict[str, Any]]) -> list[R]:
        """Rows of values already of their fields' types, every field given, not validated again.

        For compose only: a national half-year has some 700,000 rows in each of annexes 4 and 7, and
        each value in them comes from a fact the service validated when it recorded it (or is a count
        or a name compose made of those). Validating each row again cost 1.9 µs a row, and
        `model_construct` (a loop in Python over the fields, per row) more; this is what
        `model_construct` leaves in an instance, set at once: the values, every field set, no extra
        and no private attributes (0.7 µs)."""
        # One set for all: a frozen row never changes it, and a copy of a row copies it first.
        fields_set = set(cls.model_fields)
        new, set_ = cls.__new__, object.__setattr__
        made = []
        for values in rows:
            row = new(cls)
            set_(row, "__dict__", values)
            set_(row, "__pydantic_fields_set__", fields_set)
            set_(row, "__pydantic_extra__", None)
            set_(row, "__pydantic_private__", None)
            made.append(row)
        return made


class EvaluationResult(Row):
    period: str = Field(title="期间")
    agency_id: str = Field(title="法律援助机构")
    case_number: str = Field(title="案件编号")
    case_kind: CaseKind = Field(title="案件类别")
    grade: Grade = Field(title="评估等级")
    institution_name: str = Field(title="法律服务机构")
    handler_name: str = Field(title="承办人员")


class CasesByKind(Row):
    criminal: int = Field(default=0, title="刑事")
    civil: int = Field(default=0, title="民事")
    administrative: int = Field(default=0, title="行政")
    non_litigation: int = Field(default=0, title="非诉讼")
    total: int = Field(default=0, title="合计")


class InstitutionCases(Row):
    period: str = Field(title="期间")
    agency_id: str = Field(title="法律援助机构")
    institution_id: str = Field(title="法律服务机构编号")
    institution_name: str = Field(title="法律服务机构")
    criminal: int = Field(title="刑事")
    civil: int = Field(title="民事")
    administrative: int = Field(title="行政")
    non_litigation: int = Field(title="非诉讼")
    total: int = Field(title="合计")


class PersonCases(Row):
    period: str = Field(title="期间")
    agency_id: str = Field(title="法律援助机构")
    institution_id: str = Field(title="法律服务机构编号")
    institution_name: str = Field(title="法律服务机构")
    handler_id: str = Field(title="承办人员编号")
    handler_name: str = Field(title="承办人员")
    handler_kind: str = Field(title="人员类别")
    criminal: int = Field(title="刑事")
    civil: int = Field(title="民事")
    administrative: int = Field(title="行政")
    non_litigation: int = Field(title="非诉讼")
    total: int = Field(title="合计")


class Column(BaseModel):
    name: str
    title: str


R = TypeVar("R", bound=Row)


class _OfACase(Protocol):
    @property
    def case_id(self) -> str: ...


F = TypeVar("F", bound=_OfACase)


class Table(BaseModel, Generic[R]):
    annex: int
    title: str
    columns: list[Column]
    rows: list[R]

    @classmethod
    def of(cls, row_type: type[R], *, annex: int, title: str, rows: list[R]) -> Table[R]:
        table = Table[row_type]  # type: ignore[valid-type]
        return table(annex=annex, title=title, columns=row_type.columns(), rows=rows)


class SubsidyPayment(Row):
    """Annex 4 (法律援助办案补贴发放情况): one subsidy paid, from evaluation's `SubsidyPaid` events."""

    period: str = Field(title="期间")
    agency_id: str = Field(title="法律援助机构")
    institution_name: str = Field(title="法律服务机构")
    handler_name: str = Field(title="承办人员")
    case_number: str = Field(title="案件编号")
    case_kind: CaseKind = Field(title="案件类别")
    amount: Decimal = Field(title="补贴金额（元）")
    paid_on: date = Field(title="发放日期")


class SubsidyTotal(BaseModel):
    """A total line of Annex 4: one institution's payments within its agency (小计), or the table's (合计).
    Every form prints it below the rows, in the table's columns: `label` in the first, the fields named
    like a column (agency, institution, amount) in theirs (docs/publication.md "Annex 4's totals")."""

    model_config = ConfigDict(frozen=True)

    level: Literal["institution", "overall"]
    label: str = Field(description="As printed in the first column: 小计（N笔） or 合计（N笔）")
    agency_id: str | None = Field(default=None, description="The institution's agency; null overall")
    institution_name: str | None = Field(default=None, description="The institution; null overall")
    payments: int = Field(description="How many of the table's rows it sums")
    amount: Decimal = Field(description="The sum of those rows' amounts, yuan")


class SubsidyTable(Table[SubsidyPayment]):
    """Annex 4: the payments, then their totals per institution and overall, kept beside the rows (never
    among them) so that the rows stay one kind and sum to the overall total."""

    totals: list[SubsidyTotal] = Field(
        default_factory=list, description="Per institution (agency, then institution name), then overall")

    @classmethod
    def of_payments(cls, rows: list[SubsidyPayment]) -> SubsidyTable:
        # One pass: how many and how much per institution (a national half-year pays 700,000 cases).
        groups: dict[tuple[str, str], tuple[int, Decimal]] = {}
        for row in rows:
            key = (row.agency_id, row.institution_name)
            count, amount = groups.get(key, (0, Decimal("0.00")))
            groups[key] = (count + 1, amount + row.amount)
        totals = [SubsidyTotal(level="institution", label=f"小计（{count}笔）", agency_id=agency,
                               institution_name=institution, payments=count, amount=amount)
                  for (agency, institution), (count, amount) in sorted(groups.items())]
        totals.append(SubsidyTotal(level="overall", label=f"合计（{len(rows)}笔）", payments=len(rows),
                                   amount=sum((amount for _, amount in groups.values()), Decimal("0.00"))))
        return cls(annex=4, title="法律援助办案补贴发放情况", columns=SubsidyPayment.columns(), rows=rows,
                   totals=totals)


class Tables(BaseModel):
    """The annexes, in the order they are published. Renderers iterate the fields in this order,
    so a new annex added here appears in every form without touching them."""

    subsidy_payments: SubsidyTable = Field(
        default_factory=lambda: SubsidyTable.of_payments([]),
        description="Annex 4, with its totals per institution and overall")
    cases_per_institution: Table[InstitutionCases]
    cases_per_person: Table[PersonCases]
    evaluation_results: Table[EvaluationResult]


# --- the summary ---------------------------------------------------------------------------


class GradeCount(BaseModel):
    grade: Grade
    title: str
    count: int
    percentage: float | None = Field(
        description="Share of the evaluated cases, in %; null when none was evaluated")


class GradeRate(BaseModel):
    """One agency's or one institution's evaluated cases of the disclosure: their grades and their
    excellent-and-good rate against the year's target (R-EVL-8)."""

    agency_id: str | None = Field(
        description="The agency (a line of `rates_by_agency`); null for an institution")
    institution_name: str | None = Field(
        description="The institution as Annex 7 names it (in `rates_by_institution`); null for an agency")
    cases_evaluated: int
    grade_counts: dict[Grade, int] = Field(description="How many of its cases got each grade")
    excellent_and_good_rate: float | None = Field(description="优良率, in %, one decimal, half up")
    meets_target: bool | None = Field(
        description="Whether the rate reaches the target (compared before rounding); null without a target")


def meets(part: int, whole: int, target: float | None) -> bool | None:
    """Whether part/whole reaches the target rate (in %), compared exactly, before any rounding."""
    if target is None or whole == 0:
        return None
    return Decimal(100 * part) >= Decimal(str(target)) * whole


def grade_rate(evaluations: list[EvaluationResult], target: float | None, *, agency_id: str | None = None,
               institution_name: str | None = None) -> GradeRate:
    counts = {grade: sum(1 for e in evaluations if e.grade == grade) for grade in Grade}
    return rate_of(counts, target, agency_id=agency_id, institution_name=institution_name)


def rate_of(counts: dict[Grade, int], target: float | None, *, agency_id: str | None = None,
            institution_name: str | None = None) -> GradeRate:
    """The rate of cases counted by grade (every grade a key, in Grade's order)."""
    evaluated = sum(counts.values())
    good = counts[Grade.excellent] + counts[Grade.good]
    return GradeRate(agency_id=agency_id, institution_name=institution_name, cases_evaluated=evaluated,
                     grade_counts=counts, excellent_and_good_rate=percentage(good, evaluated),
                     meets_target=meets(good, evaluated, target))


class Summary(BaseModel):
    legal_basis: str | None = Field(
        default=None, description="The legal basis, as text the bureau edits (plain paragraphs)")
    procedure: str | None = Field(
        default=None, description="The procedure: closure, file review, grading, subsidy (bureau-edited)")
    cases_closed: int
    cases_closed_by_kind: CasesByKind
    cases_evaluated: int
    grade_distribution: list[GradeCount]
    excellent_and_good_rate: float | None = Field(
        description="优良率 (R-EVL-8), in %; null when no case of the period was evaluated")
    excellent_and_good_target: float | None = Field(
        default=None, description="The target rate for the period's year (R-EVL-8), in %")
    meets_target: bool | None = Field(
        default=None, description="Whether the rate reaches the target (compared before rounding); null "
                                  "without a target or without evaluated cases")
    rates_by_agency: list[GradeRate] = Field(
        default_factory=list, description="The grades and rate of each agency's evaluated cases (R-EVL-8)")
    rates_by_institution: list[GradeRate] = Field(
        default_factory=list, description="The grades and rate of each institution's evaluated cases, "
                                          "the institution as Annex 7 names it, across agencies (R-EVL-8)")
    legal_help_sessions: int | None = Field(
        default=None, description="Duty-lawyer legal help (法律帮助), counted per session")
    subsidies_paid: Decimal | None = Field(default=None, description="Subsidies paid in the period, yuan")
    subsidy_payments: int = Field(default=0, description="How many subsidies were paid in the period")
    notes: list[str] = Field(default_factory=list, description="What a reader must know about a figure")


class Scope(BaseModel):
    """Whose disclosure: one agency's, a district bureau's, or the city's."""

    level: Literal["agency", "district", "city"] = "city"
    id: str | None = Field(default=None, description="The agency id or district code; null for the city")
    name: str = Field(default="全市", description="As printed in the title")


class Correction(BaseModel):
    """What a correcting version changed from the one it replaces."""

    replaces: str = Field(description="The number of the version replaced")
    changes: list[str] = Field(description="What changed, one sentence each")


class PublishedEntry(BaseModel):
    """One published disclosure in the index page and the Atom feed."""

    number: str
    title: str
    scope: Scope
    period: str
    version: int
    published_at: datetime
    corrects: Correction | None = None


def percentage(part: int, whole: int) -> float | None:
    """One decimal, half up, as published tables round; no figure at all for an empty whole."""
    if whole == 0:
        return None
    return float((Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


class Disclosure(BaseModel):
    """The half-year disclosure of R-PUB-1: summary figures above the annexes' tables."""

    period: str
    starts_on: date
    ends_on: date
    timezone: str = str(BEIJING)
    # Filled by the publishing workflow; a live draft has no number and status "draft".
    title: str | None = None
    scope: Scope = Field(default_factory=Scope)
    status: Literal["draft", "published"] = "draft"
    number: str | None = Field(default=None, description="The published disclosure's number; null in a draft")
    version: int = Field(default=1, description="1, then one more for each correction")
    cut_off: datetime | None = Field(default=None, description="Events up to this moment are counted")
    published_at: datetime | None = None
    corrects: Correction | None = None
    summary: Summary
    tables: Tables

    @classmethod
    def of(cls, period: Period, *, evaluations: list[EvaluationResult], institutions: list[InstitutionCases],
           persons: list[PersonCases], subsidies: Iterable[SubsidyPayment] = (),
           target: float | None = None) -> Disclosure:
        closed = CasesByKind(
            **{kind.value: sum(getattr(i, kind.value) for i in institutions) for kind in CaseKind},
            total=sum(i.total for i in institutions))
        evaluated = len(evaluations)
        # The grades counted overall, per agency and per institution (Counter counts in C).
        counts = dict.fromkeys(Grade, 0)
        by_agency: dict[str, dict[Grade, int]] = {}
        by_institution: dict[str, dict[Grade, int]] = {}
        grades = [e.grade for e in evaluations]
        for grade, n in Counter(grades).items():
            counts[grade] += n
        for groups, names in ((by_agency, [e.agency_id for e in evaluations]),
                              (by_institution, [e.institution_name for e in evaluations])):
            for (name, grade), n in Counter(zip(names, grades, strict=True)).items():
                groups.setdefault(name, dict.fromkeys(Grade, 0))[grade] += n
        good = counts[Grade.excellent] + counts[Grade.good]
        payments = list(subsidies)
        subsidy_table = SubsidyTable.of_payments(payments)
        return cls(
            period=str(period),
            starts_on=period.starts_on,
            ends_on=period.ends_on,
            summary=Summary(
                cases_closed=closed.total,
                cases_closed_by_kind=closed,
                cases_evaluated=evaluated,
                grade_distribution=[
                    GradeCount(grade=g, title=GRADE_TITLES[g], count=n, percentage=percentage(n, evaluated))
                    for g, n in counts.items()
                ],
                excellent_and_good_rate=percentage(good, evaluated),
                excellent_and_good_target=target,
                meets_target=meets(good, evaluated, target),
                rates_by_agency=[rate_of(of_agency, target, agency_id=agency)
                                 for agency, of_agency in sorted(by_agency.items())],
                rates_by_institution=[rate_of(of_institution, target, institution_name=name)
                                      for name, of_institution in sorted(by_institution.items())],
                subsidies_paid=subsidy_table.totals[-1].amount,
                subsidy_payments=len(payments),
            ),
            tables=Tables(
                subsidy_payments=subsidy_table,
                evaluation_results=Table.of(
                    EvaluationResult, annex=7, title="法律援助案件质量同行评估结果",
                    rows=sorted(evaluations, key=lambda e: e.case_number)),
                cases_per_institution=Table.of(
                    InstitutionCases, annex=5, title="法律服务机构承办案件情况", rows=institutions),
                cases_per_person=Table.of(
                    PersonCases, annex=6, title="法律援助人员承办案件情况", rows=persons),
            ),
        )


# --- the facts a disclosure is made of (recorded in publication's own store) ------------------
# Each integration event publication reads is first recorded as a fact of its own stream (one per
# case and kind of fact), so that a published disclosure can be rebuilt from the events recorded
# up to its cut-off, byte for byte (docs/publication.md "Rebuilding").


class ClosureNoted(DomainEvent):
    """Intake closed a case (CaseClosed). `ended_on` (the case's end date) places it in a period."""

    case_id: str
    case_number: str
    case_kind: CaseKind
    district: str
    agency_id: str
    institution_id: str
    institution_name: str
    handler_id: str
    handler_name: str
    handler_kind: str
    group_case: bool = False
    ended_on: date
    closed_at: datetime
    criminal_role: str | None = None  # duty_lawyer_help: a session of legal help, not a case


class GradeNoted(DomainEvent):
    """Evaluation's final result for a case (EvaluationCompleted): a later one replaces it."""

    evaluation_id: str
    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    institution_id: str
    institution_name: str
    handler_id: str
    handler_name: str
    handler_kind: str
    grade: Grade
    completed_at: datetime


class SubsidyPaymentNoted(DomainEvent):
    """Evaluation paid a case's subsidy (SubsidyPaid): Annex 4's row, placed by the date paid."""

    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    institution_id: str
    institution_name: str
    handler_id: str
    handler_name: str
    amount: Decimal
    paid_on: date


class _Facts(Aggregate):
    """A case's facts of one kind, as they were received: noted, never decided on."""

    def note(self, event: DomainEvent) -> None:
        self.record(event)


class CaseClosure(_Facts):
    stream_prefix = "closure"

    def when_ClosureNoted(self, event: ClosureNoted) -> None:
        pass


class CaseGrade(_Facts):
    stream_prefix = "grade"

    def when_GradeNoted(self, event: GradeNoted) -> None:
        pass


class CaseSubsidy(_Facts):
    stream_prefix = "subsidy-payment"

    def when_SubsidyPaymentNoted(self, event: SubsidyPaymentNoted) -> None:
        pass


CaseClosure.handles(ClosureNoted)
CaseGrade.handles(GradeNoted)
CaseSubsidy.handles(SubsidyPaymentNoted)

FACT_TYPES = (ClosureNoted, GradeNoted, SubsidyPaymentNoted)


# --- the texts the bureau edits ----------------------------------------------------------------

DEFAULT_LEGAL_BASIS = (
    "依据《中华人民共和国法律援助法》第十二条、第五十二条、第五十八条，《法律援助条例》第二十四条及本市"
    "法律援助办案补贴有关规定，现将本期法律援助经费使用、案件办理及案件质量同行评估情况公开如下。")
DEFAULT_PROCEDURE = (
    "法律援助案件结案后，承办人员提交结案归档材料；法律援助机构对卷宗进行审查，组织同行评估评定案件质量"
    "等级，按质量等级核定办案补贴，经审批后发放，并按期向社会公开。")


class Texts(BaseModel):
    legal_basis: str = DEFAULT_LEGAL_BASIS
    procedure: str = DEFAULT_PROCEDURE


def scope_key(scope: Scope) -> str:
    """The scope in a stream id and a query: `city`, `district:朝阳区`, `agency:chaoyang-centre`."""
    return "city" if scope.level == "city" else f"{scope.level}:{scope.id}"


def scope_of(level: str, id: str | None) -> Scope:
    """The scope a caller names; a district is named by its name (the `district` of cases and tokens),
    an agency by its id."""
    if level == "city":
        return Scope(level="city", id=None, name="全市")
    if not id:
        raise Invalid(f"id: a scope of level {level} names its {level}")
    return Scope(level="district" if level == "district" else "agency", id=id, name=id)


def number_of(scope: Scope, period: Period, version: int) -> str:
    """The published disclosure's number: FY-<period>-<scope>-<version>, e.g. FY-2026H1-CITY-01,
    FY-2026Q3-D-朝阳区-02, FY-2026H1-A-CHAOYANG-CENTRE-01 (docs/publication.md "Numbers")."""
    code = "CITY" if scope.level == "city" else f"{'D' if scope.level == 'district' else 'A'}-{scope.id}"
    return f"FY-{period.compact}-{code.upper()}-{version:02d}"


class TextsEdited(DomainEvent):
    scope: Scope
    legal_basis: str
    procedure: str
    edited_by: str
    edited_at: datetime


class DisclosureTexts(Aggregate):
    """The legal basis and procedure one scope's disclosures open with, as the bureau last edited them."""

    stream_prefix = "disclosure-texts"

    def __init__(self, id: str):
        super().__init__(id)
        self.texts = Texts()

    def edit(self, *, scope: Scope, legal_basis: str, procedure: str, by: str, at: datetime) -> None:
        if not legal_basis.strip() or not procedure.strip():
            raise Invalid("legal_basis: the texts may not be empty")
        self.record(TextsEdited(scope=scope, legal_basis=legal_basis, procedure=procedure, edited_by=by,
                                edited_at=at))

    def when_TextsEdited(self, event: TextsEdited) -> None:
        self.texts = Texts(legal_basis=event.legal_basis, procedure=event.procedure)


DisclosureTexts.handles(TextsEdited)


# --- the publishing workflow: the Disclosure aggregate -------------------------------------------


class DisclosureSubmitted(DomainEvent):
    """Someone of the agency or the bureau submitted the period's disclosure as of `cut_off`, with the
    texts and the target it will be published with."""

    scope: Scope
    period: str
    cut_off: datetime
    legal_basis: str
    procedure: str
    target: float | None
    submitted_by: str
    submitted_at: datetime


class DisclosureReturned(DomainEvent):
    returned_by: str
    reason: str
    returned_at: datetime


class DisclosurePublished(DomainEvent):
    """The bureau approved the submission (another person than the submitter): it is published."""

    version: int
    number: str
    approved_by: str
    published_at: datetime
    replaces: str | None = None
    changes: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Submission:
    cut_off: datetime
    texts: Texts
    target: float | None
    submitted_by: str
    submitted_at: datetime


@dataclass(frozen=True)
class PublishedVersion:
    version: int
    number: str
    submission: Submission
    approved_by: str
    published_at: datetime
    replaces: str | None
    changes: tuple[str, ...]


class DisclosureWorkflow(Aggregate):
    """The Disclosure aggregate (R-PUB-1): one scope's disclosure of one period, from submission to
    publication, then each correction as a new version. Its id is `<scope key>|<period>`."""

    stream_prefix = "disclosure"

    def __init__(self, id: str):
        super().__init__(id)
        self.scope: Scope | None = None
        self.period: str | None = None
        self.submission: Submission | None = None
        self.versions: list[PublishedVersion] = []

    @staticmethod
    def id_of(scope: Scope, period: Period) -> str:
        return f"{scope_key(scope)}|{period}"

    @property
    def latest(self) -> PublishedVersion | None:
        return self.versions[-1] if self.versions else None

    def submit(self, *, scope: Scope, period: Period, cut_off: datetime, texts: Texts, target: float | None,
               by: str, at: datetime) -> None:
        if self.submission is not None:
            raise Conflict("this disclosure is already submitted and awaits the bureau's approval",
                           rule="R-PUB-1")
        if cut_off > at:
            raise Invalid("cut_off: the cut-off may not be in the future", rule="R-PUB-1")
        if local_date(cut_off) <= period.ends_on:
            raise Invalid(f"cut_off: the period {period} has not ended by the cut-off", rule="R-PUB-1")
        if self.latest is not None and cut_off <= self.latest.submission.cut_off:
            raise Invalid(f"cut_off: a correction's cut-off comes after that of {self.latest.number}",
                          rule="R-PUB-1")
        self.record(DisclosureSubmitted(
            scope=scope, period=str(period), cut_off=cut_off.astimezone(UTC), legal_basis=texts.legal_basis,
            procedure=texts.procedure, target=target, submitted_by=by, submitted_at=at.astimezone(UTC)))

    def return_(self, *, by: str, reason: str, at: datetime) -> None:
        if self.submission is None:
            raise Conflict("nothing is submitted")
        self.record(DisclosureReturned(returned_by=by, reason=reason, returned_at=at.astimezone(UTC)))

    def approve(self, *, by: str, at: datetime, changes: list[str]) -> PublishedVersion:
        """Publish the submission. `changes`: what it changes from the latest published version
        (computed by the caller from the two documents); a correction that changes nothing is refused."""
        if self.submission is None or self.scope is None or self.period is None:
            raise Conflict("nothing is submitted: a disclosure is submitted before it is approved")
        if by == self.submission.submitted_by:
            raise Forbidden("the approver must be another person than the submitter (four eyes)",
                            rule="R-PUB-1")
        latest = self.latest
        if latest is not None and not changes:
            raise Conflict(f"nothing changed since {latest.number}: no correction to publish", rule="R-PUB-1")
        version = len(self.versions) + 1
        self.record(DisclosurePublished(
            version=version, number=number_of(self.scope, Period.parse(self.period), version), approved_by=by,
            published_at=at.astimezone(UTC), replaces=latest.number if latest else None,
            changes=changes if latest else []))
        assert self.latest is not None
        return self.latest

    def when_DisclosureSubmitted(self, e: DisclosureSubmitted) -> None:
        self.scope, self.period = e.scope, e.period
        texts = Texts(legal_basis=e.legal_basis, procedure=e.procedure)
        self.submission = Submission(cut_off=e.cut_off, texts=texts, target=e.target,
                                     submitted_by=e.submitted_by, submitted_at=e.submitted_at)

    def when_DisclosureReturned(self, e: DisclosureReturned) -> None:
        self.submission = None

    def when_DisclosurePublished(self, e: DisclosurePublished) -> None:
        assert self.submission is not None
        self.versions.append(PublishedVersion(
            version=e.version, number=e.number, submission=self.submission, approved_by=e.approved_by,
            published_at=e.published_at, replaces=e.replaces, changes=tuple(e.changes)))
        self.submission = None


DisclosureWorkflow.handles(DisclosureSubmitted, DisclosureReturned, DisclosurePublished)


# --- composing a disclosure from the facts ----------------------------------------------------------

LEGAL_HELP = "duty_lawyer_help"  # the criminal role of duty-lawyer legal help (法律帮助)
LEGAL_HELP_NOTE = "值班律师法律帮助按人次统计（每一次法律帮助结束计一人次），不计入结案数及附件5、附件6。"


class ClosureFact(Protocol):
    """What compose reads of a closure: a `ClosureNoted`, or a row of the draft's read model
    (`case_kind` a CaseKind or its value)."""

    @property
    def case_id(self) -> str: ...
    @property
    def case_kind(self) -> str: ...
    @property
    def agency_id(self) -> str: ...
    @property
    def district(self) -> str: ...
    @property
    def institution_id(self) -> str: ...
    @property
    def institution_name(self) -> str: ...
    @property
    def handler_id(self) -> str: ...
    @property
    def handler_name(self) -> str: ...
    @property
    def handler_kind(self) -> str: ...
    @property
    def ended_on(self) -> date: ...
    @property
    def closed_at(self) -> datetime: ...
    @property
    def criminal_role(self) -> str | None: ...


class GradeResult(Protocol):
    """What tabulate reads of a grade (Annex 7's row; `case_kind` and `grade` members or their values)."""

    @property
    def case_number(self) -> str: ...
    @property
    def case_kind(self) -> str: ...
    @property
    def agency_id(self) -> str: ...
    @property
    def institution_name(self) -> str: ...
    @property
    def handler_name(self) -> str: ...
    @property
    def grade(self) -> str: ...


class GradeFact(GradeResult, Protocol):
    """What compose reads of a final grade: a `GradeNoted`, or a row of the events' facts."""

    @property
    def case_id(self) -> str: ...
    @property
    def completed_at(self) -> datetime: ...


class Payment(Protocol):
    """What tabulate reads of a subsidy paid (Annex 4's row; `case_kind` a CaseKind or its value)."""

    @property
    def case_number(self) -> str: ...
    @property
    def case_kind(self) -> str: ...
    @property
    def agency_id(self) -> str: ...
    @property
    def institution_name(self) -> str: ...
    @property
    def handler_name(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def paid_on(self) -> date: ...


class PaymentFact(Payment, Protocol):
    """What compose reads of a subsidy paid: a `SubsidyPaymentNoted`, or a row of the events' facts."""

    @property
    def case_id(self) -> str: ...


# Each kind and grade by its value (a StrEnum member hashes and compares as its value, so either finds it).
_CASE_KINDS = {kind.value: kind for kind in CaseKind}
_GRADES = {grade.value: grade for grade in Grade}
# The count columns of annexes 5 and 6, criminal to non-litigation.
_KIND_COLUMN = {kind.value: n for n, kind in enumerate(CaseKind)}


def _latest_by_case(facts: Iterable[F], moment: Callable[[F], Any]) -> dict[str, F]:
    """One fact per case, the latest by its own time (a later re-delivery of an older one loses);
    of two at the same time, the one recorded later."""
    latest: dict[str, F] = {}
    for fact in facts:
        held = latest.get(fact.case_id)
        if held is None or moment(held) <= moment(fact):
            latest[fact.case_id] = fact
    return latest


def _by_kind(counts: list[int]) -> dict[str, int]:
    """Annexes 5 and 6's count columns, in CaseKind's order, and their total."""
    return {**dict(zip(_KIND_COLUMN, counts, strict=True)), "total": sum(counts)}


class Caseload(NamedTuple):
    """One person's closed cases of the period (legal help aside), counted by kind: Annex 6's row,
    summed per institution into Annex 5's. The names are those of the person's latest closure (at
    `latest`); `first`, the moment of the first, orders two rows that would otherwise print alike."""

    agency_id: str
    institution_id: str
    handler_id: str
    institution_name: str
    handler_name: str
    handler_kind: str
    first: datetime
    latest: datetime
    criminal: int
    civil: int
    administrative: int
    non_litigation: int


def caseloads_of(cases: Iterable[ClosureFact]) -> list[Caseload]:
    """Each person's caseload of the given cases, in one pass (grouping first: counting every case
    again for each of a city's thousands of handlers made the draft quadratic). A renamed person is
    published under the name of their latest closure; of two at the same moment, the later given."""
    counts: dict[tuple[str, str, str], list[int]] = {}
    latest: dict[tuple[str, str, str], ClosureFact] = {}
    first: dict[tuple[str, str, str], datetime] = {}
    for c in cases:
        person, at = (c.agency_id, c.institution_id, c.handler_id), c.closed_at
        of_person = counts.get(person)
        if of_person is None:
            of_person = counts[person] = [0, 0, 0, 0]
            latest[person], first[person] = c, at
        else:
            if latest[person].closed_at <= at:
                latest[person] = c
            if at < first[person]:
                first[person] = at
        of_person[_KIND_COLUMN[c.case_kind]] += 1
    return [Caseload(*person, c.institution_name, c.handler_name, c.handler_kind, first[person], c.closed_at,
                     *counts[person])
            for person, c in latest.items()]


def compose(scope: Scope, period: Period, *, closures: Iterable[ClosureFact], grades: Iterable[GradeFact],
            payments: Iterable[PaymentFact], texts: Texts, target: float | None) -> Disclosure:
    """The scope's disclosure of the period (a draft: no number yet), from the facts as given.

    Placing (docs/publication.md "Which period"): a closed case by the day it ended (`ended_on`, Beijing),
    never by when its closure was recorded; a grade by its case's end day (the recording day of the
    grade if publication never saw the case's closure); a subsidy by the day it was paid. A district's
    disclosure holds the cases of that district (the district of the case's closure). Of several facts
    of a kind of one case, the latest counts. The draft's query places and counts the same in SQL
    (queries/disclosures.py) and hands `tabulate` what this hands it."""
    closed = _latest_by_case(closures, lambda c: c.closed_at)
    graded = _latest_by_case(grades, lambda g: g.completed_at)
    paid = _latest_by_case(payments, lambda p: p.paid_on)
    starts, ends = period.starts_on, period.ends_on

    def in_scope(agency_id: str, case_id: str) -> bool:
        if scope.level == "agency":
            return agency_id == scope.id
        if scope.level == "district":
            closure = closed.get(case_id)
            return closure is not None and closure.district == scope.id
        return True

    def placed(g: GradeFact) -> date:
        closure = closed.get(g.case_id)
        return closure.ended_on if closure is not None else local_date(g.completed_at)

    ended = [c for c in closed.values() if starts <= c.ended_on <= ends and in_scope(c.agency_id, c.case_id)]
    # Duty-lawyer legal help is no legal-aid case: published disclosures give it a row of its own,
    # in sessions (人次), beside the cases by kind; each help intake closes is one session.
    cases = [c for c in ended if c.criminal_role != LEGAL_HELP]
    evaluated: list[GradeResult] = [g for g in graded.values()
                                    if starts <= placed(g) <= ends and in_scope(g.agency_id, g.case_id)]
    payments_in: list[Payment] = [p for p in paid.values()
                                  if starts <= p.paid_on <= ends and in_scope(p.agency_id, p.case_id)]
    return tabulate(scope, period, caseloads=caseloads_of(cases), legal_help_sessions=len(ended) - len(cases),
                    grades=evaluated, payments=payments_in, texts=texts, target=target)


def tabulate(scope: Scope, period: Period, *, caseloads: Iterable[Caseload], legal_help_sessions: int,
             grades: list[GradeResult], payments: list[Payment], texts: Texts,
             target: float | None) -> Disclosure:
    """The disclosure of facts already placed in the period and the scope, one of each kind per case:
    the persons' caseloads, the grades and the payments. Sorts the lists it is given.

    A national half-year is some 700,000 cases: every step is one pass, and the annexes' long tables
    are made of values not validated again (`Row.made_of`)."""
    label = str(period)
    # A renamed firm is published under the name of its latest closure.
    loads = list(caseloads)
    institution_names: dict[tuple[str, str], tuple[datetime, str]] = {}
    of_institution: dict[tuple[str, str], list[int]] = {}
    for load in loads:
        institution = (load.agency_id, load.institution_id)
        named = institution_names.get(institution)
        if named is None or named[0] <= load.latest:
            institution_names[institution] = (load.latest, load.institution_name)
        counts = of_institution.setdefault(institution, [0, 0, 0, 0])
        counts[0] += load.criminal
        counts[1] += load.civil
        counts[2] += load.administrative
        counts[3] += load.non_litigation
    institution_rows = sorted(((agency, institution, name)
                               for (agency, institution), (_, name) in institution_names.items()),
                              key=lambda r: (r[0], r[2], r[1]))
    institutions = InstitutionCases.made_of(
        dict(period=label, agency_id=agency, institution_id=institution, institution_name=name,
             **_by_kind(of_institution[(agency, institution)]))
        for agency, institution, name in institution_rows)
    loads.sort(key=lambda load: (load.agency_id, institution_names[(load.agency_id, load.institution_id)][1],
                                 load.handler_name, load.handler_id, load.first))
    persons = PersonCases.made_of(
        dict(period=label, agency_id=load.agency_id, institution_id=load.institution_id,
             institution_name=institution_names[(load.agency_id, load.institution_id)][1],
             handler_id=load.handler_id, handler_name=load.handler_name, handler_kind=load.handler_kind,
             **_by_kind([load.criminal, load.civil, load.administrative, load.non_litigation]))
        for load in loads)
    grades.sort(key=lambda g: (g.case_number, g.agency_id))
    results = EvaluationResult.made_of(
        {"period": label, "agency_id": g.agency_id, "case_number": g.case_number,
         "case_kind": _CASE_KINDS[g.case_kind], "grade": _GRADES[g.grade],
         "institution_name": g.institution_name, "handler_name": g.handler_name} for g in grades)
    payments.sort(key=lambda p: (p.paid_on, p.case_number, p.agency_id))
    subsidies = SubsidyPayment.made_of(
        {"period": label, "agency_id": p.agency_id, "institution_name": p.institution_name,
         "handler_name": p.handler_name, "case_number": p.case_number, "case_kind": _CASE_KINDS[p.case_kind],
         "amount": p.amount, "paid_on": p.paid_on} for p in payments)

    disclosure = Disclosure.of(period, evaluations=results, institutions=institutions, persons=persons,
                               subsidies=subsidies, target=target)
    summary = disclosure.summary.model_copy(update=dict(
        legal_basis=texts.legal_basis, procedure=texts.procedure, legal_help_sessions=legal_help_sessions,
        notes=[LEGAL_HELP_NOTE]))
    return disclosure.model_copy(update=dict(
        title=f"{scope.name}{period.title}法律援助信息公开", scope=scope, summary=summary))


def as_published(draft: Disclosure, version: PublishedVersion) -> Disclosure:
    """The draft, composed as of the version's cut-off, stamped with what publishing it decided."""
    corrects = (Correction(replaces=version.replaces, changes=list(version.changes))
                if version.replaces is not None else None)
    return draft.model_copy(update=dict(
        status="published", number=version.number, version=version.version,
        cut_off=version.submission.cut_off, published_at=version.published_at, corrects=corrects))


# --- what a correction changed -----------------------------------------------------------------------


def _keyed(table: Table[Any], key: Callable[[Any], str]) -> dict[str, Row]:
    return {key(row): row for row in table.rows}


_TABLE_KEYS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "subsidy_payments": ("案件{}的补贴发放", lambda r: r.case_number),
    "cases_per_institution": ("法律服务机构{}", lambda r: f"{r.institution_name}（{r.agency_id}）"),
    "cases_per_person": ("承办人员{}", lambda r: f"{r.handler_name}（{r.institution_name}）"),
    "evaluation_results": ("案件{}的评估结果", lambda r: r.case_number),
}


def _values(row: Row) -> str:
    fields = [f for f in type(row).model_fields if f not in ("period", "agency_id")]
    return "，".join(f"{type(row).model_fields[f].title}{_word(getattr(row, f))}" for f in fields)


def _word(value: object) -> str:
    if isinstance(value, CaseKind):
        return CASE_KIND_TITLES[value]
    if isinstance(value, Grade):
        return GRADE_TITLES[value]
    return str(value)


def changes_between(before: Disclosure, after: Disclosure) -> list[str]:
    """What `after` changes from `before`, one sentence each: the summary's figures, then each
    table's rows added, removed or changed (published identities and names only)."""
    changes: list[str] = []
    b, a = before.summary, after.summary
    figures = [("结案数", b.cases_closed, a.cases_closed),
               ("评估案件数", b.cases_evaluated, a.cases_evaluated),
               ("优良率（%）", b.excellent_and_good_rate, a.excellent_and_good_rate),
               ("补贴发放总额（元）", b.subsidies_paid, a.subsidies_paid)]
    figures += [(f"{CASE_KIND_TITLES[k]}结案数", getattr(b.cases_closed_by_kind, k.value),
                 getattr(a.cases_closed_by_kind, k.value)) for k in CaseKind]
    figures += [(f"评估等级“{g.title}”的案件数", g.count, h.count)
                for g, h in zip(b.grade_distribution, a.grade_distribution, strict=True)]
    changes += [f"{name}由{old}变为{new}。" for name, old, new in figures if old != new]
    if b.legal_basis != a.legal_basis:
        changes.append("法律依据的表述已修改。")
    if b.procedure != a.procedure:
        changes.append("工作程序的表述已修改。")
    for field, (label, key) in _TABLE_KEYS.items():
        old_table, new_table = getattr(before.tables, field), getattr(after.tables, field)
        old, new = _keyed(old_table, key), _keyed(new_table, key)
        annex = f"附件{new_table.annex}"
        for k in sorted(new.keys() - old.keys()):
            changes.append(f"{annex}新增{label.format(k)}：{_values(new[k])}。")
        for k in sorted(old.keys() - new.keys()):
            changes.append(f"{annex}删除{label.format(k)}：{_values(old[k])}。")
        for k in sorted(old.keys() & new.keys()):
            if old[k] != new[k]:
                changes.append(f"{annex}{label.format(k)}由“{_values(old[k])}”改为“{_values(new[k])}”。")
    return changes
