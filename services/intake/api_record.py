"""Intake's REST API for the handling of a case: the handling record, the timeline, the closing
file, the case's deadlines and the overdue worklist."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from services.intake import access, handlers, queries
from services.intake.api import CaseId, Ref
from services.intake.clock import ClockDep
from services.intake.closing import ClosingChecklist
from services.intake.deadlines import Deadline
from services.intake.record import WorkEntry
from services.intake.views import CaseView, TimelineEntry, timeline_entry
from shared import store
from shared.auth import Principal, Role, allow
from shared.deps import EngineDep, UowFactoryDep

router = APIRouter(prefix="/api/v1/cases", tags=["handling"])


def _text_only(value: object) -> object:
    # A number would otherwise pass as seconds since 1970: a moment is written as ISO 8601.
    if not isinstance(value, str | datetime):
        raise ValueError("a moment is an ISO 8601 date and time with its offset, e.g. 2026-11-25T10:00:00+08:00")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_text_only)]
worklist = APIRouter(prefix="/api/v1/worklist", tags=["deadlines"])


class RecordWork(BaseModel):
    """An entry of the handling record (办案记录): a meeting with the aided person, reading the
    case file, investigation and evidence collection, a legal opinion, a hearing attended, a
    report to the agency, a document attached, or the mandate signed."""

    model_config = ConfigDict(extra="forbid")

    entry_id: Ref | None = Field(default=None, description="The client's id for the entry: sending it again "
                                                           "records nothing new")
    author_id: Ref = Field(description="Who did the work: the handler's (or staff member's) id")
    occurred_at: Moment = Field(description="When the work was done (with its UTC offset)")
    entry: WorkEntry


class SubmitClosingFile(BaseModel):
    """结案归档: the handler hands in the closing file, with what it holds."""

    model_config = ConfigDict(extra="forbid")

    submitted_by: Ref
    checklist: ClosingChecklist


class Recorded(BaseModel):
    case_id: str
    record_entries: int = Field(description="Entries in the handling record now")


class DeadlineView(BaseModel):
    """A time limit of the case: which rule, when due, when met, whether overdue now."""

    kind: str = Field(description="assignment, first_meeting, mandate or closing_file")
    rule: str = Field(description="The rule of domain.md that sets it")
    due_at: datetime
    met_at: datetime | None
    overdue: bool = Field(description="Missed: not met by its due moment")


class OverdueItem(BaseModel):
    """A deadline past due and not met: what the agency, institution or handler must chase."""

    case_id: str
    case_number: str
    case_kind: str
    agency_id: str
    district: str
    institution_id: str | None
    handler_id: str | None
    handler_name: str | None
    deadline: str
    rule: str
    due_at: datetime
    days_overdue: int


def _deadline_view(d: Deadline, now: datetime) -> DeadlineView:
    return DeadlineView(kind=d.kind, rule=d.rule, due_at=d.due_at, met_at=d.met_at, overdue=d.overdue(now))


@router.post("/{case_id}/record", summary="Add to the handling record (办案记录)",
             status_code=status.HTTP_201_CREATED, response_model=Recorded)
async def record_work(*, case_id: CaseId, body: RecordWork, uow: UowFactoryDep,
                      principal: Annotated[Principal, allow(Role.case_handler)]) -> Recorded:
    """The case's handler adds an entry to its handling record, with its time and author. Open
    from assignment on; an entry sent again with the same entry_id is recorded once."""
    case = await handlers.record_work(uow, case_id, entry_id=body.entry_id, author_id=body.author_id,
                                      occurred_at=body.occurred_at, entry=body.entry,
                                      only_handler=access.handler_scope(principal))
    return Recorded(case_id=case.id, record_entries=len(case.record_entries))


@router.get("/{case_id}/timeline", summary="The case's timeline: who did what",
            response_model=list[TimelineEntry])
async def timeline(*, case_id: CaseId, engine: EngineDep,
                   principal: Annotated[Principal, allow(*access.CASE_READERS)]) -> list[TimelineEntry]:
    """Who did what on the case, and when, oldest first: registration, assignment, each entry
    of the handling record, closure, the closing file. Never the aided person's data."""
    await access.visible_case(engine, case_id, principal)  # the 404, for a case or for a handler's
    async with engine.connect() as conn:
        events = await store.load(conn, f"case-{case_id}")
    return [timeline_entry(e) for e in events]


