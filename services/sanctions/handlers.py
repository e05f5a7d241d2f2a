"""Sanctions' command handlers. They run inside the unit of work of the consumed event (its
inbox row commits with them); a concurrency conflict fails the message, which the consumer
runner retries on fresh state."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.sanctions.domain import Investigation, investigation_id_for
from shared import contracts
from shared.uow import UnitOfWork


def now() -> datetime:
    return datetime.now(UTC)


async def open_investigation(uow: UnitOfWork, failure: contracts.EvaluationFailed) -> Investigation | None:
    """R-SAN-1/R-SAN-3: investigate the failed case; R-SAN-4: a lawyer's case is also notified
    to the bar association. None when this failure is already being investigated."""
    investigation = await uow.get(Investigation, investigation_id_for(failure.evaluation_id))
    if investigation.exists:
        return None
    at = now()
    investigation.open(evaluation_id=failure.evaluation_id, case_id=failure.case_id,
                       case_number=failure.case_number, case_kind=failure.case_kind, agency_id=failure.agency_id,
                       handler=failure.handler, findings=failure.findings, at=at)
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
