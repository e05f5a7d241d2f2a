"""The case's timeline: who did what, and when, oldest first; never the aided person's data or
the free text of the handling record."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.domain.case import Case
from services.intake.domain.events import (
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
from services.intake.domain.record import summary
from services.intake.queries.cases import visible_case
from shared import store
from shared.auth import Principal
from shared.store import RecordedEvent


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


async def timeline_of(engine: AsyncEngine, case_id: str, principal: Principal) -> list[TimelineEntry]:
    """The case's timeline, if the caller may see the case (404 otherwise, for a case or for a
    handler's)."""
    await visible_case(engine, case_id, principal)
    async with engine.connect() as conn:
        events = await store.load(conn, Case.stream_id(case_id))
    return [timeline_entry(e) for e in events]
