"""Public disclosure (信息公开, R-PUB-1): the half-year period and the disclosure's figures and
tables (pure: no I/O).

Publication records no facts of its own yet (a `DisclosurePublished` stream comes with the
publishing workflow); what it knows are read models of other services' events. This module
holds the rules that turn those rows into a disclosure: which half-year a moment belongs to,
in Beijing's time, and the summary the published disclosures carry above their tables.
Nothing here may ever name an aided person; the rows it is given carry no such data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import BEIJING, local_date
from shared.contracts import CaseKind, Grade

# Disclosures follow the bureau's calendar, not UTC: an evaluation at 01:00 on 1 July in Beijing
# belongs to the second half-year even though it is still 30 June in UTC (shared.clock).
PERIOD_PATTERN = r"^[1-9]\d{3}-H[12]$"

CASE_KIND_TITLES = {
    CaseKind.criminal: "刑事",
    CaseKind.civil: "民事",
    CaseKind.administrative: "行政",
    CaseKind.non_litigation: "非诉讼",
}
GRADE_TITLES = {Grade.excellent: "优秀", Grade.good: "良好", Grade.pass_: "合格", Grade.fail: "不合格"}


@dataclass(frozen=True, order=True)
class Period:
    """A half-year: `2026-H1` is January to June, `2026-H2` July to December (Beijing time)."""

    year: int
    half: int

    @classmethod
    def parse(cls, text: str) -> Period:
        year, half = text.split("-H")
        return cls(int(year), int(half))

    @classmethod
    def of(cls, moment: datetime) -> Period:
        """The period a moment falls in; a naive moment is taken as UTC, as the kernel writes it."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        day = local_date(moment)
        return cls(day.year, 1 if day.month <= 6 else 2)

    @property
    def starts_on(self) -> date:
        return date(self.year, 1 if self.half == 1 else 7, 1)

    @property
    def ends_on(self) -> date:
        return date(self.year, 6, 30) if self.half == 1 else date(self.year, 12, 31)

    def __str__(self) -> str:
        return f"{self.year:04d}-H{self.half}"


# --- the tables (domain.md "Disclosure", annexes 5 to 7) ---------------------------------
# Column names are stable English keys; each column's title is the Chinese header published.


class Row(BaseModel):
    model_config = ConfigDict(frozen=True)

    @classmethod
    def columns(cls) -> list[Column]:
        return [Column(name=name, title=field.title or name) for name, field in cls.model_fields.items()]


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


class Tables(BaseModel):
    """The annexes, in the order they are published. Renderers iterate the fields in this order,
    so a new annex added here appears in every form without touching them."""

    subsidy_payments: Table[SubsidyPayment] = Field(
        default_factory=lambda: Table.of(SubsidyPayment, annex=4, title="法律援助办案补贴发放情况", rows=[]),
        description="Annex 4; filled by the publishing workflow from the subsidy events")
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
    legal_help_sessions: int | None = Field(
        default=None, description="Duty-lawyer legal help (法律帮助), counted per session")
    subsidies_paid: Decimal | None = Field(default=None, description="Subsidies paid in the period, yuan")


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
           persons: list[PersonCases]) -> Disclosure:
        closed = CasesByKind(
            **{kind.value: sum(getattr(i, kind.value) for i in institutions) for kind in CaseKind},
            total=sum(i.total for i in institutions))
        evaluated = len(evaluations)
        counts = {grade: sum(1 for e in evaluations if e.grade == grade) for grade in Grade}
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
                excellent_and_good_rate=percentage(counts[Grade.excellent] + counts[Grade.good], evaluated),
            ),
            tables=Tables(
                evaluation_results=Table.of(
                    EvaluationResult, annex=7, title="法律援助案件质量同行评估结果",
                    rows=sorted(evaluations, key=lambda e: e.case_number)),
                cases_per_institution=Table.of(
                    InstitutionCases, annex=5, title="法律服务机构承办案件情况", rows=institutions),
                cases_per_person=Table.of(
                    PersonCases, annex=6, title="法律援助人员承办案件情况", rows=persons),
            ),
        )
