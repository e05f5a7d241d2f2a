"""What assignment does with other services' events: decide who handles each registered case,
hand a case to another handler on an accepted request, release the handler of a terminated
case, and follow the bureau's suspensions."""

from __future__ import annotations

from services.assignment import handlers
from shared.contracts import (
    CaseRegistered,
    CaseTerminated,
    HandlerReinstated,
    HandlerSuspended,
    ReassignmentRequested,
)
from shared.uow import UnitOfWork


async def on_case_registered(event: CaseRegistered, uow: UnitOfWork) -> None:
    await handlers.assign_registered_case(uow, event)


async def on_reassignment_requested(event: ReassignmentRequested, uow: UnitOfWork) -> None:
    await handlers.reassign_case(uow, event)


async def on_case_terminated(event: CaseTerminated, uow: UnitOfWork) -> None:
    await handlers.terminate_case(uow, event)


async def on_handler_suspended(event: HandlerSuspended, uow: UnitOfWork) -> None:
    await handlers.suspend_handler(uow, event)


async def on_handler_reinstated(event: HandlerReinstated, uow: UnitOfWork) -> None:
    await handlers.reinstate_handler(uow, event)


CONSUMERS = {
    # One consumer for intake's topic: a case's registration, reassignment and termination are
    # keyed by case id on one partition, so they are handled in the order intake told them.
    "cases": {CaseRegistered: on_case_registered, ReassignmentRequested: on_reassignment_requested,
              CaseTerminated: on_case_terminated},
    "suspensions": {HandlerSuspended: on_handler_suspended, HandlerReinstated: on_handler_reinstated},
}
