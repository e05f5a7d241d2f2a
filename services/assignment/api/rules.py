"""Each agency's assignment rules as a versioned document (/api/v1/agencies/{id}/assignment-rules):
filed with the city bureau, then published; the engine applies the version in force (R-ASG-5)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.assignment import handlers, queries
from services.assignment.queries import RulesDocument
from shared.auth import Principal, Role, agency_scope, allow
from shared.clock import local_date
from shared.deps import ClockDep, EngineDep, UowFactoryDep

router = APIRouter(prefix="/api/v1/agencies", tags=["assignment rules"])

AgencyId = Annotated[str, Path(max_length=64, description="The legal-aid agency (or district bureau)")]
Version = Annotated[int, Path(ge=1, le=10_000)]

# The agency writes its rules and files them with the city bureau, whose investigators file and
# approve them too. The public reads the published versions in publication.
AUTHORS = (Role.agency_staff, Role.bureau_investigator)


class FileRules(BaseModel):
    """A new version of the agency's assignment rules (指派规则), as filed with the city bureau."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"title": "北京市朝阳区法律援助中心案件指派规则（2026年修订）",
         "text": "第一条 法律援助案件按登记顺序在入库律师事务所之间轮流指派。\n"
                 "第二条 受援人点名的律师符合条件的，指派该律师。\n"
                 "第三条 每名承办人员每月承办案件不超过四件，群体性案件不计入。",
         "effective_from": "2026-07-01", "monthly_cap": 4, "senior_years_of_practice": 5,
         "filed_with": "北京市司法局"},
    ]})

    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=50_000, description="The rules as written")
    effective_from: date
    monthly_cap: int | None = Field(default=None, ge=1, le=100,
                                    description="R-ASG-4; none: the service's default")
    senior_years_of_practice: int | None = Field(default=None, ge=0, le=50,
                                                 description="R-ASG-8; none: the service's default")
    filed_with: str = Field(default="市司法局", min_length=1, max_length=100)


@router.post("/{agency_id}/assignment-rules", status_code=status.HTTP_201_CREATED,
             response_model=RulesDocument, summary="File a version of the agency's assignment rules")
async def file_rules(*, agency_id: AgencyId, body: FileRules, uow: UowFactoryDep, engine: EngineDep,
                     clock: ClockDep, response: Response,
                     principal: Annotated[Principal, allow(*AUTHORS)]) -> RulesDocument:
    """Record a new version of the agency's assignment rules as filed with the city bureau
    (R-ASG-5). It is not applied until published. Staff file their own agency's rules."""
    version = await handlers.file_rules(uow, agency_id, **body.model_dump(), within=agency_scope(principal))
    response.headers["Location"] = f"/api/v1/agencies/{agency_id}/assignment-rules/{version}"
    return await queries.rules_document(engine, agency_id, day=local_date(clock()))


@router.post("/{agency_id}/assignment-rules/{version}/publication", response_model=RulesDocument,
             summary="Publish a filed version of the assignment rules")
async def publish_rules(*, agency_id: AgencyId, version: Version, uow: UowFactoryDep, engine: EngineDep,
                        clock: ClockDep, principal: Annotated[Principal, allow(*AUTHORS)]) -> RulesDocument:
    """Publish a filed version (R-ASG-5): from its `effective_from` day it is the version the
    engine applies, and the public sees it (R-PUB-3)."""
    await handlers.publish_rules(uow, agency_id, version, within=agency_scope(principal))
    return await queries.rules_document(engine, agency_id, day=local_date(clock()))


@router.get("/{agency_id}/assignment-rules", response_model=RulesDocument,
            summary="The agency's assignment rules, every version")
async def get_rules(*, agency_id: AgencyId, engine: EngineDep, clock: ClockDep,
                    principal: Annotated[Principal, allow(*AUTHORS, Role.auditor)]) -> RulesDocument:
    """Every filed version, which are published, and which is in force today; another agency's
    rules are not found for staff."""
    return await queries.rules_document(engine, agency_id, day=local_date(clock()),
                                        within=agency_scope(principal))
