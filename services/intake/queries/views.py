"""What intake shows of a case: the case view, from the case list's row or folded from the
stream (for a past moment, or the case a command just changed; both give the same view), and
the reduced view of a notifying organ; and the aided person of a case, as a caller is shown
them (values, masks, or erased: handlers.show_aided_person)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field

from services.intake.domain.case import Case
from services.intake.domain.checklists import MissingItem
from services.intake.domain.closing import Satisfaction, TerminationReason
from services.intake.domain.record import Mandate
from shared.contracts import CaseKind
from shared.contracts.intake import CriminalRole, CriminalStage, Matter


class CaseView(BaseModel):
    """A legal-aid case as the agency sees it in its list: never the aided person's data."""

    case_id: str
    case_number: str = Field(description="案件编号, FY-<year>-<serial>")
    case_kind: CaseKind
    criminal_stage: CriminalStage | None = None
    criminal_role: CriminalRole | None = None
    matter: Matter | None = None
    cause: str = Field(description="Cause of action (案由)")
    district: str
    agency_id: str
    source_system: str | None = Field(default=None, description="The notifying organ's system (通知辩护)")
    external_reference: str | None = Field(default=None, description="The notifying organ's own reference")
    status: str = Field(description="registered, assigned, closed, terminated or archived")
    handler_id: str | None
    handler_name: str | None
    institution_id: str | None = None
    institution_name: str | None
    registered_at: datetime
    assigned_at: datetime | None
    first_meeting_at: datetime | None = Field(default=None, description="When the first meeting took place")
    mandate_signed_at: datetime | None = Field(default=None, description="When the mandate was signed")
    record_entries: int = Field(default=0, description="Entries in the handling record")
    closed_at: datetime | None
    ended_on: date | None = Field(default=None, description="The day the case ended")
    outcome: str | None
    closing_file_at: datetime | None = Field(default=None, description="When the closing file was submitted")
    reassignment_requested_at: datetime | None = Field(
        default=None, description="When the aided person last asked for another handler")
    terminated_at: datetime | None = Field(default=None, description="When aid was terminated")
    termination_reason: TerminationReason | None = None
    closing_check_passed: bool | None = Field(default=None,
                                              description="The closing check's result (R-CHK-1)")
    archived_at: datetime | None = None
    satisfaction: Satisfaction | None = Field(default=None,
                                              description="The last follow-up's answer (R-HDL-8)")
    previous_case_id: str | None = Field(default=None, description="R-HDL-7: the case of the previous stage")
    next_case_id: str | None = Field(default=None, description="R-HDL-7: the case of the next stage")
    reassigned_at: datetime | None = Field(default=None, description="When the handler last changed")
    reassignment_accepted_at: datetime | None = Field(
        default=None,
        description="When the agency accepted a request for another handler, until one is named")
    closing_check_standard: str | None = Field(default=None, description="The standard the closing file was "
                                               "checked against (SF/T 0086-2020 or SF/T 0085-2020)")
    closing_check_failed_items: list[str] | None = Field(default=None, description="The checklist items that "
                                                         "did not pass at the last closing check")
    closing_check_checklist_version: int | None = Field(
        default=None, description="The version of the agency's checklist the last check used (1: the seed)")
    closing_check_missing: list[MissingItem] | None = Field(
        default=None, description="Each item the last closing check found missing, with each reason: what "
                                  "the closing file or the handling record lacks, or the checker's finding")
    signed_off_at: datetime | None = Field(default=None,
                                           description="When the quality lead signed the check off")
    signed_off_by: str | None = Field(default=None,
                                      description="The quality lead who signed it off (R-CHK-2)")


