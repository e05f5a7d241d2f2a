"""Evaluation's command handlers: open a unit of work, load, call one domain method, save, tell
the others, commit. Each retries on a concurrency conflict, and answers with what it did as
read in its own transaction (the read models are folded in it: queries.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from services.evaluation import queries
from services.evaluation.domain import CaseReview, PeerEvaluation, Reviewer, ReviewPolicy
from services.evaluation.queries import CaseReviewers, EvaluationView
from shared import clock, contracts
from shared.aggregate import NotFound
from shared.contracts import Grade
from shared.uow import UnitOfWorkFactory, retry_on_conflict


@retry_on_conflict
async def give_to_reviewer(
    uow_factory: UnitOfWorkFactory, *, case_id: str, reviewer: Reviewer, name: str, years_of_practice: int,
    policy: ReviewPolicy,
) -> CaseReviewers:
    """Give a closed case awaiting evaluation to a peer reviewer; the case's reviewers after it."""
    async with uow_factory() as uow:
        case = await queries.closed_case_for_update(uow.conn, case_id)
        if case is None:
            raise NotFound(f"no closed case {case_id} awaits evaluation")
        review = await uow.get(CaseReview, case_id)
        review.give(case=case, reviewer=reviewer, name=name, years_of_practice=years_of_practice,
                    policy=policy, at=clock.now())
        await uow.save(review)
        return await queries.read_case_reviewers(uow.conn, case_id)


@retry_on_conflict
async def complete_evaluation(
    uow_factory: UnitOfWorkFactory, *, case_id: str, reviewer_id: str | None, indicators: Mapping[str, Grade],
    findings: str, rule_version: str,
) -> EvaluationView:
    """A reviewer the case was given to grades it; the evaluation as it reads afterwards."""
    async with uow_factory() as uow:
        case = await queries.closed_case_for_update(uow.conn, case_id)
        reviewer = (await uow.get(CaseReview, case_id)).reviewer(reviewer_id)
        # A case not given to this reviewer is answered as if it did not exist (docs/evaluation.md).
        if case is None or reviewer is None:
            raise NotFound(f"no closed case {case_id} awaits your evaluation")
        evaluation = PeerEvaluation(str(uuid.uuid4()))
        evaluation.complete(case=case, reviewer=reviewer, indicators=indicators, findings=findings,
                            rule_version=rule_version, at=clock.now())
        await uow.save(evaluation)
        r = evaluation.result
        assert r is not None
        uow.emit(contracts.EvaluationCompleted(
            evaluation_id=r.evaluation_id, case_id=r.case_id, case_number=r.case_number,
            case_kind=r.case_kind, agency_id=r.agency_id, handler=r.handler, grade=r.grade,
            reviewer_id=r.reviewer_id, completed_at=r.completed_at,
        ))
        if evaluation.failed:
            # R-SAN-1: a fail is followed up; sanctions opens the investigation from this.
            uow.emit(contracts.EvaluationFailed(
                evaluation_id=r.evaluation_id, case_id=r.case_id, case_number=r.case_number,
                case_kind=r.case_kind, agency_id=r.agency_id, handler=r.handler, findings=r.findings,
                failed_at=r.completed_at,
            ))
        return await queries.read_evaluation(uow.conn, evaluation.id)