@router.post("/{case_id}/closing-file", summary="Submit the closing file (结案归档材料)", response_model=CaseView)
async def submit_closing_file(*, case_id: CaseId, body: SubmitClosingFile, uow: UowFactoryDep,
                              engine: EngineDep,
                              principal: Annotated[Principal, allow(Role.case_handler)]) -> CaseView:
    """The case's handler submits the closing file of a closed case (R-HDL-5), due within 30 days
    of its end (R-HDL-6)."""
    await handlers.submit_closing_file(uow, case_id, checklist=body.checklist, submitted_by=body.submitted_by,
                                       only_handler=access.handler_scope(principal))
    return await queries.case_view(engine, case_id)


@router.get("/{case_id}/deadlines", summary="The case's time limits", response_model=list[DeadlineView])
async def case_deadlines(*, case_id: CaseId, engine: EngineDep, request: Request, clock: ClockDep,
                         principal: Annotated[Principal, allow(*access.CASE_READERS)]) -> list[DeadlineView]:
    """The case's running time limits: assignment (R-ASG-7), first meeting (R-HDL-6), mandate
    (R-ASG-9), closing file (R-HDL-6), with the policy configured for intake."""
    await access.visible_case(engine, case_id, principal)
    found = await queries.case_deadlines(engine, case_id, request.app.state.settings.deadline_policy())
    now = clock()
    return [_deadline_view(d, now) for d in found]


@worklist.get("/overdue", summary="The overdue worklist", response_model=list[OverdueItem])
async def overdue(
    *, engine: EngineDep, request: Request, clock: ClockDep,
    principal: Annotated[Principal, allow(Role.agency_staff, Role.quality_lead, Role.bureau_investigator,
                                          Role.auditor, Role.case_handler)],
    agency_id: Annotated[str | None, Query(max_length=64)] = None,
    institution_id: Annotated[str | None, Query(max_length=64)] = None,
    handler_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[OverdueItem]:
    """The overdue worklist: every deadline past due and not met, most overdue first, for an
    agency, an institution or a handler. A handler's worklist holds their own cases only."""
    now = clock()
    handler_id = access.handler_scope(principal) or handler_id
    filters = queries.CaseFilter(agency_id=agency_id, institution_id=institution_id, handler_id=handler_id)
    found = await queries.overdue_worklist(engine, filters, request.app.state.settings.deadline_policy(), now)
    return [OverdueItem(case_id=r["case_id"], case_number=r["case_number"], case_kind=r["case_kind"],
                        agency_id=r["agency_id"], district=r["district"], institution_id=r["institution_id"],
                        handler_id=r["handler_id"], handler_name=r["handler_name"], deadline=d.kind, rule=d.rule,
                        due_at=d.due_at, days_overdue=(now - d.due_at).days) for r, d in found]


class Sweep(BaseModel):
    recorded: int = Field(description="Missed deadlines recorded by this sweep (each is recorded once)")


@worklist.post("/sweep", summary="Record missed deadlines", response_model=Sweep,
               dependencies=[allow(Role.agency_staff)])
async def sweep(*, engine: EngineDep, uow: UowFactoryDep, request: Request, clock: ClockDep) -> Sweep:
    """Record a `DeadlineMissed` event in the history of each case for each deadline now past due
    and unmet; a scheduler calls it (a deadline is recorded missed once)."""
    return Sweep(recorded=await queries.sweep_deadlines(engine, uow, request.app.state.settings.deadline_policy(),
                                                        clock()))
