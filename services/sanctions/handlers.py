"""Sanctions' command handlers. They run inside the unit of work of the consumed event (its
inbox row commits with them); a concurrency conflict fails the message, which the consumer
runner retries on fresh state."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from services.sanctions import queries
from services.sanctions.domain import (
    BarNotice,
    CommendationList,
    DutyYear,
    InvalidOutcomeField,
    Investigation,
    OutcomeChannel,
    Period,
    Suspension,
    investigation_id_for,
)
from shared import contracts
from shared.aggregate import NotFound
from shared.clock import now
from shared.contracts import DisciplineKind, OutcomeKind
from shared.contracts.sanctions import DutySubject
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


# --- the bar association's answers and the reminders (R-SAN-4) ------------------------------


async def record_bar_outcome(uow: UnitOfWork, notice_id: str, *, outcome: OutcomeKind,
                             discipline: DisciplineKind | None, decided_on: date | None,
                             reference: str | None, channel: OutcomeChannel, reported_by: str,
                             idempotency_key: str | None = None,
                             case_id: str | None = None) -> tuple[queries.BarNoticeDetail, bool]:
    """Record one answer of the bar association against its notice: the notice as it now reads,
    and whether the answer was new (False: a replay, nothing recorded)."""
    notice = await queries.bar_notice_in(uow.conn, notice_id)
    if case_id is not None and case_id != notice.case_id:
        raise InvalidOutcomeField("case_id", "is not the case of the notice named by notice_id")
    answers = await uow.get(BarNotice, notice_id)
    new = answers.record_outcome(outcome=outcome, discipline=discipline, decided_on=decided_on,
                                 reference=reference, channel=channel, reported_by=reported_by, at=now(),
                                 idempotency_key=idempotency_key)
    if new:
        await uow.save(answers)
    return await queries.bar_notice_in(uow.conn, notice_id), new


@retry_on_conflict
async def report_bar_outcome(uow_factory: UnitOfWorkFactory, notice_id: str, *, outcome: OutcomeKind,
                             discipline: DisciplineKind | None, decided_on: date | None,
                             reference: str | None, reported_by: str,
                             idempotency_key: str | None) -> tuple[queries.BarNoticeDetail, bool]:
    """The same answer, posted over REST by the bar association."""
    async with uow_factory() as uow:
        return await record_bar_outcome(uow, notice_id, outcome=outcome, discipline=discipline,
                                        decided_on=decided_on, reference=reference,
                                        channel=OutcomeChannel.rest, reported_by=reported_by,
                                        idempotency_key=idempotency_key)


async def chase_unanswered_notices(uow_factory: UnitOfWorkFactory, *, reminder_days: int,
                                   at: datetime) -> int:
    """Remind the bar association of every notice unanswered past the period, once per period:
    how many reminders were sent. Replicas may chase at once: each reminder is still sent once
    (the notice's stream serialises them)."""
    async with uow_factory() as uow:
        unanswered = await queries.notices_to_chase(uow.conn, reminder_days=reminder_days, at=at)
    return sum([await _chase(uow_factory, notice, reminder_days=reminder_days, at=at)
                for notice in unanswered])


@retry_on_conflict
async def _chase(uow_factory: UnitOfWorkFactory, notice: queries.BarNoticeView, *, reminder_days: int,
                 at: datetime) -> int:
    async with uow_factory() as uow:
        answers = await uow.get(BarNotice, notice.notice_id)
        if not answers.remind(issued_at=notice.issued_at, reminder_days=reminder_days, at=at):
            return 0
        await uow.save(answers)
        uow.emit(contracts.BarNoticeReminded(
            notice_id=notice.notice_id, case_id=notice.case_id, case_number=notice.case_number,
            reminder=answers.reminders[-1].reminder, issued_at=notice.issued_at, reminded_at=at,
        ))
        return 1


# --- the duty record (R-SAN-5) and the commendation list (R-SAN-6) --------------------------


@retry_on_conflict
async def publish_duty_year(uow_factory: UnitOfWorkFactory, year: int, *,
                            at: datetime) -> queries.DutyRecordReport:
    """The bureau publishes a finished year's duty records: one DutyRecordPublished per lawyer
    and per firm, to the bar association."""
    async with uow_factory() as uow:
        record = await queries.duty_record_in(uow.conn, year)
        publication = await uow.get(DutyYear, str(year))
        publication.publish(lawyers=len(record.lawyers), firms=len(record.firms), at=at)
        await uow.save(publication)
        for subject, lines in ((DutySubject.lawyer, record.lawyers), (DutySubject.firm, record.firms)):
            for line in lines:
                uow.emit(contracts.DutyRecordPublished(
                    year=year, subject=subject, subject_id=line.subject_id, name=line.name,
                    licence_number=line.licence_number, institution_id=line.institution_id,
                    institution_name=line.institution_name, counts=line.counts, published_at=at,
                ))
        return await queries.duty_record_in(uow.conn, year)


@retry_on_conflict
async def confirm_commendation_list(uow_factory: UnitOfWorkFactory, period: Period, *, confirmed_by: str,
                                    at: datetime) -> queries.CommendationListView:
    """The bureau confirms the period's list as it now reads; it no longer changes."""
    async with uow_factory() as uow:
        handlers, institutions = await queries.tallies_in(uow.conn, period)
        commendations = await uow.get(CommendationList, str(period))
        commendations.confirm(handlers=handlers, institutions=institutions, confirmed_by=confirmed_by,
                              at=at)
        await uow.save(commendations)
        confirmed = commendations.confirmation
        assert confirmed is not None
        uow.emit(contracts.CommendationListConfirmed(
            period=confirmed.period, rule=confirmed.rule, handlers=confirmed.handlers,
            institutions=confirmed.institutions, confirmed_at=confirmed.confirmed_at,
        ))
        return queries.CommendationListView(status="confirmed", **confirmed.model_dump())
