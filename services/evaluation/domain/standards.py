"""The evaluation standards as data (R-EVL-1): the nine first-level indicators (一级指标), which of
them each standard grades on, the second-level items (二级指标) of each, and the points each weighs
under a points rule; versioned, a new edition being a new version, and each result keeping the
version it was graded under. And the grading rule each agency chose, with its history.

Version 1 of each standard is seeded by the migration `0007_standards_opinions` (the same data
as `SEED_STANDARDS` here, checked by a test); the city bureau registers later editions. The
streams are `standard-<standard_id>` and `grading-rule-<agency_id>`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.aggregate import Aggregate, Conflict, DomainEvent, Invalid, NotFound
from shared.contracts import CaseKind, Grade

# --- the nine first-level indicators (domain.md, in their published order) ------------------


@dataclass(frozen=True)
class FirstLevel:
    number: int
    name: str
    name_zh: str


FIRST_LEVEL: tuple[FirstLevel, ...] = (
    FirstLevel(1, "lawful establishment of the mandate", "依法确立委托代理关系"),
    FirstLevel(2, "timely and effective meeting with the aided person", "及时有效会见受援人"),
    FirstLevel(3, "timely and effective reading of the case file", "及时有效阅卷"),
    FirstLevel(4, "lawful investigation and evidence collection", "依法调查取证"),
    FirstLevel(5, "effective legal opinions", "有效提出法律意见"),
    FirstLevel(6, "lawful participation in hearings, mediation or arbitration", "依法参加庭审活动"),
    FirstLevel(7, "full performance of the duty to inform", "全面履行告知义务"),
    FirstLevel(8, "performance of the duty to report to the agency", "履行报告义务"),
    FirstLevel(9, "orderly closing file, submitted in time", "规范整理提交承办材料"),
)


# --- a standard's terms ---------------------------------------------------------------------


class Item(BaseModel):
    """A second-level item (二级指标): a duty the reviewer checks. A veto item (否决项) is work
    that must be done at all: when it was not, its indicator fails whatever its grade, and the
    case fails under every rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_.]+$")
    text: str = Field(min_length=1, max_length=300)
    duty: str | None = Field(default=None, max_length=40, description="The rule the duty comes from")
    veto: bool = False


class StandardIndicator(BaseModel):
    """A first-level indicator of a standard: one of the nine, or several read together."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    members: list[int] = Field(min_length=1, max_length=9,
                               description="Which of the nine first-level indicators (1-9) it grades")
    name: str = Field(min_length=1, max_length=200)
    name_zh: str = Field(min_length=1, max_length=100)
    max_points: int = Field(ge=1, le=100, description="What it weighs under a points rule (all sum to 100)")
    items: list[Item] = Field(min_length=1, max_length=30)


class StandardTerms(BaseModel):
    """An edition of a standard: its code, when it applies from, and its indicators."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"examples": [{
        "code": "SF/T 0086-2026", "title": "刑事法律援助服务规范（2026年版）", "effective_from": "2027-01-01",
        "indicators": [{"key": "meeting", "members": [2], "name": "timely and effective meeting",
                        "name_zh": "及时有效会见受援人", "max_points": 100,
                        "items": [{"key": "meeting.met", "text": "Met the aided person", "duty": "R-HDL-1",
                                   "veto": True}]}],
    }]})

    code: str = Field(min_length=1, max_length=40, description="The standard's number, e.g. SF/T 0086-2020")
    title: str = Field(min_length=1, max_length=200)
    effective_from: date = Field(description="Evaluations completed from this Beijing day on use it")
    indicators: list[StandardIndicator] = Field(min_length=1, max_length=9)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        keys = [i.key for i in self.indicators]
        if len(set(keys)) != len(keys):
            raise ValueError("indicators: a key is listed twice")
        members = [m for i in self.indicators for m in i.members]
        if len(set(members)) != len(members) or not all(1 <= m <= 9 for m in members):
            raise ValueError("indicators: members are the first-level indicators 1-9, each at most once")
        items = [item.key for i in self.indicators for item in i.items]
        if len(set(items)) != len(items):
            raise ValueError("indicators: an item key is listed twice")
        if sum(i.max_points for i in self.indicators) != 100:
            raise ValueError("indicators: max_points must sum to 100")
        return self


# The standards and the case kinds each grades (non-litigation matters have no standard of their
# own; agencies use the civil one).
STANDARD_KINDS: dict[str, tuple[CaseKind, ...]] = {
    "criminal": (CaseKind.criminal,),
    "civil-administrative": (CaseKind.civil, CaseKind.administrative, CaseKind.non_litigation),
}
STANDARD_OF_KIND: dict[CaseKind, str] = {kind: sid for sid, kinds in STANDARD_KINDS.items() for kind in kinds}


