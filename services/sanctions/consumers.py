"""What sanctions does with other services' events: follow up every failed peer evaluation;
remember of each case what complaints and the information back to its organ need (its agency,
district and notifying organ from intake's CaseRegistered, its handler from assignment's CaseAssigned);
record the bar association's answers to its notices; and keep the duty facts the yearly duty
record and the commendation list count (assignments, declines, releases, closures, grades)."""

from __future__ import annotations

from services.sanctions import handlers, projections
from services.sanctions.domain import DutyFact, OutcomeChannel
from services.sanctions.settings import SanctionsSettings
from shared.contracts import (
    BarOutcomeReported,
    CaseAssigned,
    CaseClosed,
    CaseRegistered,
    EvaluationCompleted,
    EvaluationFailed,
    HandlerDeclined,
    HandlerReleased,
)
from shared.uow import UnitOfWork

# Who reported an answer that came as an event: the bar association's system (its Kafka user).
BAR_ASSOCIATION = "bar-association"


async def on_evaluation_failed(event: EvaluationFailed, uow: UnitOfWork) -> None:
    settings = uow.settings
    assert isinstance(settings, SanctionsSettings)  # the settings this service's app was built with
    await handlers.open_investigation(uow, event, settings.policy())


async def on_case_registered(event: CaseRegistered, uow: UnitOfWork) -> None:
    await projections.remember_case(uow.conn, case_id=event.case_id, case_number=event.case_number,
                                    case_kind=event.case_kind, agency_id=event.agency_id,
                                    district=event.district, source_system=event.source_system)


async def on_case_assigned(event: CaseAssigned, uow: UnitOfWork) -> None:
    """Remember the case's handler (for complaints and the organ's report) and count the
    assignment in the handler's duty record."""
    h = event.handler
    projections.record_duty_fact(
        uow, f"assigned/{event.case_id}/{h.handler_id}/{event.assigned_at.isoformat()}",
        DutyFact.assigned, event.assigned_at, h, case_id=event.case_id)
    await projections.remember_handler(uow.conn, case_id=event.case_id, case_number=event.case_number,
                                       handler_id=h.handler_id, handler_name=h.name, handler_kind=h.kind,
                                       licence_number=h.licence_number, institution_id=h.institution_id,
                                       institution_name=h.institution_name)


async def on_evaluation_completed(event: EvaluationCompleted, uow: UnitOfWork) -> None:
    projections.record_duty_fact(uow, f"graded/{event.evaluation_id}", DutyFact.graded,
                                 event.completed_at, event.handler, case_id=event.case_id, grade=event.grade)


async def on_handler_declined(event: HandlerDeclined, uow: UnitOfWork) -> None:
    projections.record_duty_fact(
        uow, f"declined/{event.case_id}/{event.handler.handler_id}/{event.declined_at.isoformat()}",
        DutyFact.declined, event.declined_at, event.handler, case_id=event.case_id)


async def on_handler_released(event: HandlerReleased, uow: UnitOfWork) -> None:
    projections.record_duty_fact(
        uow, f"released/{event.case_id}/{event.handler.handler_id}/{event.released_at.isoformat()}",
        DutyFact.released, event.released_at, event.handler, case_id=event.case_id)


async def on_case_closed(event: CaseClosed, uow: UnitOfWork) -> None:
    projections.record_duty_fact(uow, f"completed/{event.case_id}", DutyFact.completed,
                                 event.closed_at, event.handler, case_id=event.case_id)


async def on_bar_outcome_reported(event: BarOutcomeReported, uow: UnitOfWork) -> None:
    await handlers.record_bar_outcome(uow, event.notice_id, outcome=event.outcome,
                                      discipline=event.discipline, decided_on=event.decided_on,
                                      reference=event.reference,
                                      channel=OutcomeChannel.event, reported_by=BAR_ASSOCIATION,
                                      case_id=event.case_id)


CONSUMERS = {
    "evaluations": {EvaluationFailed: on_evaluation_failed, EvaluationCompleted: on_evaluation_completed},
    "assignments": {CaseAssigned: on_case_assigned, HandlerDeclined: on_handler_declined,
                    HandlerReleased: on_handler_released},
    "cases": {CaseRegistered: on_case_registered, CaseClosed: on_case_closed},
    "bar-outcomes": {BarOutcomeReported: on_bar_outcome_reported},
}
