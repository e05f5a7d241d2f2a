"""The expert pool over REST (/api/v1/experts, R-EVL-6): the bureau registers and updates the
experts peer evaluation draws its reviewers from; the bureau, the agencies' roles and the auditor
read it. Reviewers come from this registry, never typed per case."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.evaluation import handlers, queries
from services.evaluation.domain.pool import ExpertProfile, PracticeField
from services.evaluation.queries import ExpertView
from shared.auth import Principal, Role, allow
from shared.deps import EngineDep, UowFactoryDep
from shared.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/experts", tags=["experts"])

ReviewerId = Annotated[
    str, Path(description="The expert's reviewer id (their tokens' reviewer_id)", min_length=1, max_length=64)
]
Keeper = Annotated[Principal, allow(Role.bureau_investigator)]
Reader = Annotated[
    Principal, allow(Role.bureau_investigator, Role.agency_staff, Role.quality_lead, Role.auditor)
]

EXAMPLE = {
    "name": "赵律师",
    "licence_number": "11101200810234567",
    "practising_since": "2008-07-01",
    "fields": ["criminal", "civil"],
    "district": "海淀区",
    "institution_id": "beijing-zhengyi-law-firm",
    "institution_name": "北京正义律师事务所",
    "assigning_agencies": ["haidian-legal-aid-centre"],
    "trained_on": ["2026-09-12"],
    "disciplined_on": [],
    "active": True,
}


class ExpertBody(BaseModel):
    """评估专家: an expert as the registry records them (the whole profile each time)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    name: str = Field(min_length=1, max_length=100)
    licence_number: str = Field(min_length=1, max_length=40, description="Practice licence number")
    practising_since: date = Field(description="First day of practice (years of practice count from it)")
    fields: list[PracticeField] = Field(
        min_length=1, max_length=3, description="criminal, civil, administrative"
    )
    district: str = Field(min_length=1, max_length=60, description="The district the expert practises in")
    institution_id: str = Field(min_length=1, max_length=64)
    institution_name: str = Field(min_length=1, max_length=200)
    assigning_agencies: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Agencies that assign the expert cases (regional avoidance)",
    )
    trained_on: list[date] = Field(
        default_factory=list, max_length=50, description="Evaluation training dates"
    )
    disciplined_on: list[date] = Field(
        default_factory=list, max_length=50, description="Disciplinary sanctions"
    )
    active: bool = True

    def profile(self) -> ExpertProfile:
        data = self.model_dump(include=set(ExpertBody.model_fields))
        return ExpertProfile.model_validate({**data, "fields": tuple(dict.fromkeys(self.fields))})


class NewExpert(ExpertBody):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reviewer_id": "reviewer-zhao", **EXAMPLE}]}
    )

    reviewer_id: str = Field(min_length=1, max_length=64, description="The expert's tokens' reviewer_id")


@router.post(
    "",
    summary="Register an expert in the pool",
    status_code=status.HTTP_201_CREATED,
    response_model=ExpertView,
)
async def register_expert(
    *, body: NewExpert, principal: Keeper, uow: UowFactoryDep, response: Response
) -> ExpertView:
    """The bureau registers an expert (409 if already registered)."""
    view = await handlers.record_expert(
        uow, reviewer_id=body.reviewer_id, profile=body.profile(), by=principal.sub, new=True
    )
    response.headers["Location"] = f"{router.prefix}/{body.reviewer_id}"
    return view


@router.put("/{reviewer_id}", summary="Update an expert of the pool", response_model=ExpertView)
async def update_expert(
    *, reviewer_id: ReviewerId, body: ExpertBody, principal: Keeper, uow: UowFactoryDep
) -> ExpertView:
    """The bureau records the expert's profile as it now is (training, discipline, institution,
    activity); the same profile again changes nothing."""
    return await handlers.record_expert(
        uow, reviewer_id=reviewer_id, profile=body.profile(), by=principal.sub, new=False
    )


@router.get("", summary="The expert pool", response_model=Page[ExpertView])
async def list_experts(
    *,
    principal: Reader,
    engine: EngineDep,
    district: Annotated[str | None, Query(min_length=1, max_length=60)] = None,
    active: bool | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[ExpertView]:
    """The experts, by reviewer id."""
    return await queries.experts_list(engine, district=district, active=active, offset=offset, limit=limit)


@router.get("/{reviewer_id}", summary="One expert", response_model=ExpertView)
async def get_expert(*, reviewer_id: ReviewerId, principal: Reader, engine: EngineDep) -> ExpertView:
    return await queries.expert(engine, reviewer_id)