class StandardVersion(BaseModel):
    """One version of a standard, as a case is graded under it."""

    model_config = ConfigDict(frozen=True)

    standard_id: str
    version: str
    number: int
    case_kinds: list[CaseKind]
    terms: StandardTerms

    @property
    def code(self) -> str:
        return self.terms.code

    @property
    def indicator_keys(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.terms.indicators)

    def indicator(self, key: str) -> StandardIndicator:
        return next(i for i in self.terms.indicators if i.key == key)

    @property
    def veto_items(self) -> dict[str, str]:
        """Each veto item's key -> the key of its indicator."""
        return {item.key: i.key for i in self.terms.indicators for item in i.items if item.veto}

    def check_indicators(self, grades: Mapping[str, Grade]) -> None:
        """R-EVL-1: exactly the indicators of this version, each missing or unknown one named."""
        missing = sorted(set(self.indicator_keys) - set(grades))
        unknown = sorted(set(grades) - set(self.indicator_keys))
        if missing or unknown:
            parts = [f"missing: {', '.join(missing)}" if missing else "",
                     f"unknown: {', '.join(unknown)}" if unknown else ""]
            raise IndicatorsMismatch(
                f"indicators must be exactly those of {self.code} ({self.version}); "
                + "; ".join(p for p in parts if p))


class IndicatorsMismatch(Invalid):
    rule = "R-EVL-1"


def version_id(standard_id: str, number: int) -> str:
    return f"{standard_id}-v{number}"


# --- the seed: version 1 of each standard, second-level items from R-HDL-1..5 and R-ASG-9 -----


def _i(key: str, text: str, duty: str | None = None, *, veto: bool = False) -> Item:
    return Item(key=key, text=text, duty=duty, veto=veto)


_NO_MONEY = _i("conduct.no_money_taken", "Took no money or property from the aided person", "R-HDL-1",
               veto=True)
_MANDATE = [_i("mandate.signed", "Signed the mandate (agreement and power of attorney) with the aided person",
               "R-ASG-9", veto=True),
            _i("mandate.in_time", "Signed it within 5 days of assignment", "R-ASG-9"),
            _i("mandate.in_file", "The signed agreement and power of attorney are in the file", "R-ASG-9")]
_MEETING = [_i("meeting.met", "Met the aided person (约见 in civil and administrative cases)", "R-HDL-1",
               veto=True),
            _i("meeting.in_time", "Met them promptly after assignment", "R-HDL-6"),
            _i("meeting.according_to_case", "Talked according to the case", "R-HDL-1"),
            _i("meeting.recorded", "Recorded the conversation in detail", "R-HDL-1")]
_FILE_REVIEW = [_i("file_review.read", "Read the case file", "R-HDL-2", veto=True),
                _i("file_review.notes", "Kept complete and specific notes of the reading", "R-HDL-2")]
_INVESTIGATION = [_i("investigation.where_needed", "Investigated and collected evidence where the case "
                     "needed it", "R-HDL-4"),
                  _i("investigation.recorded", "Recorded the investigation and the evidence collected",
                     "R-HDL-4")]
_OPINION = [_i("legal_opinion.given", "Gave a defence or representation opinion", "R-HDL-3", veto=True),
            _i("legal_opinion.argued_fully", "The statement argues fully", "R-HDL-3")]
_HEARING = [_i("hearing.attended", "Attended the hearing (and any mediation or arbitration)", "R-HDL-3",
               veto=True),
            _i("hearing.argued", "Argued the opinion at the hearing", "R-HDL-3")]
_NOTICE = [_i("notice.rights_and_obligations", "Told the aided person their rights and obligations",
              "R-HDL-1"),
           _i("notice.litigation_risks", "Told the aided person the litigation risks", "R-HDL-1")]
_REPORT = [_i("report.major_matters", "Reported to the agency on the case's progress and major matters")]
_CLOSING = [_i("closing_file.submitted", "Submitted a closing file", "R-HDL-5", veto=True),
            _i("closing_file.complete", "All materials went into the closing file", "R-HDL-5"),
            _i("closing_file.in_time", "Submitted it within 30 days of the case's end", "R-HDL-6")]


def _ind(number: int, key: str, points: int, items: list[Item], *, members: list[int] | None = None,
         name: str | None = None, name_zh: str | None = None) -> StandardIndicator:
    first = FIRST_LEVEL[number - 1]
    return StandardIndicator(key=key, members=members or [number], name=name or first.name,
                             name_zh=name_zh or first.name_zh, max_points=points, items=items)


