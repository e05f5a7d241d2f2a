"""What intake shows of a case: the case view (from the case list's row, or folded from the
stream for a past moment; both give the same view) and the timeline. No personal data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field

from services.intake.closing import Satisfaction, TerminationReason
from services.intake.domain import Case
from services.intake.events import (
    AidTerminated,
    CaseArchived,
    CaseClosed,
    CaseRegistered,
    ClosingChecked,
    ClosingCheckSignedOff,
    ClosingFileSubmitted,
    DeadlineMissed,
    FollowUpRecorded,
    HandlerAssigned,
    NextStageRegistered,
    ReassignmentAccepted,
    ReassignmentRequested,
    WorkRecorded,
)
from services.intake.record import summary
from shared.contracts import CaseKind
from shared.contracts.intake import CriminalRole, CriminalStage, Matter
from shared.store import RecordedEvent


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
    closing_check_passed: bool | None = Field(default=None, description="The closing check's result (R-CHK-1)")
    archived_at: datetime | None = None
    satisfaction: Satisfaction | None = Field(default=None, description="The last follow-up's answer (R-HDL-8)")
    previous_case_id: str | None = Field(default=None, description="R-HDL-7: the case of the previous stage")
    next_case_id: str | None = Field(default=None, description="R-HDL-7: the case of the next stage")
    reassigned_at: datetime | None = Field(default=None, description="When the handler last changed")
    reassignment_accepted_at: datetime | None = Field(
        default=None, description="When the agency accepted a request for another handler, until one is named")
    closing_check_standard: str | None = Field(default=None, description="The standard the closing file was "
                                               "checked against (SF/T 0086-2020 or SF/T 0085-2020)")
    closing_check_failed_items: list[str] | None = Field(default=None, description="The checklist items that "
                                                         "did not pass at the last closing check")
    signed_off_at: datetime | None = Field(default=None, description="When the quality lead signed the check off")
    signed_off_by: str | None = Field(default=None, description="The quality lead who signed it off (R-CHK-2)")


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
             and (not signed or (e.entry.agreement_signed and e.entry.power_of_attorney_signed))]  # type: ignore[union-attr]
    return _utc(min(times)) if times else None


def view_of(case: Case) -> CaseView:
    """The view of a case folded from its events (the case list's row holds the same)."""
    r, h, c, t = case.registration, case.handler, case.closure, case.termination
    check, signed = case.closing_check, case.sign_off
    assert r is not None
    return CaseView(
        case_id=case.id, case_number=r.case_number, case_kind=r.case_kind, criminal_stage=r.criminal_stage,
        criminal_role=r.criminal_role, matter=r.matter, cause=r.cause, district=r.district, agency_id=r.agency_id,
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
        archived_at=_utc(case.archived_at), satisfaction=case.follow_ups[-1].satisfaction if case.follow_ups else None,
        previous_case_id=r.previous_case_id, next_case_id=case.next_stage.next_case_id if case.next_stage else None,
        reassigned_at=_utc(case.reassigned_at),
        reassignment_accepted_at=_utc(case.accepted_request.accepted_at) if case.accepted_request else None,
        closing_check_standard=check.standard if check else None,
        closing_check_failed_items=check.failed_items if check else None,
        signed_off_at=_utc(signed.signed_off_at) if signed else None,
        signed_off_by=signed.quality_lead_id if signed else None,
    )


def view_of_row(row: Any) -> CaseView:
    return CaseView.model_validate(dict(row))


class TimelineEntry(BaseModel):
    """One thing that happened to the case: who did it, what, and when."""

    version: int = Field(description="Its place in the case's history (1 = registration)")
    recorded_at: datetime = Field(description="When Fayuan recorded it")
    occurred_at: datetime = Field(description="When it happened (for handling work, as its author says)")
    actor: str = Field(description="Who did it: a handler's or staff member's id, a notifying system, 'assignment'")
    action: str
    summary: str = Field(description="What was done, without the aided person's data or the entries' free text")


def timeline_entry(event: RecordedEvent) -> TimelineEntry:
    e = Case.event_types[event.type].model_validate(event.data)
    at = event.recorded_at
    match e:
        case CaseRegistered():
            kind = ", ".join(str(x) for x in (e.case_kind, e.criminal_stage, e.criminal_role, e.matter) if x)
            actor = e.registered_by or (f"system:{e.source_system}" if e.source_system else f"agency:{e.agency_id}")
            follows = f"; next stage of case {e.previous_case_id}" if e.previous_case_id else ""
            return TimelineEntry(version=event.version, recorded_at=at, occurred_at=e.registered_at, actor=actor,
                                 action="registered", summary=f"case {e.case_number} registered ({kind}){follows}")
        case HandlerAssigned() if e.previous_handler is not None:
            return TimelineEntry(version=event.version, recorded_at=at, occurred_at=e.assigned_at, actor="assignment",
                                 action="reassigned", summary=f"handler changed from {e.previous_handler.name} to "
                                 f"{e.handler.name} ({e.handler.institution_name}) by {e.method}")
        case HandlerAssigned():
            return TimelineEntry(version=event.version, recorded_at=at, occurred_at=e.assigned_at, actor="assignment",
                                 action="assigned", summary=f"assigned to {e.handler.name} ({e.handler.institution_name}) "
                                                            f"by {e.method}")
        case ReassignmentAccepted():
            return TimelineEntry(version=event.version, recorded_at=at, occurred_at=e.accepted_at, actor=e.accepted_by,
                                 action="reassignment_accepted",
                                 summary="the agency accepted the request for another handler")
        case NextStageRegistered():
            return TimelineEntry(version=event.version, recorded_at=at, occurred_at=e.registered_at, actor="intake",
                                 action="next_stage", summary=f"moved to {e.criminal_stage} as case {e.next_case_number}")
        case ClosingCheckSignedOff():
            return TimelineEntry(version=event.version, recorded_at=at, occurred_at=e.signed_off_at,
                                 actor=e.quality_lead_id, action="closing_check_signed_off",
                                 summary="closing check signed off by the quality lead")
        case WorkRecorded():
            return TimelineEntry(version=event.version, recorded_at=at, occurred_at=e.occurred_at, actor=e.author_id,
                                 action=e.entry.kind, summary=summary(e.entry))
        case CaseClosed():
            return TimelineEntry(version=event.version, recorded_at=at, occurred_at=e.closed_at,
                                 actor=e.closed_by or "handler", action="closed",
                                 summary=f"closed: {e.outcome}, ended on {e.ended_on}")
        case ClosingFileSubmitted():
            missing = e.checklist.missing()
            return TimelineEntry(version=event.version, recorded_at=at, occurred_at=e.submitted_at,
                                 actor=e.submitted_by, action="closing_file_submitted",
                                 summary="closing file submitted" + (f"; missing: {', '.join(missing)}" if missing
                                                                     else "; complete"))
        case ReassignmentRequested():
            return TimelineEntry(version=event.version, recorded_at=at, occurred_at=e.requested_at,
                                 actor=e.requested_by, action="reassignment_requested",
                                 summary=f"the aided person asked for another handler ({e.category})")
        case AidTerminated():
            return TimelineEntry(version=event.version, recorded_at=at, occurred_at=e.terminated_at,
                                 actor=e.terminated_by, action="terminated", summary=f"aid terminated: {e.reason}")
        case ClosingChecked():
            return TimelineEntry(version=event.version, recorded_at=at, occurred_at=e.checked_at, actor=e.checker_id,
                                 action="closing_checked",
                                 summary=f"closing file check{f' ({e.standard})' if e.standard else ''}: "
                                 + ("passed" if e.passed else "not passed" + (f"; failed: {', '.join(e.failed_items)}"
                                                                              if e.failed_items else "")))
        case CaseArchived():
            return TimelineEntry(version=event.version, recorded_at=at, occurred_at=e.archived_at,
                                 actor=e.archived_by, action="archived", summary="case file archived")
        case DeadlineMissed():
            return TimelineEntry(version=event.version, recorded_at=at, occurred_at=e.due_at, actor="intake",
                                 action="deadline_missed", summary=f"{e.deadline} not done in time ({e.rule})")
        case FollowUpRecorded():
            return TimelineEntry(version=event.version, recorded_at=at,
                                 occurred_at=datetime.combine(e.visited_on, datetime.min.time(), tzinfo=UTC),
                                 actor=e.visited_by, action="follow_up",
                                 summary=f"follow-up by {e.channel}: {e.satisfaction}")
    return TimelineEntry(version=event.version, recorded_at=at, occurred_at=at, actor="-", action=event.type,
                         summary=event.type)
