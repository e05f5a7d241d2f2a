"""Giving a closed case to a peer reviewer (R-EVL-4, R-EVL-6). Agency staff or the quality lead
give it; avoidance is checked at that moment, so a reviewer never receives a file they must not
read, and only a reviewer it was given to grades it. The stream is `review-<case_id>`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from services.evaluation.domain.case import ClosedCase
from shared.aggregate import Aggregate, Conflict, DomainEvent, Invalid
from shared.contracts import HandlerRef


class Reviewer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reviewer_id: str
    institution_id: str


@dataclass(frozen=True)
class ReviewPolicy:
    """R-EVL-6's configurable parts that apply when a case is given: how many reviewers read a
    file and the least years of practice a reviewer needs."""

    reviewers_per_case: int = 1
    min_years_of_practice: int = 5


# --- events -------------------------------------------------------------------------------


class ReviewerGiven(DomainEvent):
    case_id: str
    case_number: str
    reviewer_id: str
    reviewer_name: str
    reviewer_institution_id: str
    years_of_practice: int
    given_at: datetime


# --- refusals -----------------------------------------------------------------------------


class ReviewerNotIndependent(Conflict):
    rule = "R-EVL-4"


class ReviewerAlreadyGiven(Conflict):
    pass


class ReviewersComplete(Conflict):
    rule = "R-EVL-6"


class ReviewerNotQualified(Invalid):
    rule = "R-EVL-6"


class DrawnIntoRound(Conflict):
    """A case drawn into an evaluation round is read by the round's panel, never also given by
    hand (and a case given by hand is never drawn: queries.round_candidates)."""

    rule = "R-EVL-6"


def check_avoidance(handler: HandlerRef, reviewer: Reviewer) -> None:
    """R-EVL-4: never the handler, never the handler's institution."""
    if reviewer.reviewer_id == handler.handler_id:
        raise ReviewerNotIndependent("a reviewer may not evaluate their own case")
    if reviewer.institution_id == handler.institution_id:
        raise ReviewerNotIndependent(
            f"a reviewer may not evaluate a case of their own institution ({handler.institution_name})"
        )


def check_grader_independent(handler: HandlerRef, institution_id: str | None) -> None:
    """R-EVL-4 at grading: the institution the grader's token names is not the handler's (the
    reviewer may have moved to it since the case was given to them)."""
    if institution_id is not None and institution_id == handler.institution_id:
        raise ReviewerNotIndependent(
            f"a reviewer may not grade a case of their own institution ({handler.institution_name}): "
            f"the institution_id of your token is the handler's"
        )


# --- the aggregate ------------------------------------------------------------------------


class CaseReview(Aggregate):
    """Who a closed case was given to for peer review. Its id is the case's id."""

    stream_prefix = "review"

    def __init__(self, id: str):
        super().__init__(id)
        self.reviewers: dict[str, Reviewer] = {}

    def reviewer(self, reviewer_id: str | None) -> Reviewer | None:
        return self.reviewers.get(reviewer_id) if reviewer_id else None

    def give(self, *, case: ClosedCase, reviewer: Reviewer, name: str, years_of_practice: int,
             policy: ReviewPolicy, at: datetime, drawn_into: str | None = None) -> None:
        """`drawn_into`: the evaluation round the case was drawn into, if any (then it is the
        round's panel that reads it)."""
        case.check_not_evaluated()
        if drawn_into is not None:
            raise DrawnIntoRound(
                f"case {case.case_number} was drawn into evaluation round {drawn_into}: the round's "
                "panel reads it (GET /api/v1/evaluation-rounds/{round_id}/files)"
            )
        if reviewer.reviewer_id in self.reviewers:
            raise ReviewerAlreadyGiven(
                f"case {case.case_number} is already given to reviewer {reviewer.reviewer_id}"
            )
        # Checked when the case is given, so a reviewer never receives a file they must not read.
        check_avoidance(case.handler, reviewer)
        if years_of_practice < policy.min_years_of_practice:
            raise ReviewerNotQualified(
                f"a reviewer needs at least {policy.min_years_of_practice} years of practice, "
                f"not {years_of_practice}"
            )
        if len(self.reviewers) >= policy.reviewers_per_case:
            raise ReviewersComplete(
                f"case {case.case_number} already has its {policy.reviewers_per_case} reviewer(s)"
            )
        self.record(ReviewerGiven(
            case_id=case.case_id, case_number=case.case_number, reviewer_id=reviewer.reviewer_id,
            reviewer_name=name, reviewer_institution_id=reviewer.institution_id,
            years_of_practice=years_of_practice, given_at=at,
        ))

    def when_ReviewerGiven(self, e: ReviewerGiven) -> None:
        self.reviewers[e.reviewer_id] = Reviewer(reviewer_id=e.reviewer_id,
                                                 institution_id=e.reviewer_institution_id)


CaseReview.handles(ReviewerGiven)
