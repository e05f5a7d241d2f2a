"""Evaluation's REST API: giving closed cases to peer reviewers (/api/v1/cases/{case_id}/reviewers),
peer evaluations (/api/v1/evaluations), the closed cases awaiting one
(/api/v1/cases/awaiting-evaluation) and a case's quality record
(/api/v1/evaluations/quality-records/{case_id}):
the peer evaluation and the aided person's satisfaction at follow-ups (R-EVL-5).

Who may call what (docs/evaluation.md): a peer reviewer sees and grades only the cases given to
them, a case handler reads only the evaluations of their own cases; anything outside a scoped
caller's scope is a 404, so that it does not learn the case exists."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import exists, func, select

from services.evaluation import handlers
from services.evaluation.domain import DEFAULT_RULE, Reviewer, ReviewPolicy
from services.evaluation.projections import (
    closed_cases,
    evaluations,
    follow_ups_of,
    given_to,
    review_assignments,
)
from shared.aggregate import NotFound
from shared.auth import Principal, Role, allow
from shared.contracts import CaseKind, Grade, HandlerRef
from shared.deps import EngineDep, SettingsDep, UowFactoryDep

router = APIRouter(prefix="/api/v1/evaluations", tags=["evaluations"])
cases_router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

EvaluationId = Annotated[str, Path(description="The evaluation's id", min_length=1, max_length=64)]
CaseId = Annotated[str, Path(description="The case's id", min_length=1, max_length=64)]
IndicatorKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=200)]

# The unscoped readers first, the scoped ones last (principal.role is the first the caller holds,
# so a caller holding both acts with the wider view).
READERS = (Role.agency_staff, Role.quality_lead, Role.bureau_investigator, Role.auditor)
EvaluationReader = Annotated[Principal, allow(*READERS, Role.peer_reviewer, Role.case_handler)]


def grading_rule(settings: SettingsDep) -> str:
    return getattr(settings, "grading_rule", DEFAULT_RULE)


def review_policy(settings: SettingsDep) -> ReviewPolicy:
    default = ReviewPolicy()
    return ReviewPolicy(
        reviewers_per_case=getattr(settings, "reviewers_per_case", default.reviewers_per_case),
        min_years_of_practice=getattr(settings, "reviewer_min_years_of_practice", default.min_years_of_practice),
    )


GradingRuleDep = Annotated[str, Depends(grading_rule)]
ReviewPolicyDep = Annotated[ReviewPolicy, Depends(review_policy)]


class GiveToReviewer(BaseModel):
    """分配评估专家: the peer reviewer who will read and grade this closed case."""

    model_config = ConfigDict(extra="forbid")

    reviewer_id: str = Field(min_length=1, max_length=64, description="The reviewer's id (their tokens' reviewer_id)")
    name: str = Field(min_length=1, max_length=100, description="The reviewer's name")
    institution_id: str = Field(min_length=1, max_length=64,
                                description="The reviewer's law firm or service; never the handler's (R-EVL-4)")
    years_of_practice: int = Field(ge=0, le=70, description="Years of practice (R-EVL-6: at least 5 by default)")


class ReviewerView(BaseModel):
    reviewer_id: str
    name: str
    institution_id: str
    years_of_practice: int
    given_at: datetime


class CaseReviewers(BaseModel):
    case_id: str
    reviewers: list[ReviewerView] = Field(description="Who the case was given to, first given first")


class CompleteEvaluation(BaseModel):
    """同行评估: a peer reviewer's grade for each first-level indicator of the case's standard. The
    reviewer is the caller (their token's reviewer_id); their institution is the one recorded when
    the case was given to them."""

    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1, max_length=64)
    indicators: dict[IndicatorKey, Grade] = Field(min_length=1, max_length=20,
                                                  description="Indicator key -> excellent|good|pass|fail")
    findings: str = Field(min_length=1, max_length=5000, description="What the reviewer found, for the handler")


class FollowUpView(BaseModel):
    """回访: what the aided person answered (their words stay in intake)."""

    visited_on: date
    channel: str = Field(description="visit, phone or online")
    satisfaction: str = Field(description="satisfied, basically_satisfied or dissatisfied")


class QualityDimensions(BaseModel):
    """R-EVL-5: dimensions of the case's quality beside the peer evaluation."""

    satisfaction: str | None = Field(default=None, description="The aided person's answer at the latest follow-up")
    follow_ups: list[FollowUpView] = Field(default_factory=list, description="Every follow-up, oldest first")


class EvaluationView(QualityDimensions):
    evaluation_id: str
    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    standard: str
    indicators: dict[str, Grade]
    grade: Grade
    rule_version: str
    reviewer_id: str
    reviewer_institution_id: str
    findings: str
    completed_at: datetime


class EvaluationPage(BaseModel):
    items: list[EvaluationView]
    total: int
    offset: int
    limit: int


class AwaitingCaseView(QualityDimensions):
    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    closed_at: datetime


class QualityRecordView(QualityDimensions):
    """The case's quality record as evaluation knows it."""

    case_id: str
    awaiting_evaluation: bool = Field(description="Closed and not yet evaluated")
    evaluation: EvaluationView | None = None


class AwaitingCasePage(BaseModel):
    items: list[AwaitingCaseView]
    total: int
    offset: int
    limit: int


def _handler(row) -> HandlerRef:
    return HandlerRef(handler_id=row["handler_id"], name=row["handler_name"], kind=row["handler_kind"],
                      licence_number=row["licence_number"], institution_id=row["institution_id"],
                      institution_name=row["institution_name"])


def _dimensions(found: list[dict] | None) -> dict:
    found = found or []
    return {"satisfaction": found[-1]["satisfaction"] if found else None,
            "follow_ups": [FollowUpView.model_validate(f) for f in found]}


def _evaluation(row, found: list[dict] | None = None) -> EvaluationView:
    return EvaluationView.model_validate({**row, "handler": _handler(row), **_dimensions(found)})


async def _view(engine, evaluation_id: str, scope: list | None = None) -> EvaluationView:
    async with engine.connect() as conn:
        row = (await conn.execute(select(evaluations).where(evaluations.c.evaluation_id == evaluation_id,
                                                            *(scope or [])))).mappings().first()
        if row is None:
            raise NotFound(f"no evaluation {evaluation_id}")
        found = await follow_ups_of(conn, [row["case_id"]])
    return _evaluation(row, found.get(row["case_id"]))


def _reviewer_view(row) -> ReviewerView:
    return ReviewerView(reviewer_id=row["reviewer_id"], name=row["reviewer_name"],
                        institution_id=row["reviewer_institution_id"], years_of_practice=row["years_of_practice"],
                        given_at=row["given_at"])


def _evaluations_in_scope(principal: Principal) -> list:
    """What a scoped caller may read, whatever the query says."""
    if principal.role is Role.peer_reviewer:
        return [evaluations.c.reviewer_id == (principal.reviewer_id or "")]
    if principal.role is Role.case_handler:
        return [evaluations.c.handler_id == (principal.handler_id or "")]
    return []


@cases_router.post("/{case_id}/reviewers", summary="Give a closed case to a peer reviewer",
                   status_code=status.HTTP_201_CREATED, response_model=CaseReviewers,
                   dependencies=[allow(Role.agency_staff, Role.quality_lead)])
async def give_to_reviewer(*, case_id: CaseId, body: GiveToReviewer, uow: UowFactoryDep, engine: EngineDep,
                           policy: ReviewPolicyDep, response: Response) -> CaseReviewers:
    """The agency or its quality lead gives a closed case awaiting evaluation to a peer reviewer,
    who alone may then read and grade it. Avoidance is checked now: never the handler, never the
    handler's institution (R-EVL-4); one reviewer per file and 5 years of practice by default (R-EVL-6)."""
    await handlers.give_to_reviewer(
        uow, case_id=case_id, reviewer=Reviewer(reviewer_id=body.reviewer_id, institution_id=body.institution_id),
        name=body.name, years_of_practice=body.years_of_practice, policy=policy,
    )
    response.headers["Location"] = f"{cases_router.prefix}/{case_id}/reviewers"
    return await _case_reviewers(engine, case_id)


@cases_router.get("/{case_id}/reviewers", summary="The reviewers a case was given to",
                  response_model=CaseReviewers, dependencies=[allow(*READERS)])
async def case_reviewers(*, case_id: CaseId, engine: EngineDep) -> CaseReviewers:
    """The peer reviewers a closed case was given to for evaluation, with their institutions and
    years of practice, first given first."""
    return await _case_reviewers(engine, case_id)


async def _case_reviewers(engine, case_id: str) -> CaseReviewers:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(review_assignments).where(review_assignments.c.case_id == case_id)
                                   .order_by(review_assignments.c.given_at, review_assignments.c.reviewer_id))
                ).mappings().all()
        known = rows or (await conn.execute(select(exists().where(closed_cases.c.case_id == case_id)))).scalar()
    if not known:
        raise NotFound(f"evaluation knows no closed case {case_id}")
    return CaseReviewers(case_id=case_id, reviewers=[_reviewer_view(r) for r in rows])