class NotifiedCaseView(BaseModel):
    """What a notifying court, procuratorate or police sees of a case it notified (R-ASG-7): its
    status and who was assigned, nothing of the record or of the aided person."""

    case_id: str
    case_number: str = Field(description="案件编号, FY-<year>-<serial>")
    source_system: str | None = Field(description="The notifying organ's system")
    external_reference: str | None = Field(description="The notifying organ's own reference")
    status: str = Field(description="registered, assigned, closed, terminated or archived")
    registered_at: datetime
    assigned_at: datetime | None
    handler_name: str | None = Field(description="The assigned handler (R-ASG-7: the organ is told who)")
    institution_name: str | None = Field(description="The handler's law firm or legal service office")

    @classmethod
    def of(cls, view: CaseView) -> NotifiedCaseView:
        return cls(**view.model_dump(include=set(cls.model_fields)))


def _utc(t: datetime | None) -> datetime | None:
    return t.astimezone(UTC) if t is not None else None


def _first(case: Case, kind: str, *, signed: bool = False) -> datetime | None:
    """The earliest such work done for the current handler (as the case list's row keeps it)."""
    times = [e.occurred_at for e in case.record_entries[case.entries_before_change:] if e.entry.kind == kind
             and (case.reassigned_at is None or e.occurred_at >= case.reassigned_at)
             and (not signed or (isinstance(e.entry, Mandate) and e.entry.agreement_signed
                                 and e.entry.power_of_attorney_signed))]
    return _utc(min(times)) if times else None


def view_of(case: Case) -> CaseView:
    """The view of a case folded from its events (the case list's row holds the same)."""
    r, h, c, t = case.registration, case.handler, case.closure, case.termination
    check, signed = case.closing_check, case.sign_off
    assert r is not None
    return CaseView(
        case_id=case.id, case_number=r.case_number, case_kind=r.case_kind, criminal_stage=r.criminal_stage,
        criminal_role=r.criminal_role, matter=r.matter, cause=r.cause, district=r.district,
        agency_id=r.agency_id,
        source_system=r.source_system, external_reference=r.external_reference, status=str(case.status),
        handler_id=h.handler_id if h else None, handler_name=h.name if h else None,
        institution_id=h.institution_id if h else None, institution_name=h.institution_name if h else None,
        registered_at=_utc(r.registered_at), assigned_at=_utc(case.assigned_at),
        first_meeting_at=_first(case, "meeting"), mandate_signed_at=_first(case, "mandate", signed=True),
        record_entries=len(case.record_entries), closed_at=_utc(c.closed_at) if c else None,
        ended_on=c.ended_on if c else None, outcome=c.outcome if c else None,
        closing_file_at=_utc(case.closing_file.submitted_at) if case.closing_file else None,
        reassignment_requested_at=(_utc(case.reassignment_requests[-1].requested_at)
                                   if case.reassignment_requests else None),
        terminated_at=_utc(t.terminated_at) if t else None, termination_reason=t.reason if t else None,
        closing_check_passed=case.closing_check.passed if case.closing_check else None,
        archived_at=_utc(case.archived_at),
        satisfaction=case.follow_ups[-1].satisfaction if case.follow_ups else None,
        previous_case_id=r.previous_case_id,
        next_case_id=case.next_stage.next_case_id if case.next_stage else None,
        reassigned_at=_utc(case.reassigned_at),
        reassignment_accepted_at=_utc(case.accepted_request.accepted_at) if case.accepted_request else None,
        closing_check_standard=check.standard if check else None,
        closing_check_failed_items=check.failed_items if check else None,
        closing_check_checklist_version=check.checklist_version if check else None,
        closing_check_missing=list(check.missing) if check else None,
        signed_off_at=_utc(signed.signed_off_at) if signed else None,
        signed_off_by=signed.quality_lead_id if signed else None,
    )


def view_of_row(row: Any) -> CaseView:
    """The view of a case from its row in the case list."""
    return CaseView.model_validate(dict(row))


class AidedPersonView(BaseModel):
    """受援人 of a case: the values (agency staff, the case's handler), masks (checkers, the quality
    lead, the bureau, auditors), or nothing once the person's data was erased."""

    case_id: str
    masked: bool = Field(description="True when the values are masked (110101********1234, 138****5678, 张*)")
    erased: bool = Field(description="True when the person's data was erased (crypto-shredding): no values")
    erased_at: datetime | None = None
    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None
