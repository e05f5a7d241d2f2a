"""Evaluation's REST API: peer evaluations (/api/v1/evaluations), the closed cases awaiting one
(/api/v1/cases/awaiting-evaluation) and a case's quality record
(/api/v1/evaluations/quality-records/{case_id}):
the peer evaluation and the aided person's satisfaction at follow-ups (R-EVL-5)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func, select

from services.evaluation import handlers
from services.evaluation.domain import DEFAULT_RULE, Reviewer
from services.evaluation.projections import closed_cases, evaluations, follow_ups_of
from shared.aggregate import NotFound
from shared.contracts import CaseKind, Grade, HandlerRef
from shared.service import EngineDep, SettingsDep, UowFactoryDep

router = APIRouter(prefix="/api/v1/evaluations", tags=["evaluations"])
cases_router = APIRouter(prefix="/api/v1/cases", tags=["cases"])

EvaluationId = Annotated[str, Path(description="The evaluation's id", max_length=64)]
IndicatorKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=200)]


def grading_rule(settings: SettingsDep) -> str:
    return getattr(settings, "grading_rule", DEFAULT_RULE)


GradingRuleDep = Annotated[str, Depends(grading_rule)]


class CompleteEvaluation(BaseModel):
    """同行评估: a peer reviewer's grade for each first-level indicator of the case's standard."""

    model_config = ConfigDict(extra="forbid")

    case_id: str = Field(min_length=1, max_length=64)
    reviewer_id: str = Field(min_length=1, max_length=64)
    reviewer_institution_id: str = Field(min_length=1, max_length=64)
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


async def _view(engine, evaluation_id: str) -> EvaluationView:
    async with engine.connect() as conn:
        row = (await conn.execute(select(evaluations).where(evaluations.c.evaluation_id == evaluation_id))
               ).mappings().first()
        if row is None:
            raise NotFound(f"no evaluation {evaluation_id}")
        found = await follow_ups_of(conn, [row["case_id"]])
    return _evaluation(row, found.get(row["case_id"]))


@router.post("", summary="Grade a closed case (同行评估)",
             status_code=status.HTTP_201_CREATED, response_model=EvaluationView)
async def complete_evaluation(
    *, body: CompleteEvaluation, uow: UowFactoryDep, engine: EngineDep, rule: GradingRuleDep, response: Response,
) -> EvaluationView:
    """Grade a closed case of another institution; a fail is followed up by sanctions."""
    evaluation = await handlers.complete_evaluation(
        uow, case_id=body.case_id, reviewer=Reviewer(reviewer_id=body.reviewer_id,
                                                     institution_id=body.reviewer_institution_id),
        indicators=body.indicators, findings=body.findings, rule_version=rule,
    )
    response.headers["Location"] = f"{router.prefix}/{evaluation.id}"
    return await _view(engine, evaluation.id)


@router.get("", summary="List peer evaluations", response_model=EvaluationPage)
async def list_evaluations(
    *, engine: EngineDep,
    case_id: Annotated[str | None, Query(max_length=64)] = None,
    grade: Grade | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> EvaluationPage:
    """List completed evaluations, newest first, each with the aided person's satisfaction."""
    where = [c for c in (evaluations.c.case_id == case_id if case_id else None,
                         evaluations.c.grade == grade if grade else None) if c is not None]
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(evaluations).where(*where))).scalar_one()
        rows = (await conn.execute(select(evaluations).where(*where).order_by(evaluations.c.completed_at.desc(), evaluations.c.evaluation_id)
                                   .offset(offset).limit(limit))).mappings().all()
        found = await follow_ups_of(conn, [r["case_id"] for r in rows])
    return EvaluationPage(items=[_evaluation(r, found.get(r["case_id"])) for r in rows], total=total, offset=offset,
                          limit=limit)


@router.get("/{evaluation_id}", summary="One peer evaluation", response_model=EvaluationView)
async def get_evaluation(*, evaluation_id: EvaluationId, engine: EngineDep) -> EvaluationView:
    """One evaluation with its indicator grades, the rule that graded it, and the aided person's
    satisfaction at follow-ups (R-EVL-5)."""
    return await _view(engine, evaluation_id)


@cases_router.get("/awaiting-evaluation", summary="Closed cases awaiting evaluation",
                  response_model=AwaitingCasePage)
async def list_cases_awaiting_evaluation(*, engine: EngineDep, offset: Offset = 0, limit: Limit = 50
                                         ) -> AwaitingCasePage:
    """Closed cases not yet evaluated, oldest closure first, each with the aided person's
    satisfaction so far (R-EVL-5). A case whose aid was terminated is never listed."""
    where = [closed_cases.c.evaluation_id.is_(None)]
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(closed_cases).where(*where))).scalar_one()
        rows = (await conn.execute(select(closed_cases).where(*where).order_by(closed_cases.c.closed_at, closed_cases.c.case_id)
                                   .offset(offset).limit(limit))).mappings().all()
        found = await follow_ups_of(conn, [r["case_id"] for r in rows])
    items = [AwaitingCaseView.model_validate({**r, "handler": _handler(r), **_dimensions(found.get(r["case_id"]))})
             for r in rows]
    return AwaitingCasePage(items=items, total=total, offset=offset, limit=limit)


@router.get("/quality-records/{case_id}", summary="A case's quality record", response_model=QualityRecordView)
async def quality_record(*, case_id: Annotated[str, Path(description="The case's id", max_length=64)],
                         engine: EngineDep) -> QualityRecordView:
    """The case's quality record: its peer evaluation (if graded) and the aided person's
    satisfaction at each follow-up (R-EVL-5)."""
    async with engine.connect() as conn:
        closed = (await conn.execute(select(closed_cases).where(closed_cases.c.case_id == case_id))).mappings().first()
        graded = (await conn.execute(select(evaluations).where(evaluations.c.case_id == case_id))).mappings().first()
        found = (await follow_ups_of(conn, [case_id])).get(case_id)
    if closed is None and graded is None and not found:
        raise NotFound(f"evaluation knows nothing of case {case_id}")
    return QualityRecordView(case_id=case_id, awaiting_evaluation=closed is not None and graded is None,
                             evaluation=_evaluation(graded, found) if graded else None, **_dimensions(found))
