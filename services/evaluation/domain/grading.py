"""What a case is graded on and how (R-EVL-1, R-EVL-2): the first-level indicators (一级指标) of
its kind's standard (SF/T 0086 criminal, SF/T 0085 civil and administrative), and the versioned
rules that turn the indicator grades into the case's grade."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

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


class IndicatorsMismatch(Invalid):
    rule = "R-EVL-1"


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

# Recorded by version with each evaluation, so a grade can always be explained by the rule
# that gave it even after an agency switches rules.
GRADING_RULES: dict[str, GradingRule] = {"default-v1": default_v1}
DEFAULT_RULE = "default-v1"


class UnknownGradingRule(Invalid):
    pass


def grading_rule(version: str) -> GradingRule:
    """The rule of this version (R-EVL-2)."""
    rule = GRADING_RULES.get(version)
    if rule is None:
        raise UnknownGradingRule(f"no grading rule {version}")
    return rule