@router.post("", summary="Grade a closed case given to you (同行评估)",
             status_code=status.HTTP_201_CREATED, response_model=EvaluationView)
async def complete_evaluation(
    *, body: CompleteEvaluation, principal: Annotated[Principal, allow(Role.peer_reviewer)], uow: UowFactoryDep,
    engine: EngineDep, rule: GradingRuleDep, response: Response,
) -> EvaluationView:
    """A peer reviewer grades a closed case of another institution that was given to them (a case
    not given to them is a 404); a fail is followed up by sanctions."""
    evaluation = await handlers.complete_evaluation(
        uow, case_id=body.case_id, reviewer_id=principal.reviewer_id, indicators=body.indicators,
        findings=body.findings, rule_version=rule,
    )
    response.headers["Location"] = f"{router.prefix}/{evaluation.id}"
    return await _view(engine, evaluation.id)


@router.get("", summary="List peer evaluations", response_model=EvaluationPage)
async def list_evaluations(
    *, principal: EvaluationReader, engine: EngineDep,
    case_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    grade: Grade | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> EvaluationPage:
    """List completed evaluations, newest first, each with the aided person's satisfaction. A peer
    reviewer sees only the evaluations they made, a case handler only those of their own cases."""
    where = [c for c in (evaluations.c.case_id == case_id if case_id else None,
                         evaluations.c.grade == grade if grade else None) if c is not None]
    where += _evaluations_in_scope(principal)
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(evaluations).where(*where))).scalar_one()
        rows = (await conn.execute(select(evaluations).where(*where)
                                   .order_by(evaluations.c.completed_at.desc(), evaluations.c.evaluation_id)
                                   .offset(offset).limit(limit))).mappings().all()
        found = await follow_ups_of(conn, [r["case_id"] for r in rows])
    return EvaluationPage(items=[_evaluation(r, found.get(r["case_id"])) for r in rows], total=total, offset=offset,
                          limit=limit)


