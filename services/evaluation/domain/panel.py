"""A file of a round and its panel (R-EVL-6): who reads it, their readings, the panel's result
by the stated rule, a disputed result re-reviewed as a new result, and the final result. The
stream is `panel-<file_id>`.

The panel rule `panel-majority-v1`:
- each reading grades the case through grading.grade_case, under the standard version recorded on
  the file when it was drawn (the version in force on the day the round opens) and the grading
  rule recorded on the round (the agency's, when it opened), with the reader's points (a points
  rule), veto items not done and a late closing file, as a single reviewer's evaluation is graded;
- a file read by one reviewer and graded fail is re-read by two more (stage `re-read`); a file
  read by two from the start with exactly one fail gets a third; more readers never come
  otherwise;
- the result is the lower median of the readings' grades (best to worst: excellent, good, pass,
  fail): with three readings, the majority grade, the middle one when all three differ, so a fail
  stands only when at least two of the three fail; with one reading, that grade; with two (both
  fail, or neither), the lower;
- each indicator of the result is the lower median of that indicator's grades, the same way; under
  a points rule each indicator's points and the total are the lower (smaller) median of the
  readings' (the total is what the case's grade follows, not the sum of the indicators' medians); a
  veto item, or a late file, counts as not done (late) when it is the lower median, i.e. when at
  least half of the readers say so (the one reader; one of two; two of three);
- a result may be disputed once while the round is open: three experts who have not read the file
  re-review it (stage `re-review`) and their panel's result, by the same rule, is a new result
  (number 2); the first stays recorded as it was;
- at the round's closure, each file's latest result is final: the integration events
  (EvaluationCompleted, and EvaluationFailed for a fail) are emitted from it once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from services.evaluation.domain.grading import CaseGrading, grade_case
from services.evaluation.domain.pool import Candidate
from services.evaluation.domain.standards import StandardVersion, seed_for
from shared.aggregate import Aggregate, Conflict, DomainEvent, NotFound
from shared.contracts import CaseKind, Grade, HandlerRef

PANEL_RULE = "panel-majority-v1"
FIRST, RE_READ, RE_REVIEW = "first", "re-read", "re-review"
ORDER = (Grade.excellent, Grade.good, Grade.pass_, Grade.fail)


class DrawnCase(BaseModel):
    """The case of a file as evaluation knows it (the handler never shown to the readers)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    district: str
    handler: HandlerRef
    closed_at: datetime

    @property
    def candidate(self) -> Candidate:
        return Candidate(
            case_id=self.case_id,
            case_kind=self.case_kind,
            agency_id=self.agency_id,
            district=self.district,
            handler_id=self.handler.handler_id,
            institution_id=self.handler.institution_id,
        )


def grade_reading(
    standard: StandardVersion,
    rule_version: str,
    indicators: Mapping[str, Grade],
    *,
    points: Mapping[str, Decimal] | None = None,
    not_done: Collection[str] = (),
    late_file: bool = False,
) -> CaseGrading:
    """The one place a reading is graded: grading.grade_case under the file's standard version and
    the round's rule (R-EVL-1, R-EVL-2), exactly as a single reviewer's evaluation is graded."""
    return grade_case(
        standard=standard,
        rule_version=rule_version,
        indicators=indicators,
        points=points,
        not_done=not_done,
        late_file=late_file,
    )


