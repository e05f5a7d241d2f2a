"""The closing check's checklists (/api/v1/cases/closing-checklists): what a designated checker
verifies in a closing file of each kind of case (R-CHK-1)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.intake.domain.checklists import CHECKLIST_BY_KIND
from shared.auth import Role, allow
from shared.contracts import CaseKind

# Under /cases so that the ingress routes it to intake with the rest of the case resources.
checklists = APIRouter(prefix="/api/v1/cases/closing-checklists", tags=["end of a case"])


class ChecklistItemView(BaseModel):
    key: str
    text: str
    text_zh: str


class ChecklistView(BaseModel):
    case_kind: CaseKind
    standard: str = Field(description="SF/T 0086-2020 (criminal) or SF/T 0085-2020 (civil, administrative)")
    items: list[ChecklistItemView]


@checklists.get("/{case_kind}", summary="The closing check's checklist for a kind of case",
                response_model=ChecklistView,
                dependencies=[allow(Role.agency_staff, Role.closing_checker, Role.quality_lead,
                                    Role.bureau_investigator, Role.auditor, Role.case_handler,
                                    Role.peer_reviewer)])
async def closing_checklist(*, case_kind: CaseKind) -> ChecklistView:
    """The closing check's items for a kind of case, under its evaluation standard (R-CHK-1)."""
    checklist = CHECKLIST_BY_KIND[case_kind]
    return ChecklistView(case_kind=case_kind, standard=checklist.standard,
                         items=[ChecklistItemView(key=i.key, text=i.text, text_zh=i.text_zh)
                                for i in checklist.items])
