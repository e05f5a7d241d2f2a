"""The end of a case (pure models): the closing file's checklist, why aid is terminated, and
what a follow-up visit asks the aided person."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ClosingChecklist(BaseModel):
    """结案归档材料: what the closing file holds (R-HDL-5: all materials go into it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mandate_documents: bool = Field(description="Agreement and power of attorney")
    meeting_records: bool = Field(description="Records of the meetings with the aided person")
    file_review_notes: bool = Field(description="Notes of reading the case file")
    investigation_materials: bool = Field(description="Evidence collected, or a note that none was needed")
    legal_opinion: bool = Field(description="Defence or representation statement")
    hearing_records: bool = Field(description="Records of the hearings attended")
    outcome_document: bool = Field(description="Judgment, ruling, decision or agreement that ended the case")
    reports_to_agency: bool = Field(description="Reports made to the agency during the case")

    def missing(self) -> list[str]:
        return [name for name, present in self.model_dump().items() if not present]


class TerminationReason(StrEnum):
    """终止法律援助: the legal reasons assistance ends before the case does (Legal Aid Law art. 48)."""

    no_longer_in_financial_need = "no_longer_in_financial_need"
    obtained_by_false_information = "obtained_by_false_information"
    aided_person_withdrew = "aided_person_withdrew"
    own_lawyer_engaged = "own_lawyer_engaged"
    aided_person_misconduct = "aided_person_misconduct"
    case_ended_otherwise = "case_ended_otherwise"
    other_legal_reason = "other_legal_reason"


class FollowUpChannel(StrEnum):
    visit = "visit"
    phone = "phone"
    online = "online"


class Satisfaction(StrEnum):
    """回访: how the aided person judged the handler's service (R-HDL-8, R-EVL-5)."""

    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    dissatisfied = "dissatisfied"
