"""The evaluation standards as data and the grading rules (R-EVL-1, R-EVL-2): every version of
each standard, with its indicators, second-level items and points (/api/v1/evaluation-standards),
new editions registered by the city bureau; the rules a case's grade may be made by, and the one
each agency chose, with its history (/api/v1/grading-rules).

The standards and the rules are public: they are published national standards and the agency's
own terms of evaluation, with nothing personal in them, and handlers, reviewers and the public
should read what a case is graded against (docs/evaluation.md "Standards and grading rules")."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.evaluation import handlers, queries
from services.evaluation.domain import StandardTerms
from services.evaluation.queries import AgencyGradingRuleView, GradingRuleView, StandardVersionView
from services.evaluation.settings import EvaluationSettingsDep
from shared.auth import Principal, Role, allow
from shared.deps import EngineDep, UowFactoryDep

router = APIRouter(prefix="/api/v1/evaluation-standards", tags=["standards"])
rules_router = APIRouter(prefix="/api/v1/grading-rules", tags=["standards"])

StandardId = Annotated[str, Path(description="criminal or civil-administrative", min_length=1, max_length=40)]
Version = Annotated[str, Path(description="The version, e.g. criminal-v1", min_length=1, max_length=60)]
AgencyId = Annotated[str, Path(description="The agency's id", min_length=1, max_length=64)]

# Readers of an agency's setting: its own roles, the bureau (its district's agencies), the auditor.
SETTING_READERS = (Role.agency_staff, Role.quality_lead, Role.bureau_investigator, Role.auditor)
SETTING_AUTHORS = (Role.quality_lead, Role.bureau_investigator)

NEW_EDITION = Body(openapi_examples={"criminal-2027": {
    "summary": "A new edition of the criminal standard, applying from 2027",
    "value": {
        "code": "SF/T 0086-2026", "title": "全国刑事法律援助服务规范（修订）", "effective_from": "2027-01-01",
        "indicators": [
            {"key": "meeting", "members": [2], "name": "timely and effective meeting with the aided person",
             "name_zh": "及时有效会见受援人", "max_points": 30,
             "items": [{"key": "meeting.met", "text": "Met the aided person", "duty": "R-HDL-1",
                        "veto": True}]},
            {"key": "legal_opinion", "members": [5], "name": "effective legal opinions",
             "name_zh": "有效提出法律意见", "max_points": 40,
             "items": [{"key": "legal_opinion.given", "text": "Gave a defence opinion", "duty": "R-HDL-3",
                        "veto": True}]},
            {"key": "closing_file", "members": [9], "name": "orderly closing file, submitted in time",
             "name_zh": "规范整理提交承办材料", "max_points": 30,
             "items": [{"key": "closing_file.complete", "text": "All materials in the closing file",
                        "duty": "R-HDL-5"}]},
        ],
    },
}})


class ChooseGradingRule(BaseModel):
    """The rule the agency's cases are graded by from now on."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"rule_version": "points-90-80-60", "reason": "区司法局2026年第3号通知：采用百分制评分"},
    ]})

    rule_version: str = Field(min_length=1, max_length=40, description="One of GET /api/v1/grading-rules")
    reason: str = Field(min_length=1, max_length=500, description="Why (kept in the setting's history)")


@router.get("", summary="The evaluation standards and their versions",
            response_model=list[StandardVersionView], dependencies=[allow(Role.public)])
async def list_standards(*, engine: EngineDep, standard_id: Annotated[str | None, Query(
        min_length=1, max_length=40, description="criminal or civil-administrative")] = None,
                         ) -> list[StandardVersionView]:
    """Every version of the standards (SF/T 0086 criminal, SF/T 0085 civil and administrative), by
    standard and number: each indicator with the first-level indicators it grades, its second-level
    items (veto items marked) and its points under a points rule (R-EVL-1). Public."""
    return await queries.standards(engine, standard_id=standard_id)


@router.get("/{version}", summary="One version of a standard", response_model=StandardVersionView,
            dependencies=[allow(Role.public)])
async def get_standard_version(*, version: Version, engine: EngineDep) -> StandardVersionView:
    """One version of a standard, as results graded under it name it (`standard_version`). Public."""
    return await queries.standard_version(engine, version)


@router.post("/{standard_id}/versions", summary="Register a new edition of a standard",
             status_code=status.HTTP_201_CREATED, response_model=StandardVersionView)
async def register_standard_version(
    *, standard_id: StandardId, terms: Annotated[StandardTerms, NEW_EDITION], uow: UowFactoryDep,
    response: Response, principal: Annotated[Principal, allow(Role.bureau_investigator)],
) -> StandardVersionView:
    """The city bureau (a token without a district claim) registers a new edition: the next version,
    applying from its `effective_from` (after the latest version's). Results graded before keep the
    version they were graded under (R-EVL-1)."""
    version = await handlers.register_standard_version(uow, standard_id=standard_id, terms=terms,
                                                       by=principal.sub, district=principal.district)
    response.headers["Location"] = f"{router.prefix}/{version.version}"
    return version


@rules_router.get("", summary="The grading rules an agency may choose", response_model=list[GradingRuleView],
                  dependencies=[allow(Role.public)])
async def list_grading_rules(*, by_points: Annotated[bool | None, Query(
        description="Only the points rules (true) or only those by indicator grades (false)")] = None,
                             ) -> list[GradingRuleView]:
    """The versioned rules that make a case's grade from its indicator grades or points (R-EVL-2):
    `default-v1`, `points-90-80-60`, `points-80-late-fails`. Public."""
    return queries.grading_rules(by_points=by_points)


@rules_router.get("/agencies/{agency_id}", summary="The grading rule of an agency",
                  response_model=AgencyGradingRuleView)
async def agency_grading_rule(*, agency_id: AgencyId, engine: EngineDep, settings: EvaluationSettingsDep,
                              principal: Annotated[Principal, allow(*SETTING_READERS)]
                              ) -> AgencyGradingRuleView:
    """The rule the agency's cases are graded by now (the city's default until it chooses) and every
    choice made, with who made it and why. The agency's roles read their own agency's, a district's
    bureau those of its district's agencies."""
    return await queries.agency_grading_rule(engine, agency_id, asking=principal,
                                             default_rule=settings.grading_rule)


@rules_router.put("/agencies/{agency_id}", summary="Choose the grading rule of an agency",
                  response_model=AgencyGradingRuleView)
async def choose_grading_rule(*, agency_id: AgencyId, body: ChooseGradingRule, uow: UowFactoryDep,
                              settings: EvaluationSettingsDep,
                              principal: Annotated[Principal, allow(*SETTING_AUTHORS)]
                              ) -> AgencyGradingRuleView:
    """The agency's quality lead (for its own agency) or the bureau (the city's, or a district's for
    its agencies) chooses the rule the agency's cases are graded by from now on; results graded
    before keep theirs. Choosing the rule in force changes nothing."""
    return await handlers.choose_grading_rule(uow, agency_id=agency_id, rule_version=body.rule_version,
                                              reason=body.reason, by=principal.sub,
                                              within=queries.scope(principal),
                                              default_rule=settings.grading_rule)
