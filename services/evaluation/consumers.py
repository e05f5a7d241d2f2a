"""What evaluation does with integration events: remember each closed case, so that it can be
evaluated without asking intake; drop a case whose aid was terminated; keep the aided person's
satisfaction as part of the case's quality record (R-EVL-5); remember what a case's subsidy
depends on at its registration; compute the subsidy at the quality lead's sign-off (R-CHK-2,
R-CHK-3); remember a case whose closing file intake found late (a points rule may fail it); and,
from its own EvaluationCompleted, send the findings to the handler with a deadline to correct, and
from its own EvaluationFailed, apply the agency's rule for a fail to the handler's subsidy
(R-EVL-7), each in a transaction of its own, as any other service would."""

from __future__ import annotations

from services.evaluation import handlers
from services.evaluation.projections import (
    record_closed_case,
    record_follow_up,
    record_late_closing_file,
    record_registered_case,
    record_termination,
)
from services.evaluation.settings import EvaluationSettings
from shared.consumer import Handler
from shared.contracts import (
    CaseClosed,
    CaseRegistered,
    CaseTerminated,
    ClosingCheckSignedOff,
    DeadlineMissed,
    EvaluationCompleted,
    EvaluationFailed,
    FollowUpCompleted,
)
from shared.events import IntegrationEvent
from shared.uow import UnitOfWork


async def on_case_registered(event: CaseRegistered, uow: UnitOfWork) -> None:
    await record_registered_case(uow.conn, event)


async def on_case_closed(event: CaseClosed, uow: UnitOfWork) -> None:
    await record_closed_case(uow.conn, event)


async def on_case_terminated(event: CaseTerminated, uow: UnitOfWork) -> None:
    await record_termination(uow.conn, event)


async def on_follow_up_completed(event: FollowUpCompleted, uow: UnitOfWork) -> None:
    await record_follow_up(uow.conn, event)


async def on_closing_check_signed_off(event: ClosingCheckSignedOff, uow: UnitOfWork) -> None:
    await handlers.compute_subsidy(uow, event)


async def on_deadline_missed(event: DeadlineMissed, uow: UnitOfWork) -> None:
    await record_late_closing_file(uow.conn, event)


async def on_evaluation_completed(event: EvaluationCompleted, uow: UnitOfWork) -> None:
    settings = uow.settings
    assert isinstance(settings, EvaluationSettings)  # the settings this service's app was built with
    await handlers.request_correction(uow, event, settings.correction_policy)


async def on_evaluation_failed(event: EvaluationFailed, uow: UnitOfWork) -> None:
    await handlers.apply_failed_evaluation(uow, event)


CONSUMERS: dict[str, dict[type[IntegrationEvent], Handler]] = {
    "cases": {CaseRegistered: on_case_registered, CaseClosed: on_case_closed,
              CaseTerminated: on_case_terminated, FollowUpCompleted: on_follow_up_completed,
              ClosingCheckSignedOff: on_closing_check_signed_off, DeadlineMissed: on_deadline_missed},
    "evaluations": {EvaluationCompleted: on_evaluation_completed, EvaluationFailed: on_evaluation_failed},
}