@router.get("/{evaluation_id}", summary="One peer evaluation", response_model=EvaluationView)
async def get_evaluation(*, evaluation_id: EvaluationId, principal: EvaluationReader, engine: EngineDep
                         ) -> EvaluationView:
    """One evaluation with its indicator grades, the rule that graded it, and the aided person's
    satisfaction at follow-ups (R-EVL-5). A peer reviewer reads only their own evaluations, a case
    handler only those of their own cases."""
    return await _view(engine, evaluation_id, _evaluations_in_scope(principal))


@cases_router.get("/awaiting-evaluation", summary="Closed cases awaiting evaluation",
                  response_model=AwaitingCasePage)
async def list_cases_awaiting_evaluation(
    *, principal: Annotated[Principal, allow(*READERS, Role.peer_reviewer)], engine: EngineDep,
    offset: Offset = 0, limit: Limit = 50,
) -> AwaitingCasePage:
    """Closed cases not yet evaluated, oldest closure first, each with the aided person's
    satisfaction so far (R-EVL-5). A case whose aid was terminated is never listed. A peer reviewer
    sees only the cases given to them."""
    where = [closed_cases.c.evaluation_id.is_(None)]
    if principal.role is Role.peer_reviewer:
        where.append(given_to(principal.reviewer_id))
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(closed_cases).where(*where))).scalar_one()
        rows = (await conn.execute(select(closed_cases).where(*where)
                                   .order_by(closed_cases.c.closed_at, closed_cases.c.case_id)
                                   .offset(offset).limit(limit))).mappings().all()
        found = await follow_ups_of(conn, [r["case_id"] for r in rows])
    items = [AwaitingCaseView.model_validate({**r, "handler": _handler(r), **_dimensions(found.get(r["case_id"]))})
             for r in rows]
    return AwaitingCasePage(items=items, total=total, offset=offset, limit=limit)


@router.get("/quality-records/{case_id}", summary="A case's quality record", response_model=QualityRecordView)
async def quality_record(*, case_id: CaseId, principal: EvaluationReader, engine: EngineDep) -> QualityRecordView:
    """The case's quality record: its peer evaluation (if graded) and the aided person's
    satisfaction at each follow-up (R-EVL-5). A peer reviewer reads it only for a case given to
    them, a case handler only for their own case."""
    async with engine.connect() as conn:
        closed = (await conn.execute(select(closed_cases).where(closed_cases.c.case_id == case_id))).mappings().first()
        graded = (await conn.execute(select(evaluations).where(evaluations.c.case_id == case_id))).mappings().first()
        found = (await follow_ups_of(conn, [case_id])).get(case_id)
        in_scope = True
        if principal.role is Role.peer_reviewer:
            in_scope = (await conn.execute(select(given_to(principal.reviewer_id, case_id)))).scalar()
        elif principal.role is Role.case_handler:
            in_scope = principal.handler_id is not None and principal.handler_id in {
                r["handler_id"] for r in (closed, graded) if r is not None}
    if not in_scope or (closed is None and graded is None and not found):
        raise NotFound(f"evaluation knows nothing of case {case_id}")
    return QualityRecordView(case_id=case_id, awaiting_evaluation=closed is not None and graded is None,
                             evaluation=_evaluation(graded, found) if graded else None, **_dimensions(found))
