"""What intake does with other services' events: fold assignment's decision into the case, the
first one as its handler, a later one as a change of handler."""

from __future__ import annotations

import logging

from services.intake.domain.case import Case, CaseStatus
from shared.contracts import CaseAssigned
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

# A decision that crossed the case's end (termination told to assignment after it decided)
# changes nothing: assignment releases the handler on CaseTerminated or CaseClosed itself.
_OVER = (CaseStatus.terminated, CaseStatus.closed, CaseStatus.archived)


async def on_case_assigned(event: CaseAssigned, uow: UnitOfWork) -> None:
    case = await uow.get(Case, event.case_id)
    if not case.exists:
        raise LookupError(f"CaseAssigned for unknown case {event.case_id}")
    if case.status in _OVER:
        log.info("assignment decision after the case ended, ignored",
                 extra={"case_id": event.case_id, "status": str(case.status)})
        return
    case.assign(handler=event.handler, method=event.method, at=event.assigned_at)
    await uow.save(case)


CONSUMERS = {"assignments": {CaseAssigned: on_case_assigned}}