def lower_median(grades: Sequence[Grade]) -> Grade:
    ranked = sorted(grades, key=ORDER.index)
    return ranked[len(ranked) // 2]


def lower_median_points(values: Sequence[Decimal]) -> Decimal:
    """The lower median of points: the smaller middle value (as a grade's lower median is the
    worse)."""
    ranked = sorted(values, reverse=True)
    return ranked[len(ranked) // 2]


def said_by_the_lower_median(count: int, readers: int) -> bool:
    """Whether a finding (a veto item not done, a late file) counts for the panel: it does when it
    is the lower median of the readers' answers, i.e. said by at least half of them."""
    return count >= readers - readers // 2


def more_readers_needed(grades: Sequence[Grade]) -> int:
    """How many more must read before the panel decides: a single fail among fewer than three."""
    if sum(g is Grade.fail for g in grades) == 1 and len(grades) < 3:
        return 3 - len(grades)
    return 0


# --- events -------------------------------------------------------------------------------


class FileDrawn(DomainEvent):
    file_id: str
    round_id: str
    case: DrawnCase
    seed: str
    rule_version: str
    readers: list[str]
    wanted: int
    drawn_at: datetime
    # The standard version its readings are graded under (in force on the day the round opened);
    # absent from files drawn before versions: version 1 of the kind's standard.
    standard_version: str | None = None


class ReadersAdded(DomainEvent):
    file_id: str
    stage: str
    readers: list[str]
    wanted: int
    at: datetime


class FileRead(DomainEvent):
    file_id: str
    reviewer_id: str
    stage: str
    standard: str
    indicators: dict[str, Grade]
    grade: Grade
    rule_version: str
    findings: str
    read_at: datetime
    # What grading.grade_case made of the reading (absent from readings graded before it).
    standard_version: str | None = None
    points: dict[str, Decimal] | None = None
    total_points: Decimal | None = None
    not_done: list[str] = []
    late_file: bool = False


class FileResultReached(DomainEvent):
    file_id: str
    result_no: int
    stage: str
    grade: Grade
    indicators: dict[str, Grade]
    grades: dict[str, Grade]
    panel_rule: str
    reached_at: datetime
    points: dict[str, Decimal] | None = None
    total_points: Decimal | None = None
    not_done: list[str] = []
    late_file: bool = False


class ResultDisputed(DomainEvent):
    file_id: str
    result_no: int
    reason: str
    disputed_by: str
    disputed_at: datetime


class FileResultFinal(DomainEvent):
    file_id: str
    round_id: str
    result_no: int
    case: DrawnCase
    standard: str
    grade: Grade
    indicators: dict[str, Grade]
    rule_version: str
    reviewer_id: str
    findings: str
    final_at: datetime
    standard_version: str | None = None
    points: dict[str, Decimal] | None = None
    total_points: Decimal | None = None
    not_done: list[str] = []
    late_file: bool = False


class NotYourFile(NotFound):
    pass


class AlreadyRead(Conflict):
    rule = "R-EVL-6"


class NotDisputable(Conflict):
    rule = "R-EVL-6"


class NotTheFilesStandard(Conflict):
    rule = "R-EVL-1"


# --- the aggregate ------------------------------------------------------------------------

# Staffing: (stage, how many, who is excluded) -> reviewer ids, by round.allocate.
Staff = Callable[[str, int, set[str]], list[str]]


class PanelFile(Aggregate):
    stream_prefix = "panel"

    def __init__(self, id: str):
        super().__init__(id)
        self.drawn: FileDrawn | None = None
        self.stage = FIRST
        self.readers: dict[str, str] = {}  # reviewer id -> stage
        self.readings: dict[str, FileRead] = {}
        self.results: list[FileResultReached] = []
        self.disputed = False
        self.final: FileResultFinal | None = None

    @property
    def case(self) -> DrawnCase:
        assert self.drawn is not None
        return self.drawn.case

    @property
    def standard_version(self) -> str:
        """The standard version the file's readings are graded under."""
        assert self.drawn is not None
        return self.drawn.standard_version or seed_for(self.drawn.case.case_kind).version

    def draw(
        self,
        *,
        round_id: str,
        case: DrawnCase,
        seed: str,
        rule_version: str,
        standard_version: str,
        readers: list[str],
        wanted: int,
        at: datetime,
    ) -> None:
        self.record(
            FileDrawn(
                file_id=self.id,
                round_id=round_id,
                case=case,
                seed=seed,
                rule_version=rule_version,
                standard_version=standard_version,
                readers=readers,
                wanted=wanted,
                drawn_at=at,
            )
        )

    def _stage_grades(self) -> list[Grade] | None:
        """The grades of the current panel once all its readers have read (else None)."""
        panel = [
            rid for rid, stage in self.readers.items() if (stage == RE_REVIEW) == (self.stage == RE_REVIEW)
        ]
        if not panel or any(rid not in self.readings for rid in panel):
            return None
        return [self.readings[rid].grade for rid in panel]

    def read(
        self,
        *,
        reviewer_id: str,
        standard: StandardVersion,
        indicators: Mapping[str, Grade],
        findings: str,
        at: datetime,
        staff: Staff,
        points: Mapping[str, Decimal] | None = None,
        not_done: Collection[str] = (),
        late_file: bool = False,
    ) -> None:
        """A reader grades the file under its standard version (`standard`) and the round's rule;
        the panel adds readers or decides (the module's rule)."""
        if self.drawn is None or reviewer_id not in self.readers:
            raise NotYourFile(f"no file {self.id} awaits your reading")
        if reviewer_id in self.readings:
            raise AlreadyRead(f"you have read file {self.id} already")
        if self.final is not None:
            raise AlreadyRead(f"file {self.id} has its final result")
        if standard.version != self.standard_version:
            raise NotTheFilesStandard(
                f"file {self.id} is graded under {self.standard_version}, not {standard.version}"
            )
        graded = grade_reading(
            standard,
            self.drawn.rule_version,
            indicators,
            points=points,
            not_done=not_done,
            late_file=late_file,
        )
        self.record(
            FileRead(
                file_id=self.id,
                reviewer_id=reviewer_id,
                stage=self.readers[reviewer_id],
                standard=graded.standard,
                indicators=graded.indicators,
                grade=graded.grade,
                rule_version=graded.rule_version,
                findings=findings,
                read_at=at,
                standard_version=graded.standard_version,
                points=graded.points,
                total_points=graded.total_points,
                not_done=list(graded.not_done),
                late_file=graded.late_file,
            )
        )
        panel = self._stage_grades()
        if panel is None:
            return
        needed = more_readers_needed(panel)
        if needed:
            stage = RE_READ
            self.record(
                ReadersAdded(
                    file_id=self.id,
                    stage=stage,
                    readers=staff(stage, needed, set(self.readers)),
                    wanted=needed,
                    at=at,
                )
            )
            return
        self._decide(at)

    def _decide(self, at: datetime) -> None:
        panel = [
            rid for rid, stage in self.readers.items() if (stage == RE_REVIEW) == (self.stage == RE_REVIEW)
        ]
        readings = [self.readings[rid] for rid in panel]
        keys = readings[0].indicators.keys()
        scored = [r.points for r in readings if r.points is not None]
        totals = [r.total_points for r in readings if r.total_points is not None]
        items = sorted({item for r in readings for item in r.not_done})
        self.record(
            FileResultReached(
                file_id=self.id,
                result_no=len(self.results) + 1,
                stage=self.stage,
                grade=lower_median([r.grade for r in readings]),
                indicators={k: lower_median([r.indicators[k] for r in readings]) for k in keys},
                grades={r.reviewer_id: r.grade for r in readings},
                panel_rule=PANEL_RULE,
                reached_at=at,
                points={k: lower_median_points([p[k] for p in scored]) for k in keys}
                if len(scored) == len(readings)
                else None,
                total_points=lower_median_points(totals) if len(totals) == len(readings) else None,
                not_done=[
                    item
                    for item in items
                    if said_by_the_lower_median(sum(item in r.not_done for r in readings), len(readings))
                ],
                late_file=said_by_the_lower_median(sum(r.late_file for r in readings), len(readings)),
            )
        )

    def dispute(self, *, reason: str, by: str, at: datetime, staff: Staff) -> None:
        """The result is re-reviewed by three who have not read the file: a new result follows."""
        if not self.results or self.disputed or self.final is not None:
            raise NotDisputable(
                f"file {self.id} has no result open to a dispute (one dispute per file, "
                "before the round closes)"
            )
        self.record(
            ResultDisputed(
                file_id=self.id,
                result_no=self.results[-1].result_no,
                reason=reason,
                disputed_by=by,
                disputed_at=at,
            )
        )
        self.record(
            ReadersAdded(
                file_id=self.id,
                stage=RE_REVIEW,
                readers=staff(RE_REVIEW, 3, set(self.readers)),
                wanted=3,
                at=at,
            )
        )

    def finalise(self, *, at: datetime) -> FileResultFinal | None:
        """At the round's closure: the latest result is final (None when the file has none yet,
        or its re-review is still being read)."""
        if self.final is not None or not self.results or (self.disputed and len(self.results) < 2):
            return None
        r = self.results[-1]
        first = next(rid for rid in r.grades)
        agreeing = [self.readings[rid].findings for rid, g in r.grades.items() if g == r.grade]
        assert self.drawn is not None
        self.record(
            FileResultFinal(
                file_id=self.id,
                round_id=self.drawn.round_id,
                result_no=r.result_no,
                case=self.case,
                standard=self.readings[first].standard,
                grade=r.grade,
                indicators=r.indicators,
                rule_version=self.drawn.rule_version,
                reviewer_id=first,
                findings="\n".join(agreeing),
                final_at=at,
                standard_version=self.standard_version,
                points=r.points,
                total_points=r.total_points,
                not_done=r.not_done,
                late_file=r.late_file,
            )
        )
        return self.final

    # state changes

    def when_FileDrawn(self, e: FileDrawn) -> None:
        self.drawn = e
        self.readers = dict.fromkeys(e.readers, FIRST)

    def when_ReadersAdded(self, e: ReadersAdded) -> None:
        self.stage = e.stage
        self.readers.update(dict.fromkeys(e.readers, e.stage))

    def when_FileRead(self, e: FileRead) -> None:
        self.readings[e.reviewer_id] = e

    def when_FileResultReached(self, e: FileResultReached) -> None:
        self.results.append(e)

    def when_ResultDisputed(self, e: ResultDisputed) -> None:
        self.disputed = True

    def when_FileResultFinal(self, e: FileResultFinal) -> None:
        self.final = e


PanelFile.handles(FileDrawn, ReadersAdded, FileRead, FileResultReached, ResultDisputed, FileResultFinal)
