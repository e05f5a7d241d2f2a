"""What a case is graded on and how (R-EVL-1, R-EVL-2): the first-level indicators (一级指标) of
its kind's standard (SF/T 0086 criminal, SF/T 0085 civil and administrative), and the versioned
rules that turn the indicator grades into the case's grade."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal

from services.evaluation.domain.standards import IndicatorsMismatch as IndicatorsMismatch
from services.evaluation.domain.standards import StandardVersion
from shared.aggregate import Invalid
from shared.contracts import CaseKind, Grade

# --- the first-level indicators (一级指标) --------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    key: str
    name: str
    name_zh: str


INDICATORS: dict[str, Indicator] = {
    i.key: i
    for i in (
        Indicator("mandate", "lawful establishment of the mandate", "依法确立委托代理关系"),
        Indicator("meeting", "timely and effective meeting with the aided person", "及时有效会见受援人"),
        Indicator("file_review", "timely and effective reading of the case file", "及时有效阅卷"),
        Indicator("investigation_work", "lawful investigation and evidence collection", "依法调查取证"),
        Indicator("legal_opinion", "effective legal opinions", "有效提出法律意见"),
        Indicator("hearing", "lawful participation in hearings, mediation or arbitration",
                  "依法参加庭审活动"),
        Indicator("notice_duty", "full performance of the duty to inform", "全面履行告知义务"),
        Indicator("report_duty", "performance of the duty to report to the agency", "履行报告义务"),
        # SF/T 0085 reads the duties to inform and to report together as one indicator.
        Indicator("notice_and_report_duty", "performance of the duties to inform and to report",
                  "全面履行告知义务和报告义务"),
        Indicator("closing_file", "orderly closing file, submitted in time", "规范整理提交承办材料"),
    )
}


# --- the standards: which indicators a case of each kind is graded on ----------------------


@dataclass(frozen=True)
class Standard:
    code: str
    title: str
    indicators: tuple[str, ...]


CRIMINAL_STANDARD = Standard(
    "SF/T 0086-2020", "criminal legal-aid cases",
    ("meeting", "file_review", "investigation_work", "legal_opinion", "hearing", "notice_duty", "report_duty",
     "closing_file"),
)
CIVIL_ADMINISTRATIVE_STANDARD = Standard(
    "SF/T 0085-2020", "civil and administrative legal-aid cases",
    ("mandate", "meeting", "file_review", "investigation_work", "legal_opinion", "hearing",
     "notice_and_report_duty", "closing_file"),
)
# Non-litigation matters have no standard of their own; agencies use the civil one.
STANDARD_BY_KIND: dict[CaseKind, Standard] = {
    CaseKind.criminal: CRIMINAL_STANDARD,
    CaseKind.civil: CIVIL_ADMINISTRATIVE_STANDARD,
    CaseKind.administrative: CIVIL_ADMINISTRATIVE_STANDARD,
    CaseKind.non_litigation: CIVIL_ADMINISTRATIVE_STANDARD,
}


def standard_for(kind: CaseKind) -> Standard:
    return STANDARD_BY_KIND[kind]


def check_indicators(standard: Standard, indicators: Mapping[str, Grade]) -> None:
    """R-EVL-1: exactly the indicators of the standard, each missing or unknown one named."""
    missing = sorted(set(standard.indicators) - set(indicators))
    unknown = sorted(set(indicators) - set(standard.indicators))
    if missing or unknown:
        parts = [f"missing: {', '.join(missing)}" if missing else "",
                 f"unknown: {', '.join(unknown)}" if unknown else ""]
        raise IndicatorsMismatch(
            f"indicators must be exactly those of {standard.code}; " + "; ".join(p for p in parts if p)
        )


# --- grading rules: indicator grades -> the case's grade ------------------------------------

GOOD_OR_BETTER = {Grade.excellent, Grade.good}


def default_v1(grades: Mapping[str, Grade]) -> Grade:
    """domain.md's default: any fail fails the case; excellent needs at least 6 excellent and
    nothing below good; good needs at least 6 good or better; otherwise pass."""
    counts = Counter(grades.values())
    if counts[Grade.fail]:
        return Grade.fail
    good_or_better = counts[Grade.excellent] + counts[Grade.good]
    if counts[Grade.excellent] >= 6 and good_or_better == len(grades):
        return Grade.excellent
    if good_or_better >= 6:
        return Grade.good
    return Grade.pass_


GradingRule = Callable[[Mapping[str, Grade]], Grade]


class UnknownGradingRule(Invalid):
    pass


@dataclass(frozen=True)
class CaseRule:
    """A versioned rule from indicator grades (and, for a points rule, points) to the case's grade.
    `default-v1` grades from the indicator grades; the points presets from the points out of 100.
    Under every rule a veto item not done fails the case (domain.md: work not done at all fails its
    indicator); `late_file_fails`: a closing file archived late fails the case outright."""

    version: str
    description: str
    by_points: bool = False
    excellent_at: int | None = None  # points, when by_points
    good_at: int | None = None
    pass_at: int | None = None
    late_file_fails: bool = False

    def grade(self, indicators: Mapping[str, Grade], total_points: Decimal | None, *, vetoed: bool,
              late_file: bool) -> Grade:
        if vetoed or (self.late_file_fails and late_file):
            return Grade.fail
        if not self.by_points:
            return default_v1(indicators)
        assert total_points is not None and self.good_at is not None and self.pass_at is not None
        if self.excellent_at is not None and total_points >= self.excellent_at:
            return Grade.excellent
        if total_points >= self.good_at:
            return Grade.good
        if total_points >= self.pass_at:
            return Grade.pass_
        return Grade.fail


DEFAULT_RULE = "default-v1"
# Recorded by version with each evaluation, so a grade can always be explained by the rule
# that gave it even after an agency switches rules.
GRADING_RULES: dict[str, CaseRule] = {r.version: r for r in (
    CaseRule(DEFAULT_RULE, "any indicator fail fails the case; excellent with at least 6 indicators "
                           "excellent and none below good; good with at least 6 good or better; else pass"),
    CaseRule("points-90-80-60", "100 points: excellent at 90 or more, good at 80, pass at 60, else fail "
                                "(Guangdong)", by_points=True, excellent_at=90, good_at=80, pass_at=60),
    # Chongqing's one band 优良 (excellent or good) is recorded as good: it counts the same in the
    # excellent-and-good rate, and no case is named excellent without a band of its own.
    CaseRule("points-80-late-fails", "100 points: excellent-or-good (recorded as good) at 80 or more, "
                                     "pass at 60, else fail; a closing file archived late fails outright "
                                     "(Chongqing)", by_points=True, good_at=80, pass_at=60,
             late_file_fails=True),
)}


def grading_rule(version: str) -> CaseRule:
    """The rule of this version (R-EVL-2)."""
    rule = GRADING_RULES.get(version)
    if rule is None:
        raise UnknownGradingRule(f"no grading rule {version}: one of {', '.join(sorted(GRADING_RULES))}")
    return rule


# --- the one call point: a case's grade under a standard version and a rule -------------------


class PointsRequired(Invalid):
    rule = "R-EVL-2"


class PointsOutsideStandard(Invalid):
    rule = "R-EVL-1"


class NotAVetoItem(Invalid):
    rule = "R-EVL-1"


@dataclass(frozen=True)
class CaseGrading:
    """A case's grade and everything it was made of, to record with the result."""

    grade: Grade
    indicators: dict[str, Grade]  # as graded, a vetoed indicator failed
    standard: str  # the standard's code
    standard_version: str
    rule_version: str
    points: dict[str, Decimal] | None
    total_points: Decimal | None
    not_done: tuple[str, ...]  # the veto items not done
    late_file: bool


