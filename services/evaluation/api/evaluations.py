"""Evaluation's REST API: giving closed cases to peer reviewers (/api/v1/cases/{case_id}/reviewers),
peer evaluations (/api/v1/evaluations), the closed cases awaiting one
(/api/v1/cases/awaiting-evaluation) and a case's quality record
(/api/v1/evaluations/quality-records/{case_id}):
the peer evaluation and the aided person's satisfaction at follow-ups (R-EVL-5).

Who may call what (docs/evaluation.md) is declared here with `allow(...)`; what a scoped caller
(a peer reviewer, a case handler) may read of it is decided in queries.py by who is asking."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.evaluation import handlers, queries
from services.evaluation.domain import Reviewer
from services.evaluation.queries import AwaitingCaseView, CaseReviewers, EvaluationView, QualityRecordView
from services.evaluation.settings import EvaluationSettingsDep
from shared.auth import Principal, Role, allow
from shared.contracts import Grade
from shared.deps import EngineDep, UowFactoryDep
from shared.paging import Limit, Offset, Page
from shared.validation import OneLine

router = APIRouter(prefix="/api/v1/evaluations", tags=["evaluations"])
cases_router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

EvaluationId = Annotated[str, Path(description="The evaluation's id", min_length=1, max_length=64)]
CaseId = Annotated[str, Path(description="The case's id", min_length=1, max_length=64)]
IndicatorKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Points = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]

# The unscoped readers first, the scoped ones last (principal.role is the first the caller holds,
# so a caller holding both acts with the wider view).
READERS = (Role.agency_staff, Role.quality_lead, Role.bureau_investigator, Role.auditor)
EvaluationReader = Annotated[Principal, allow(*READERS, Role.peer_reviewer, Role.case_handler)]


class GiveToReviewer(BaseModel):
    """分配评估专家: the peer reviewer who will read and grade this closed case."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"reviewer_id": "reviewer-7", "name": "赵律师", "institution_id": "beijing-zhengyi-law-firm",
         "years_of_practice": 12},
    ]})

    reviewer_id: str = Field(min_length=1, max_length=64,
                             description="The reviewer's id (their tokens' reviewer_id)")
    name: OneLine = Field(min_length=1, max_length=100, description="The reviewer's name")
    institution_id: str = Field(min_length=1, max_length=64,
                                description="The reviewer's law firm or service; never the handler's "
                                            "(R-EVL-4)")
    years_of_practice: int = Field(ge=0, le=70,
                                   description="Years of practice (R-EVL-6: at least 5 by default)")


class CompleteEvaluation(BaseModel):
    """同行评估: a peer reviewer's grade for each first-level indicator of the case's standard. The
    reviewer is the caller (their token's reviewer_id); their institution is the one recorded when
    the case was given to them."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"case_id": "3f2b8c1e-5d4a-4e7b-9c61-2a8f0d9e4b17",
         "indicators": {"meeting": "fail", "file_review": "good", "investigation_work": "good",
                        "legal_opinion": "excellent", "hearing": "good", "notice_duty": "pass",
                        "report_duty": "good", "closing_file": "good"},
         "findings": "承办律师未在规定时限内会见受援人，会见笔录缺失；其余工作符合标准。"},
    ]})

    case_id: str = Field(min_length=1, max_length=64)
    indicators: dict[IndicatorKey, Grade] = Field(min_length=1, max_length=20,
                                                  description="Indicator key -> excellent|good|pass|fail")
    findings: str = Field(min_length=1, max_length=5000,
                          description="What the reviewer found, for the handler")
    points: dict[IndicatorKey, Points] | None = Field(
        default=None, max_length=20,
        description="Indicator key -> points (0 to its max_points): required when the agency grades by a "
                    "points rule (GET /api/v1/grading-rules/agencies/{agency_id})")
    not_done: list[Annotated[str, StringConstraints(min_length=1, max_length=60)]] = Field(
        default_factory=list, max_length=30,
        description="Veto items (of the standard version) whose work was not done at all: each fails its "
                    "indicator and the case")
    closing_file_late: bool = Field(default=False, description="The closing file was archived late (a "
                                    "points-80-late-fails agency fails the case outright)")


@cases_router.post("/{case_id}/reviewers", summary="Give a closed case to a peer reviewer",
                   status_code=status.HTTP_201_CREATED, response_model=CaseReviewers)
async def give_to_reviewer(*, case_id: CaseId, body: GiveToReviewer, uow: UowFactoryDep,
                           settings: EvaluationSettingsDep, response: Response,
                           principal: Annotated[Principal, allow(Role.agency_staff, Role.quality_lead)]
                           ) -> CaseReviewers:
    """The agency or its quality lead gives a closed case of its own agency awaiting evaluation (any
    other case is a 404) to a peer reviewer, who alone may then read and grade it. Avoidance is
    checked now: never the handler, never the handler's institution (R-EVL-4); one reviewer per file
    and 5 years of practice by default (R-EVL-6)."""
    reviewers = await handlers.give_to_reviewer(
        uow, case_id=case_id,
        reviewer=Reviewer(reviewer_id=body.reviewer_id, institution_id=body.institution_id), name=body.name,
        years_of_practice=body.years_of_practice, policy=settings.review_policy,
        within=queries.scope(principal),
    )
    response.headers["Location"] = f"{cases_router.prefix}/{case_id}/reviewers"
    return reviewers


@cases_router.get("/{case_id}/reviewers", summary="The reviewers a case was given to",
                  response_model=CaseReviewers)
async def case_reviewers(*, case_id: CaseId, engine: EngineDep,
                         principal: Annotated[Principal, allow(*READERS)]) -> CaseReviewers:
    """The peer reviewers a closed case was given to for evaluation, with their institutions and
    years of practice, first given first. The agency's roles read their own agency's cases only, a
    district's bureau the cases closed in its district."""
    return await queries.case_reviewers(engine, case_id, asking=principal)


