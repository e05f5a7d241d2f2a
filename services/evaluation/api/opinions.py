"""The opinions of police, procuratorates and courts on the handler's work (R-EVL-5), given by the
organ over REST (/api/v1/case-opinions) and shown in the case's quality record
(/api/v1/evaluations/quality-records/{case_id}) beside the aided person's satisfaction.

The organ is its token: `judicial_organ`, its system named by `institution_id` (as intake knows
the organ that notified a case); who gave it is the token's subject."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.evaluation import handlers
from services.evaluation.domain import Assessment, OrganKind, OrganRelation
from services.evaluation.queries import OpinionView
from shared.auth import Principal, Role, allow
from shared.deps import UowFactoryDep

router = APIRouter(prefix="/api/v1/case-opinions", tags=["opinions"])


class GiveOpinion(BaseModel):
    """司法机关意见: the organ's view of the handler's work in a case it notified or heard."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"case_id": "3f2b8c1e-5d4a-4e7b-9c61-2a8f0d9e4b17", "organ_kind": "court", "relation": "heard",
         "assessment": "satisfied", "remarks": "辩护人庭前充分阅卷，庭审发问和辩护意见针对性强。"},
    ]})

    case_id: str = Field(min_length=1, max_length=64)
    organ_kind: OrganKind
    relation: OrganRelation = Field(description="notified: the organ notified the case (checked against "
                                                "intake's record); heard: it heard the case")
    assessment: Assessment
    remarks: str = Field(min_length=1, max_length=2000,
                         description="On the handler's work; nothing personal of the aided person")


@router.post("", summary="Give an organ's opinion of the handler's work", status_code=status.HTTP_201_CREATED,
             response_model=OpinionView)
async def give_opinion(*, body: GiveOpinion, uow: UowFactoryDep, response: Response,
                       principal: Annotated[Principal, allow(Role.judicial_organ)]) -> OpinionView:
    """A court, procuratorate or police organ gives its opinion of the handler's work in a case,
    once (a second is a 409). `notified`: only the organ that notified the case (intake's
    `source_system`; any other is a 404); `heard`: the organ that heard it (evaluation does not
    know which court heard a case: the opinion names the organ's token). The opinion joins the
    case's quality record (R-EVL-5)."""
    opinion = await handlers.give_opinion(uow, case_id=body.case_id, organ_id=principal.institution_id,
                                          organ_kind=body.organ_kind, relation=body.relation,
                                          assessment=body.assessment, remarks=body.remarks, by=principal.sub)
    response.headers["Location"] = f"/api/v1/evaluations/quality-records/{body.case_id}"
    return opinion
