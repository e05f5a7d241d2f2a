"""Evaluation rounds (评查轮次, R-EVL-6): an agency's closed cases of a period drawn for peer
evaluation by a reproducible rule, and reviewers allocated to each file blind and at random among
the qualified experts, with avoidance (R-EVL-4). The stream is `round-<round_id>`.

The draw and the allocation are pure functions of what the round records (its seed and rule) and
of the data they run over, so anyone can re-run them and get the same lists:

1. Candidates: the agency's closed cases whose closure (Beijing day) falls in the period and that
   have no evaluation, as case ids, sorted and without duplicates.
2. Rank: each candidate's rank is the SHA-256 hex digest of the UTF-8 text `<seed>|<case_id>`;
   candidates are ordered by rank (then by case id, should two digests ever be equal).
3. Rule `all`: every candidate, in rank order. Rule `sample`: the first n in rank order, where
   n = max(1, ceil(share x the agency's closed cases of the previous calendar year)), at most
   all candidates (the Beijing 2025-2027 plan: a share of at least 0.2%).
4. Reviewers of a file, at a stage (`first`, `re-read`, `re-review`): the experts who qualify
   (pool.QualificationRule) and need not avoid the file (pool.avoidance), less those who read it
   already, ordered by the SHA-256 hex digest of `<seed>|<case_id>|<stage>|<reviewer_id>`
   (then by reviewer id); the first k read it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from services.evaluation.domain.pool import Candidate, ExpertProfile, QualificationRule, avoidance
from shared.aggregate import Aggregate, Conflict, DomainEvent, Invalid


class DrawRule(StrEnum):
    all = "all"
    sample = "sample"


class Readers(StrEnum):
    """How many read a file first (R-EVL-6, configurable): one, then two more after a fail; or
    two from the start (a third after a single fail)."""

    one_then_two = "one-then-two"
    two_from_start = "two-from-start"


FIRST_READERS = {Readers.one_then_two: 1, Readers.two_from_start: 2}
MIN_SAMPLE_SHARE = Decimal("0.002")


@dataclass(frozen=True)
class RoundPolicy:
    """R-EVL-6's configurable parts for rounds (settings)."""

    sample_share: Decimal = MIN_SAMPLE_SHARE
    readers: Readers = Readers.one_then_two
    qualification: QualificationRule = field(default_factory=QualificationRule)
    avoid_own_district: bool = True


def rank(seed: str, *parts: str) -> str:
    """The published ranking key: SHA-256 of `seed|part|part...`, hex."""
    return hashlib.sha256("|".join((seed, *parts)).encode()).hexdigest()


def sample_size(previous_year_cases: int, share: Decimal) -> int:
    return max(1, math.ceil(Decimal(previous_year_cases) * share))


def draw(candidates: Iterable[str], *, rule: DrawRule, seed: str, size: int | None = None) -> list[str]:
    """The drawn case ids, in rank order (steps 1-3 of the module's algorithm)."""
    ordered = sorted(set(candidates), key=lambda case_id: (rank(seed, case_id), case_id))
    if rule is DrawRule.all:
        return ordered
    if size is None:
        raise Invalid("a sample needs its size")
    return ordered[:size]


def allocate(
    file: Candidate,
    experts: Mapping[str, ExpertProfile],
    *,
    seed: str,
    stage: str,
    count: int,
    opens_on: date,
    policy: RoundPolicy,
    exclude: Collection[str] = (),
) -> list[str]:
    """Up to `count` reviewers for the file at this stage (step 4 of the module's algorithm)."""
    eligible = [
        rid
        for rid, expert in experts.items()
        if rid not in exclude
        and not avoidance(rid, expert, file, by_district=policy.avoid_own_district)
        and not policy.qualification.refusals(rid, expert, file.case_kind, opens_on)
    ]
    eligible.sort(key=lambda rid: (rank(seed, file.case_id, stage, rid), rid))
    return eligible[:count]


def digest(case_ids: Iterable[str]) -> str:
    """SHA-256 of the sorted candidate ids joined by newlines: what the draw ran over."""
    return hashlib.sha256("\n".join(sorted(set(case_ids))).encode()).hexdigest()


# --- events -------------------------------------------------------------------------------


class RoundOpened(DomainEvent):
    round_id: str
    agency_id: str
    period_from: date
    period_to: date
    opens_on: date
    draw_rule: DrawRule
    sample_share: Decimal
    seed: str
    readers: Readers
    panel_rule: str
    grading_rule: str
    opened_by: str
    opened_at: datetime


class CasesDrawn(DomainEvent):
    round_id: str
    candidates: int
    candidates_digest: str
    previous_year_cases: int
    sample_size: int | None
    drawn: list[str]


class RoundClosed(DomainEvent):
    round_id: str
    closed_by: str
    closed_at: datetime


class RoundNotOpen(Conflict):
    rule = "R-EVL-6"


class BadPeriod(Invalid):
    pass


# --- the aggregate ------------------------------------------------------------------------


class EvaluationRound(Aggregate):
    stream_prefix = "round"

    def __init__(self, id: str):
        super().__init__(id)
        self.opened: RoundOpened | None = None
        self.drawn: list[str] = []
        self.closed = False

    def open(
        self,
        *,
        agency_id: str,
        period_from: date,
        period_to: date,
        opens_on: date,
        draw_rule: DrawRule,
        sample_share: Decimal,
        seed: str,
        readers: Readers,
        panel_rule: str,
        grading_rule: str,
        by: str,
        at: datetime,
    ) -> None:
        if self.exists:
            raise Conflict(f"round {self.id} is already open")
        if period_to < period_from:
            raise BadPeriod("period_to: the period ends before it begins")
        if sample_share < MIN_SAMPLE_SHARE:
            raise Invalid(f"sample_share: at least {MIN_SAMPLE_SHARE} (0.2%)", rule="R-EVL-6")
        self.record(
            RoundOpened(
                round_id=self.id,
                agency_id=agency_id,
                period_from=period_from,
                period_to=period_to,
                opens_on=opens_on,
                draw_rule=draw_rule,
                sample_share=sample_share,
                seed=seed,
                readers=readers,
                panel_rule=panel_rule,
                grading_rule=grading_rule,
                opened_by=by,
                opened_at=at,
            )
        )

    def draw(self, *, candidates: Collection[str], previous_year_cases: int) -> list[str]:
        """Draw the round's cases by its recorded rule and seed; the drawn case ids."""
        o = self.opened
        if o is None or self.closed or self.drawn:
            raise RoundNotOpen(f"round {self.id} is not open to a draw")
        size = sample_size(previous_year_cases, o.sample_share) if o.draw_rule is DrawRule.sample else None
        drawn = draw(candidates, rule=o.draw_rule, seed=o.seed, size=size)
        self.record(
            CasesDrawn(
                round_id=self.id,
                candidates=len(set(candidates)),
                candidates_digest=digest(candidates),
                previous_year_cases=previous_year_cases,
                sample_size=size,
                drawn=drawn,
            )
        )
        return drawn

    def close(self, *, by: str, at: datetime) -> None:
        if self.opened is None or self.closed:
            raise RoundNotOpen(f"round {self.id} is not open")
        self.record(RoundClosed(round_id=self.id, closed_by=by, closed_at=at))

    def when_RoundOpened(self, e: RoundOpened) -> None:
        self.opened = e

    def when_CasesDrawn(self, e: CasesDrawn) -> None:
        self.drawn = list(e.drawn)

    def when_RoundClosed(self, e: RoundClosed) -> None:
        self.closed = True


EvaluationRound.handles(RoundOpened, CasesDrawn, RoundClosed)
