"""Sanctions' command handlers. They run inside the unit of work of the consumed event (its
inbox row commits with them); a concurrency conflict fails the message, which the consumer
runner retries on fresh state."""

from __future__ import annotations

import uuid
from datetime import date

from services.sanctions import queries
from services.sanctions.domain import Investigation, Suspension, investigation_id_for
from shared import contracts
from shared.aggregate import NotFound
from shared.clock import now
from shared.uow import UnitOfWork, UnitOfWorkFactory, retry_on_conflict


async def open_investigation(uow: UnitOfWork, failure: contracts.EvaluationFailed) -> Investigation | None:
    """R-SAN-1/R-SAN-3: investigate the failed case; R-SAN-4: a lawyer's case is also notified
    to the bar association. None when this failure is already being investigated."""
    investigation = await uow.get(Investigation, investigation_id_for(failure.evaluation_id))
    if investigation.exists:
        return None
    at = now()
    investigation.open(evaluation_id=failure.evaluation_id, case_id=failure.case_id,
                       case_number=failure.case_number, case_kind=failure.case_kind,
                       agency_id=failure.agency_id, handler=failure.handler, findings=failure.findings, at=at)
    if investigation.handler_is_lawyer:
        investigation.notify_bar_association(notice_id=str(uuid.uuid4()), at=at)
    await uow.save(investigation)
    _tell_others(uow, investigation)
    return investigation


def _tell_others(uow: UnitOfWork, investigation: Investigation) -> None:
    opening, notice = investigation.opening, investigation.bar_notice
    assert opening is not None
    uow.emit(contracts.InvestigationOpened(
        investigation_id=investigation.id, case_id=opening.case_id, case_number=opening.case_number,
        evaluation_id=opening.evaluation_id, handler=opening.handler, opened_at=opening.opened_at,
    ))
    if notice is not None:
        uow.emit(contracts.BarNoticeIssued(
            notice_id=notice.notice_id, investigation_id=investigation.id, case_id=opening.case_id,
            case_number=opening.case_number, case_kind=opening.case_kind, lawyer=opening.handler,
            reason=notice.reason, issued_at=notice.issued_at,
        ))


# --- suspensions (R-SAN-2, R-ASG-6) --------------------------------------------------------


async def load_suspension(uow: UnitOfWork, suspension_id: str) -> Suspension:
    suspension = await uow.get(Suspension, suspension_id)
    if not suspension.exists:
        raise NotFound("no suspension with this suspension_id")
    return suspension


@retry_on_conflict
async def suspend_handler(uow_factory: UnitOfWorkFactory, *, handler_id: str, reason: str, until: date | None,
                          investigation_id: str | None, agency_id: str | None) -> queries.SuspensionView:
    """The decision, as it now reads (its read model was written in the same transaction)."""
    async with uow_factory() as uow:
        if investigation_id is not None and not (await uow.get(Investigation, investigation_id)).exists:
            raise NotFound("no investigation with this investigation_id")
        suspension = Suspension(str(uuid.uuid4()))
        suspension.decide(handler_id=handler_id, agency_id=agency_id, investigation_id=investigation_id,
                          reason=reason, until=until, at=now())
        await uow.save(suspension)
        decision = suspension.decision
        assert decision is not None
        uow.emit(contracts.HandlerSuspended(
            suspension_id=suspension.id, handler_id=handler_id, agency_id=agency_id,
            investigation_id=investigation_id, reason=reason, until=until, suspended_at=decision.decided_at,
        ))
        return await queries.suspension_in(uow.conn, suspension.id)


@retry_on_conflict
async def reinstate_handler(uow_factory: UnitOfWorkFactory, suspension_id: str, *,
                            reason: str) -> queries.SuspensionView:
    """The suspension, reinstated, as it now reads."""
    async with uow_factory() as uow:
        suspension = await load_suspension(uow, suspension_id)
        suspension.reinstate(reason=reason, at=now())
        await uow.save(suspension)
        assert suspension.decision is not None and suspension.reinstatement is not None
        uow.emit(contracts.HandlerReinstated(
            suspension_id=suspension.id, handler_id=suspension.decision.handler_id, reason=reason,
            reinstated_at=suspension.reinstatement.reinstated_at,
        ))
        return await queries.suspension_in(uow.conn, suspension.id)