def grade_case(*, standard: StandardVersion, rule_version: str, indicators: Mapping[str, Grade],
               points: Mapping[str, Decimal] | None = None, not_done: Collection[str] = (),
               late_file: bool = False) -> CaseGrading:
    """R-EVL-1, R-EVL-2: grade a case under `standard` (the version in force) by the rule
    `rule_version` (the agency's). `indicators`: a grade for each indicator of the version;
    `points`: for a points rule, the points of each indicator (0 to its max_points; a vetoed
    indicator counts 0); `not_done`: veto items whose work was not done at all (each fails its
    indicator, and the case); `late_file`: the closing file was archived late."""
    rule = grading_rule(rule_version)
    standard.check_indicators(indicators)
    vetoes = standard.veto_items
    unknown = sorted(set(not_done) - set(vetoes))
    if unknown:
        raise NotAVetoItem(f"not_done: not veto items of {standard.version}: {', '.join(unknown)} "
                           f"(its veto items: {', '.join(sorted(vetoes))})")
    vetoed = {vetoes[item] for item in not_done}
    grades = {key: Grade.fail if key in vetoed else Grade(indicators[key]) for key in standard.indicator_keys}
    given: dict[str, Decimal] | None = None
    total: Decimal | None = None
    if points is not None or rule.by_points:
        if points is None:
            raise PointsRequired(f"points: the rule {rule.version} grades by points; give the points of "
                                 f"each indicator ({', '.join(standard.indicator_keys)})")
        missing = sorted(set(standard.indicator_keys) - set(points))
        extra = sorted(set(points) - set(standard.indicator_keys))
        if missing or extra:
            raise PointsOutsideStandard(f"points: exactly the indicators of {standard.version}; missing: "
                                        f"{', '.join(missing) or '-'}; unknown: {', '.join(extra) or '-'}")
        over = sorted(k for k in points if not 0 <= points[k] <= standard.indicator(k).max_points)
        if over:
            raise PointsOutsideStandard("points: " + "; ".join(
                f"{k} is worth 0 to {standard.indicator(k).max_points}" for k in over))
        given = {k: Decimal(0) if k in vetoed else Decimal(points[k]) for k in standard.indicator_keys}
        total = sum(given.values(), Decimal(0))
    grade = rule.grade(grades, total, vetoed=bool(vetoed), late_file=late_file)
    return CaseGrading(grade=grade, indicators=grades, standard=standard.code,
                       standard_version=standard.version, rule_version=rule.version, points=given,
                       total_points=total, not_done=tuple(sorted(set(not_done))), late_file=late_file)