@router.post("", summary="Grade a closed case given to you (同行评估)",
             status_code=status.HTTP_201_CREATED, response_model=EvaluationView)
async def complete_evaluation(
    *, body: CompleteEvaluation, principal: Annotated[Principal, allow(Role.peer_reviewer)],
    uow: UowFactoryDep, settings: EvaluationSettingsDep, response: Response,
) -> EvaluationView:
    """A peer reviewer grades a closed case of another institution that was given to them (a case
    not given to them is a 404); a reviewer whose token names the handler's institution
    (`institution_id`) is refused (409, R-EVL-4). The case is graded under the standard version in
    force and its agency's rule, both recorded with the result; a veto item not done fails it. A
    fail is followed up by sanctions; a result below good sends the findings to the handler to
    correct (R-EVL-7)."""
    evaluation = await handlers.complete_evaluation(
        uow, case_id=body.case_id, reviewer_id=principal.reviewer_id, indicators=body.indicators,
        findings=body.findings, rule_version=settings.grading_rule,
        grader_institution_id=principal.institution_id, points=body.points, not_done=body.not_done,
        late_file=body.closing_file_late,
    )
    response.headers["Location"] = f"{router.prefix}/{evaluation.evaluation_id}"
    return evaluation


@router.get("", summary="List peer evaluations", response_model=Page[EvaluationView])
async def list_evaluations(
    *, principal: EvaluationReader, engine: EngineDep,
    case_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    grade: Grade | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[EvaluationView]:
    """List completed evaluations, newest first, each with the aided person's satisfaction. A peer
    reviewer sees only the evaluations they made, a case handler only those of their own cases, the
    agency's roles their own agency's, a district's bureau those of the cases closed in its district
    (whatever the query asks)."""
    return await queries.evaluations_list(engine, asking=principal, case_id=case_id, grade=grade,
                                          offset=offset, limit=limit)


@router.get("/{evaluation_id}", summary="One peer evaluation", response_model=EvaluationView)
async def get_evaluation(*, evaluation_id: EvaluationId, principal: EvaluationReader, engine: EngineDep
                         ) -> EvaluationView:
    """One evaluation with its indicator grades, the rule that graded it, and the aided person's
    satisfaction at follow-ups (R-EVL-5). A peer reviewer reads only their own evaluations, a case
    handler only those of their own cases, the agency's roles their own agency's, a district's bureau
    those of its district's cases; any other is a 404."""
    return await queries.evaluation(engine, evaluation_id, asking=principal)


@cases_router.get("/awaiting-evaluation", summary="Closed cases awaiting evaluation",
                  response_model=Page[AwaitingCaseView])
async def list_cases_awaiting_evaluation(
    *, principal: Annotated[Principal, allow(*READERS, Role.peer_reviewer)], engine: EngineDep,
    offset: Offset = 0, limit: Limit = 50,
) -> Page[AwaitingCaseView]:
    """Closed cases not yet evaluated, oldest closure first, each with the aided person's
    satisfaction so far (R-EVL-5). A case whose aid was terminated is never listed. A peer reviewer
    sees only the cases given to them, the agency's roles their own agency's cases, a district's
    bureau the cases closed in its district."""
    return await queries.cases_awaiting_evaluation(engine, asking=principal, offset=offset, limit=limit)


@router.get("/quality-records/{case_id}", summary="A case's quality record", response_model=QualityRecordView)
async def quality_record(*, case_id: CaseId, principal: EvaluationReader, engine: EngineDep
                         ) -> QualityRecordView:
    """The case's quality record: its peer evaluation (if graded) and the aided person's
    satisfaction at each follow-up (R-EVL-5). A peer reviewer reads it only for a case given to
    them, a case handler only for their own case, the agency's roles for their own agency's case,
    a district's bureau for a case closed in its district; any other is a 404."""
    return await queries.quality_record(engine, case_id, asking=principal)
