"""What intake does with other services' events: fold assignment's decision into the case."""

from __future__ import annotations

from services.intake.domain import Case
from shared.contracts import CaseAssigned
from shared.uow import UnitOfWork


async def on_case_assigned(event: CaseAssigned, uow: UnitOfWork) -> None:
    case = await uow.get(Case, event.case_id)
    if not case.exists:
        raise LookupError(f"CaseAssigned for unknown case {event.case_id}")
    case.assign(handler=event.handler, method=event.method, at=event.assigned_at)
    await uow.save(case)


CONSUMERS = {"assignments": {CaseAssigned: on_case_assigned}}
