"""The handling of a case: the handling record, the timeline, the closing file, and the case's
deadlines."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from services.intake import handlers
from services.intake.api.cases import CaseId, Ref
from services.intake.domain.closing import ClosingChecklist
from services.intake.domain.record import WorkEntry
from services.intake.queries import access
from services.intake.queries.deadlines import DeadlineView, deadlines_of
from services.intake.queries.timeline import TimelineEntry, timeline_of
from services.intake.queries.views import CaseView, view_of
from services.intake.settings import IntakeSettingsDep
from shared.auth import Principal, Role, acting_as, allow
from shared.deps import ClockDep, EngineDep, UowFactoryDep

router = APIRouter(prefix="/api/v1/cases", tags=["handling"])


def _text_only(value: object) -> object:
    # A number would otherwise pass as seconds since 1970: a moment is written as ISO 8601.
    if not isinstance(value, str | datetime):
        raise ValueError("a moment is an ISO 8601 date and time with its offset, "
                         "e.g. 2026-11-25T10:00:00+08:00")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_text_only)]


class RecordWork(BaseModel):
    """An entry of the handling record (办案记录): a meeting with the aided person, reading the
    case file, investigation and evidence collection, a legal opinion, a hearing attended, a
    report to the agency, a document attached, or the mandate signed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"entry_id": "0b7c2f4e-8a1d-4c3b-9e6f-5d2a7c8b1e90", "occurred_at": "2026-03-05T10:30:00+08:00",
         "entry": {"kind": "meeting", "rights_explained": True, "obligations_explained": True,
                   "risks_explained": True,
                   "conversation_record": "在朝阳区看守所会见犯罪嫌疑人，告知其诉讼权利和义务、认罪认罚的"
                                          "法律后果与风险；嫌疑人陈述了案发经过，表示愿意退赔被害人损失。"}},
        {"occurred_at": "2026-08-20T14:00:00+08:00",
         "entry": {"kind": "hearing", "venue": "北京市朝阳区人民法院", "attended": True,
                   "notes": "出庭辩护，发表自首、退赃退赔、初犯的辩护意见"}},
    ]})

    entry_id: Ref | None = Field(default=None, description="The client's id for the entry: sending it again "
                                                           "records nothing new")
    author_id: Ref | None = Field(default=None, description="Who did the work: the caller (the token's "
                                                            "subject); sent, it must be that")
    occurred_at: Moment = Field(description="When the work was done (with its UTC offset)")
    entry: WorkEntry


class SubmitClosingFile(BaseModel):
    """结案归档: the handler hands in the closing file, with what it holds."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"checklist": {"mandate_documents": True, "meeting_records": True, "file_review_notes": True,
                       "investigation_materials": True, "legal_opinion": True, "hearing_records": True,
                       "outcome_document": True, "reports_to_agency": False}},
    ]})

    submitted_by: Ref | None = Field(default=None, description="Who submits it: the caller (the token's "
                                                               "subject); sent, it must be that")
    checklist: ClosingChecklist


class Recorded(BaseModel):
    case_id: str
    record_entries: int = Field(description="Entries in the handling record now")


@router.post("/{case_id}/record", summary="Add to the handling record (办案记录)",
             status_code=status.HTTP_201_CREATED, response_model=Recorded)
async def record_work(*, case_id: CaseId, body: RecordWork, uow: UowFactoryDep,
                      principal: Annotated[Principal, allow(Role.case_handler)]) -> Recorded:
    """The case's handler adds an entry to its handling record, with its time and author. Open
    from assignment on; an entry sent again with the same entry_id is recorded once."""
    case = await handlers.record_work(uow, case_id, entry_id=body.entry_id,
                                      author_id=acting_as(principal, "author_id", body.author_id),
                                      occurred_at=body.occurred_at, entry=body.entry,
                                      only_handler=access.handler_scope(principal))
    return Recorded(case_id=case.id, record_entries=len(case.record_entries))


@router.get("/{case_id}/timeline", summary="The case's timeline: who did what",
            response_model=list[TimelineEntry])
async def timeline(*, case_id: CaseId, engine: EngineDep,
                   principal: Annotated[Principal, allow(*access.CASE_READERS)]) -> list[TimelineEntry]:
    """Who did what on the case, and when, oldest first: registration, assignment, each entry
    of the handling record, closure, the closing file. Never the aided person's data."""
    return await timeline_of(engine, case_id, principal)


@router.post("/{case_id}/closing-file", summary="Submit the closing file (结案归档材料)",
             response_model=CaseView)
async def submit_closing_file(*, case_id: CaseId, body: SubmitClosingFile, uow: UowFactoryDep,
                              principal: Annotated[Principal, allow(Role.case_handler)]) -> CaseView:
    """The case's handler submits the closing file of a closed case (R-HDL-5), due within 30 days
    of its end (R-HDL-6)."""
    case = await handlers.submit_closing_file(uow, case_id, checklist=body.checklist,
                                              submitted_by=acting_as(principal, "submitted_by",
                                                                     body.submitted_by),
                                              only_handler=access.handler_scope(principal))
    return view_of(case)


@router.get("/{case_id}/deadlines", summary="The case's time limits", response_model=list[DeadlineView])
async def case_deadlines(*, case_id: CaseId, engine: EngineDep, settings: IntakeSettingsDep, clock: ClockDep,
                         principal: Annotated[Principal, allow(*access.CASE_READERS)]) -> list[DeadlineView]:
    """The case's running time limits: assignment (R-ASG-7), first meeting (R-HDL-6), mandate
    (R-ASG-9), closing file (R-HDL-6), with the policy configured for intake."""
    return await deadlines_of(engine, case_id, principal, settings.deadline_policy(), clock())
