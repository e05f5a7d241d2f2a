"""What assignment does with other services' events: decide who handles each registered case."""

from __future__ import annotations

from services.assignment import handlers
from shared.contracts import CaseRegistered
from shared.uow import UnitOfWork


async def on_case_registered(event: CaseRegistered, uow: UnitOfWork) -> None:
    await handlers.assign_registered_case(uow, event)


CONSUMERS = {"cases": {CaseRegistered: on_case_registered}}