SEED_STANDARDS: tuple[StandardVersion, ...] = (
    StandardVersion(
        standard_id="criminal", version="criminal-v1", number=1, case_kinds=[CaseKind.criminal],
        terms=StandardTerms(
            code="SF/T 0086-2020", title="全国刑事法律援助服务规范", effective_from=date(2021, 1, 1),
            indicators=[
                _ind(2, "meeting", 15, [*_MEETING, _NO_MONEY]), _ind(3, "file_review", 10, _FILE_REVIEW),
                _ind(4, "investigation_work", 10, _INVESTIGATION), _ind(5, "legal_opinion", 20, _OPINION),
                _ind(6, "hearing", 15, _HEARING), _ind(7, "notice_duty", 10, _NOTICE),
                _ind(8, "report_duty", 5, _REPORT), _ind(9, "closing_file", 15, _CLOSING),
            ])),
    StandardVersion(
        standard_id="civil-administrative", version="civil-administrative-v1", number=1,
        case_kinds=list(STANDARD_KINDS["civil-administrative"]),
        terms=StandardTerms(
            code="SF/T 0085-2020", title="全国民事行政法律援助服务规范", effective_from=date(2021, 1, 1),
            indicators=[
                _ind(1, "mandate", 10, [*_MANDATE, _NO_MONEY]), _ind(2, "meeting", 10, _MEETING),
                _ind(3, "file_review", 10, _FILE_REVIEW), _ind(4, "investigation_work", 10, _INVESTIGATION),
                _ind(5, "legal_opinion", 20, _OPINION), _ind(6, "hearing", 15, _HEARING),
                _ind(7, "notice_and_report_duty", 10, [*_NOTICE, *_REPORT], members=[7, 8],
                     name="performance of the duties to inform and to report",
                     name_zh="全面履行告知义务和报告义务"),
                _ind(9, "closing_file", 15, _CLOSING),
            ])),
)
SEED_OF_KIND: dict[CaseKind, StandardVersion] = {kind: s for s in SEED_STANDARDS for kind in s.case_kinds}


def seed_for(kind: CaseKind) -> StandardVersion:
    """Version 1 of the standard of this kind of case."""
    return SEED_OF_KIND[kind]


# --- registering a new edition ----------------------------------------------------------------


class StandardVersionRegistered(DomainEvent):
    standard_id: str
    version: str
    number: int
    case_kinds: list[CaseKind]
    terms: StandardTerms
    registered_by: str
    registered_at: datetime


class NotLaterThanInForce(Conflict):
    rule = "R-EVL-1"


class UnknownStandard(NotFound):
    pass


class Standard(Aggregate):
    """A standard's versions after its seed (version 1, from the migration). Its id is the
    standard's id (criminal, civil-administrative)."""

    stream_prefix = "standard"

    def __init__(self, id: str):
        super().__init__(id)
        seed = next((s for s in SEED_STANDARDS if s.standard_id == id), None)
        self.latest: StandardVersion | None = seed

    def register(self, *, terms: StandardTerms, by: str, at: datetime) -> StandardVersion:
        """A new edition: the next number, applying from a day after the latest version's."""
        latest = self.latest
        if latest is None:
            raise UnknownStandard(f"no standard {self.id}: one of {', '.join(STANDARD_KINDS)}")
        if terms.effective_from <= latest.terms.effective_from:
            raise NotLaterThanInForce(
                f"effective_from: a new version applies after {latest.version}, which applies from "
                f"{latest.terms.effective_from}")
        number = latest.number + 1
        self.record(StandardVersionRegistered(
            standard_id=self.id, version=version_id(self.id, number), number=number,
            case_kinds=list(STANDARD_KINDS[self.id]), terms=terms, registered_by=by, registered_at=at))
        assert self.latest is not None
        return self.latest

    def when_StandardVersionRegistered(self, e: StandardVersionRegistered) -> None:
        self.latest = StandardVersion(standard_id=e.standard_id, version=e.version, number=e.number,
                                      case_kinds=e.case_kinds, terms=e.terms)


Standard.handles(StandardVersionRegistered)


# --- the agency's grading rule (a setting with its history) -----------------------------------


class GradingRuleChosen(DomainEvent):
    agency_id: str
    rule_version: str
    number: int
    reason: str
    chosen_by: str
    chosen_at: datetime


class AgencyGradingRule(Aggregate):
    """The grading rule an agency grades its cases by; every choice is kept. Its id is the
    agency's id; until it chooses, the city's default (settings) grades."""

    stream_prefix = "grading-rule"

    def __init__(self, id: str):
        super().__init__(id)
        self.rule_version: str | None = None
        self.number = 0

    def choose(self, *, rule_version: str, known: Mapping[str, object], reason: str, by: str,
               at: datetime) -> bool:
        """Choose one of the `known` rules; choosing the rule in force changes nothing (False)."""
        if rule_version not in known:
            raise Invalid(f"rule_version: one of {', '.join(sorted(known))}, not {rule_version!r}",
                          rule="R-EVL-2")
        if rule_version == self.rule_version:
            return False
        self.record(GradingRuleChosen(agency_id=self.id, rule_version=rule_version, number=self.number + 1,
                                      reason=reason, chosen_by=by, chosen_at=at))
        return True

    def when_GradingRuleChosen(self, e: GradingRuleChosen) -> None:
        self.rule_version, self.number = e.rule_version, e.number


AgencyGradingRule.handles(GradingRuleChosen)
