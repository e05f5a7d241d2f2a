"""What evaluation does with other services' events: remember each closed case, so that it can
be evaluated without asking intake."""

from __future__ import annotations

from services.evaluation.projections import record_closed_case
from shared.contracts import CaseClosed
from shared.uow import UnitOfWork


async def on_case_closed(event: CaseClosed, uow: UnitOfWork) -> None:
    await record_closed_case(uow.conn, event)


CONSUMERS = {"cases": {CaseClosed: on_case_closed}}
