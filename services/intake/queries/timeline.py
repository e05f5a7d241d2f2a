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
    actor: str = Field(description="Who did it: a handler's or staff member's id, a notifying system, "
                                   "'assignment'")
    action: str
    summary: str = Field(description="What was done, without the aided person's data or the entries' free "
                                     "text")


def timeline_entry(event: RecordedEvent) -> TimelineEntry:
    e = Case.event_types[event.type].model_validate(event.data)

    def entry(occurred_at: datetime, actor: str, action: str, summary: str) -> TimelineEntry:
        return TimelineEntry(version=event.version, recorded_at=event.recorded_at, occurred_at=occurred_at,
                             actor=actor, action=action, summary=summary)

    match e:
        case CaseRegistered():
            kind = ", ".join(str(x) for x in (e.case_kind, e.criminal_stage, e.criminal_role, e.matter) if x)
            actor = e.registered_by or (f"system:{e.source_system}" if e.source_system
                                        else f"agency:{e.agency_id}")
            follows = f"; next stage of case {e.previous_case_id}" if e.previous_case_id else ""
            return entry(e.registered_at, actor, "registered",
                         f"case {e.case_number} registered ({kind}){follows}")
        case HandlerAssigned() if e.previous_handler is not None:
            return entry(e.assigned_at, "assignment", "reassigned",
                         f"handler changed from {e.previous_handler.name} to {e.handler.name} "
                         f"({e.handler.institution_name}) by {e.method}")
        case HandlerAssigned():
            return entry(e.assigned_at, "assignment", "assigned",
                         f"assigned to {e.handler.name} ({e.handler.institution_name}) by {e.method}")
        case ReassignmentAccepted():
            return entry(e.accepted_at, e.accepted_by, "reassignment_accepted",
                         "the agency accepted the request for another handler")
        case NextStageRegistered():
            return entry(e.registered_at, "intake", "next_stage",
                         f"moved to {e.criminal_stage} as case {e.next_case_number}")
        case ClosingCheckSignedOff():
            return entry(e.signed_off_at, e.quality_lead_id, "closing_check_signed_off",
                         "closing check signed off by the quality lead")
        case WorkRecorded():
            return entry(e.occurred_at, e.author_id, e.entry.kind, summary(e.entry))
        case CaseClosed():
            return entry(e.closed_at, e.closed_by or "handler", "closed",
                         f"closed: {e.outcome}, ended on {e.ended_on}")
        case ClosingFileSubmitted():
            missing = e.checklist.missing()
            return entry(e.submitted_at, e.submitted_by, "closing_file_submitted",
                         "closing file submitted" + (f"; missing: {', '.join(missing)}" if missing
                                                     else "; complete"))
        case ReassignmentRequested():
            return entry(e.requested_at, e.requested_by, "reassignment_requested",
                         f"the aided person asked for another handler ({e.category})")
        case AidTerminated():
            return entry(e.terminated_at, e.terminated_by, "terminated", f"aid terminated: {e.reason}")
        case ClosingChecked():
            failed = f"; failed: {', '.join(e.failed_items)}" if e.failed_items else ""
            return entry(e.checked_at, e.checker_id, "closing_checked",
                         f"closing file check{f' ({e.standard})' if e.standard else ''}: "
                         + ("passed" if e.passed else "not passed" + failed))
        case CaseArchived():
            return entry(e.archived_at, e.archived_by, "archived", "case file archived")
        case DeadlineMissed():
            return entry(e.due_at, "intake", "deadline_missed", f"{e.deadline} not done in time ({e.rule})")
        case FollowUpRecorded():
            return entry(datetime.combine(e.visited_on, datetime.min.time(), tzinfo=UTC), e.visited_by,
                         "follow_up", f"follow-up by {e.channel}: {e.satisfaction}")
    return entry(event.recorded_at, "-", event.type, event.type)


async def timeline_of(engine: AsyncEngine, case_id: str, principal: Principal) -> list[TimelineEntry]:
    """The case's timeline, if the caller may see the case (404 otherwise, for a case or for a
    handler's)."""
    await visible_case(engine, case_id, principal)
    async with engine.connect() as conn:
        events = await store.load(conn, Case.stream_id(case_id))
    return [timeline_entry(e) for e in events]
