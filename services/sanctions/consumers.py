"""What sanctions does with other services' events: follow up every failed peer evaluation, and
remember of each case what complaints and the information back to its organ need: its agency
and notifying organ (intake's CaseRegistered) and its handler (assignment's CaseAssigned)."""

from __future__ import annotations

from services.sanctions import handlers, projections
from services.sanctions.settings import SanctionsSettings
from shared.contracts import CaseAssigned, CaseRegistered, EvaluationFailed
from shared.uow import UnitOfWork


async def on_evaluation_failed(event: EvaluationFailed, uow: UnitOfWork) -> None:
    settings = uow.settings
    assert isinstance(settings, SanctionsSettings)  # the settings this service's app was built with
    await handlers.open_investigation(uow, event, settings.policy())


async def on_case_registered(event: CaseRegistered, uow: UnitOfWork) -> None:
    await projections.remember_case(uow.conn, case_id=event.case_id, case_number=event.case_number,
                                    case_kind=event.case_kind, agency_id=event.agency_id,
                                    source_system=event.source_system)


async def on_case_assigned(event: CaseAssigned, uow: UnitOfWork) -> None:
    h = event.handler
    await projections.remember_handler(uow.conn, case_id=event.case_id, case_number=event.case_number,
                                       handler_id=h.handler_id, handler_name=h.name, handler_kind=h.kind,
                                       licence_number=h.licence_number, institution_id=h.institution_id,
                                       institution_name=h.institution_name)


CONSUMERS = {
    "evaluations": {EvaluationFailed: on_evaluation_failed},
    "cases": {CaseRegistered: on_case_registered},
    "assignments": {CaseAssigned: on_case_assigned},
}
