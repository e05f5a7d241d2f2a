"""An agency's recruitment calls (/api/v1/agencies/{id}/recruitment-calls): the agency announces
a call for institutions or volunteers; publication shows it to the public (R-PUB-3)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.assignment import handlers
from services.assignment.api.common import reported_as_field_error
from services.assignment.queries import recruitment as queries
from services.assignment.queries.recruitment import RecruitmentCallView
from shared.auth import Principal, Role, agency_scope, allow
from shared.deps import EngineDep, UowFactoryDep

router = APIRouter(prefix="/api/v1/agencies", tags=["recruitment calls"])

AgencyId = Annotated[str, Path(max_length=64, description="The legal-aid agency (or district bureau)")]
CallId = Annotated[str, Path(max_length=64)]
SoughtField = Annotated[str, Field(min_length=1, max_length=50)]

# The agency announces its own calls; the city bureau's investigators may announce for any agency.
AUTHORS = (Role.agency_staff, Role.bureau_investigator)


class AnnounceCall(BaseModel):
    """A call for law firms, legal services or volunteers to join the agency's pool (招募公告).
    The agency's announcement: no personal data."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"title": "朝阳区法律援助中心2026年度法律援助律师事务所公开招募公告",
         "fields_sought": ["刑事辩护", "婚姻家庭", "劳动争议"], "deadline": "2026-03-31",
         "how_to_apply": "请于截止日前将申请表、执业许可证复印件及近三年办案情况报送本中心，"
                         "或发送至 zhaomu@legalaid.example。"},
    ]})

    title: str = Field(min_length=1, max_length=200)
    fields_sought: list[SoughtField] = Field(min_length=1, max_length=30,
                                        description="The fields of law providers are sought for")
    deadline: date = Field(description="The last day to apply (Beijing); not before today")
    how_to_apply: str = Field(min_length=1, max_length=5_000)


@router.post("/{agency_id}/recruitment-calls", status_code=status.HTTP_201_CREATED,
             response_model=RecruitmentCallView, summary="Announce a recruitment call")
async def announce_call(*, agency_id: AgencyId, body: AnnounceCall, uow: UowFactoryDep, engine: EngineDep,
                        response: Response,
                        principal: Annotated[Principal, allow(*AUTHORS)]) -> RecruitmentCallView:
    """Announce the agency's call for providers; the public sees it at publication's
    `GET /api/v1/recruitment-calls` (R-PUB-3). Staff announce their own agency's calls."""
    with reported_as_field_error():
        call_id = await handlers.announce_recruitment_call(uow, agency_id, **body.model_dump(),
                                                           within=agency_scope(principal))
    response.headers["Location"] = f"/api/v1/agencies/{agency_id}/recruitment-calls/{call_id}"
    return await queries.recruitment_call(engine, call_id)


@router.get("/{agency_id}/recruitment-calls/{call_id}", response_model=RecruitmentCallView,
            summary="A recruitment call as announced")
async def get_call(*, agency_id: AgencyId, call_id: CallId, engine: EngineDep,
                   principal: Annotated[Principal, allow(*AUTHORS, Role.auditor)]) -> RecruitmentCallView:
    """The call; another agency's is not found for staff."""
    return await queries.recruitment_call(engine, call_id, agency_id=agency_id,
                                          within=agency_scope(principal))
