"""The closing check's checklists (/api/v1/cases/closing-checklists): what a designated checker
verifies in a closing file of each kind of case, and the evidence each item needs (R-CHK-1);
the agencies' versions of them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from services.intake import handlers
from services.intake.domain.checklists import CheckItem, Checklist
from services.intake.queries.closing import checklist_of
from shared.auth import Principal, Role, allow
from shared.contracts import CaseKind
from shared.deps import EngineDep, UowFactoryDep

# Under /cases so that the ingress routes it to intake with the rest of the case resources.
# More versions than an agency files in a lifetime; the column is a 32-bit integer.
MAX_VERSION = 10_000

checklists = APIRouter(prefix="/api/v1/cases/closing-checklists", tags=["end of a case"])


class ChecklistView(BaseModel):
    case_kind: CaseKind
    standard: str = Field(description="SF/T 0086-2020 (criminal) or SF/T 0085-2020 (civil, administrative)")
    version: int = Field(description="1: the seed items of the standard; 2 and on: the agency's versions")
    agency_id: str | None = Field(default=None, description="The agency whose version it is; null: the seed")
    filed_by: str | None = None
    filed_at: datetime | None = None
    items: list[CheckItem]

    @classmethod
    def of(cls, checklist: Checklist) -> ChecklistView:
        return cls(case_kind=checklist.case_kind, standard=checklist.standard, version=checklist.version,
                   agency_id=checklist.agency_id, filed_by=checklist.filed_by, filed_at=checklist.filed_at,
                   items=list(checklist.items))


class FileChecklistVersion(BaseModel):
    """A new version of the kind's checklist for the caller's agency: its items, each with the
    evidence it needs. Together they must still ask for every evidence the standard's seed asks for."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"items": [
            {"key": "mandate_and_meeting",
             "text": "mandate signed; the aided person met within 3 working days, rights, obligations and "
                     "risks explained, the conversation recorded",
             "text_zh": "签订委托协议和授权委托书, 3个工作日内会见, 告知权利义务和风险, 笔录详实",
             "evidence": ["mandate_signed", "meeting_held", "rights_and_risks_explained"]},
            {"key": "file_review_and_investigation",
             "text": "the case file read in time, evidence collected where the case needed it",
             "text_zh": "及时阅卷, 依法调查取证", "evidence": ["file_read", "investigation_accounted"]},
            {"key": "opinion_and_hearing", "text": "the statement argues fully, hearings attended",
             "text_zh": "辩护或代理意见充分, 依法出庭", "evidence": ["opinion_filed", "hearings_attended"]},
            {"key": "report_duty", "text": "major matters reported to the agency", "text_zh": "履行报告义务",
             "evidence": ["reports_filed"]},
            {"key": "closing_file_in_time", "text": "the closing file complete and submitted in time",
             "text_zh": "结案材料齐全规范, 按时提交", "evidence": ["outcome_document"]},
            {"key": "follow_up_notice",
             "text": "the aided person told of the outcome and of the follow-up visit",
             "text_zh": "告知受援人办理结果及回访安排"},
        ]},
    ]})

    items: list[CheckItem] = Field(min_length=1, max_length=40)


@checklists.get("/{case_kind}", summary="The closing check's checklist for a kind of case",
                response_model=ChecklistView,
                dependencies=[allow(Role.agency_staff, Role.closing_checker, Role.quality_lead,
                                    Role.bureau_investigator, Role.auditor, Role.case_handler,
                                    Role.peer_reviewer)])
async def closing_checklist(
    *, case_kind: CaseKind, engine: EngineDep,
    agency_id: Annotated[str | None, Query(max_length=64, description="The agency whose checklist: its "
                                           "current version (the seed when it filed none)")] = None,
    version: Annotated[int | None, Query(ge=1, le=MAX_VERSION, description="An earlier version")] = None,
) -> ChecklistView:
    """The closing check's items for a kind of case, under its evaluation standard (R-CHK-1), with
    the evidence each needs: the seed, or an agency's current (or given) version."""
    return ChecklistView.of(await checklist_of(engine, case_kind, agency_id=agency_id, version=version))


@checklists.post("/{case_kind}/versions", summary="File a new version of the agency's checklist of a kind",
                 status_code=status.HTTP_201_CREATED, response_model=ChecklistView)
async def file_checklist_version(
    *, case_kind: CaseKind, body: FileChecklistVersion, uow: UowFactoryDep,
    principal: Annotated[Principal, allow(Role.agency_staff, Role.quality_lead)],
) -> ChecklistView:
    """The caller's agency (its token's `agency_id`) files a new version of its checklist of the
    kind: checks from then on use it, earlier checks keep the version they used (R-CHK-1)."""
    return ChecklistView.of(await handlers.file_checklist_version(uow, case_kind=case_kind, items=body.items,
                                                                  by=principal))
