"""What evaluation does with other services' events: remember each closed case, so that it can
be evaluated without asking intake; drop a case whose aid was terminated; keep the aided
person's satisfaction as part of the case's quality record (R-EVL-5)."""

from __future__ import annotations

from services.evaluation.projections import record_closed_case, record_follow_up, record_termination
from shared.consumer import Handler
from shared.contracts import CaseClosed, CaseTerminated, FollowUpCompleted
from shared.events import IntegrationEvent
from shared.uow import UnitOfWork


async def on_case_closed(event: CaseClosed, uow: UnitOfWork) -> None:
    await record_closed_case(uow.conn, event)


async def on_case_terminated(event: CaseTerminated, uow: UnitOfWork) -> None:
    await record_termination(uow.conn, event)


async def on_follow_up_completed(event: FollowUpCompleted, uow: UnitOfWork) -> None:
    await record_follow_up(uow.conn, event)


CONSUMERS: dict[str, dict[type[IntegrationEvent], Handler]] = {
    "cases": {CaseClosed: on_case_closed, CaseTerminated: on_case_terminated,
              FollowUpCompleted: on_follow_up_completed},
}
