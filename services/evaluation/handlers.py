"""Evaluation's command handlers: open a unit of work, load, call one domain method, save, tell
the others, commit. Each retries on a concurrency conflict, and answers with what it did as
read in its own transaction (the read models are folded in it: queries.py)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date

from services.evaluation import queries
from services.evaluation.domain import (
    CaseReview,
    PeerEvaluation,
    Reviewer,
    ReviewPolicy,
    ScheduleTerms,
    SignedOffCase,
    Subsidy,
    SubsidySchedule,
    half_year,
)
from services.evaluation.queries import CaseReviewers, EvaluationView, ScheduleVersions, SubsidyView
from shared import clock, contracts
from shared.aggregate import NotFound
from shared.auth import EVERY_AGENCY, AgencyScope
from shared.contracts import Grade
from shared.uow import UnitOfWork, UnitOfWorkFactory, retry_on_conflict


@retry_on_conflict
async def give_to_reviewer(
    uow_factory: UnitOfWorkFactory, *, case_id: str, reviewer: Reviewer, name: str, years_of_practice: int,
    policy: ReviewPolicy, within: AgencyScope = EVERY_AGENCY,
) -> CaseReviewers:
    """Give a closed case awaiting evaluation to a peer reviewer; the case's reviewers after it.
    `within`: the agencies whose cases the caller gives (any other case is not found)."""
    async with uow_factory() as uow:
        case = await queries.closed_case_for_update(uow.conn, case_id, within)
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
    findings: str, rule_version: str, grader_institution_id: str | None = None,
) -> EvaluationView:
    """A reviewer the case was given to grades it; the evaluation as it reads afterwards.
    `grader_institution_id`: the institution the grader's token names (R-EVL-4: never the handler's)."""
    async with uow_factory() as uow:
        case = await queries.closed_case_for_update(uow.conn, case_id)
        reviewer = (await uow.get(CaseReview, case_id)).reviewer(reviewer_id)
        # A case not given to this reviewer is answered as if it did not exist (docs/evaluation.md).
        if case is None or reviewer is None:
            raise NotFound(f"no closed case {case_id} awaits your evaluation")
        evaluation = PeerEvaluation(str(uuid.uuid4()))
        evaluation.complete(case=case, reviewer=reviewer, indicators=indicators, findings=findings,
                            rule_version=rule_version, at=clock.now(),
                            grader_institution_id=grader_institution_id)
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


# --- subsidies (R-CHK-2, R-CHK-3, R-EVL-7) ----------------------------------------------------


@retry_on_conflict
async def publish_schedule(uow_factory: UnitOfWorkFactory, *, agency_id: str, terms: ScheduleTerms, by: str,
                           by_agency: str | None) -> ScheduleVersions:
    """The agency's finance publishes a new version of its subsidy schedule; its versions after it."""
    async with uow_factory() as uow:
        schedule = await uow.get(SubsidySchedule, agency_id)
        schedule.publish(terms=terms, by=by, by_agency=by_agency, at=clock.now())
        await uow.save(schedule)
        return await queries.read_schedule(uow.conn, agency_id)


async def compute_subsidy(uow: UnitOfWork, signed_off: contracts.ClosingCheckSignedOff) -> None:
    """R-CHK-2, R-CHK-3: at the quality lead's sign-off, the subsidy by the agency's schedule version
    in effect on the sign-off's Beijing day. A case whose registration evaluation never saw is paid
    by its kind's general line (its stage unknown here)."""
    registered = await queries.registered_case(uow.conn, signed_off.case_id)
    case = SignedOffCase(
        case_id=signed_off.case_id, case_number=signed_off.case_number, case_kind=signed_off.case_kind,
        agency_id=signed_off.agency_id, handler=signed_off.handler,
        stage=registered.stage if registered else None,
        group_case=registered.group_case if registered else False,
        signed_off_by=signed_off.signed_off_by, signed_off_at=signed_off.signed_off_at,
    )
    schedule = await uow.get(SubsidySchedule, signed_off.agency_id)
    price = schedule.price(kind=case.case_kind, stage=case.stage, group_case=case.group_case,
                           institution_id=case.handler.institution_id,
                           on=clock.local_date(signed_off.signed_off_at))
    subsidy = await uow.get(Subsidy, signed_off.case_id)
    subsidy.compute(case=case, price=price, at=clock.now())
    await uow.save(subsidy)


async def apply_failed_evaluation(uow: UnitOfWork, failed: contracts.EvaluationFailed) -> None:
    """R-EVL-7: a failed peer evaluation withholds, reduces or recovers the handler's subsidy, as
    the agency's rule of the subsidy's schedule version says."""
    subsidy = await uow.get(Subsidy, failed.case_id)
    subsidy.evaluation_failed(evaluation_id=failed.evaluation_id, at=clock.now())
    await uow.save(subsidy)


@retry_on_conflict
async def approve_subsidy(uow_factory: UnitOfWorkFactory, *, case_id: str, by: str, agency_id: str | None
                          ) -> SubsidyView:
    """The agency's finance approves a computed subsidy (once; again changes nothing)."""
    async with uow_factory() as uow:
        subsidy = await uow.get(Subsidy, case_id)
        approved = subsidy.approve(by=by, agency_id=agency_id, at=clock.now())
        await uow.save(subsidy)
        c = subsidy.computed
        if approved and c is not None and subsidy.approved is not None:
            uow.emit(contracts.SubsidyApproved(
                case_id=c.case_id, case_number=c.case_number, case_kind=c.case_kind, agency_id=c.agency_id,
                handler=c.handler, amount=subsidy.approved.amount, schedule_version=c.schedule_version,
                approved_at=subsidy.approved.approved_at,
            ))
        return await queries.read_subsidy(uow.conn, case_id)


@retry_on_conflict
async def record_payment(uow_factory: UnitOfWorkFactory, *, case_id: str, paid_on: date, reference: str,
                         idempotency_key: str | None, by: str, agency_id: str | None) -> SubsidyView:
    """Record the payment of an approved subsidy, once; the same reference or Idempotency-Key again
    answers what the first recorded."""
    async with uow_factory() as uow:
        subsidy = await uow.get(Subsidy, case_id)
        recorded = subsidy.pay(paid_on=paid_on, reference=reference, idempotency_key=idempotency_key, by=by,
                               agency_id=agency_id, at=clock.now())
        await uow.save(subsidy)
        c, paid = subsidy.computed, subsidy.paid
        if recorded and c is not None and paid is not None:
            h = c.handler
            # Annex 4's columns (R-PUB-1), nothing of the aided person and no payment reference.
            uow.emit(contracts.SubsidyPaid(
                case_id=c.case_id, case_number=c.case_number, case_kind=c.case_kind,
                period=half_year(paid.paid_on), agency_id=c.agency_id, institution_id=h.institution_id,
                institution_name=h.institution_name, handler_id=h.handler_id, handler_name=h.name,
                amount=paid.amount, paid_on=paid.paid_on, schedule_version=c.schedule_version,
            ))
        return await queries.read_subsidy(uow.conn, case_id)
