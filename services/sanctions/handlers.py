"""Sanctions' command handlers. Those reacting to events run inside the unit of work of the
consumed event (its inbox row commits with them); a concurrency conflict fails the message,
which the consumer runner retries on fresh state. Those of the API open their own unit of work
and retry on a conflict; each answers with what it wrote, read in the same transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from services.sanctions import queries
from services.sanctions.domain import (
    BarNotice,
    CommendationList,
    Complaint,
    DutyYear,
    InvalidOutcomeField,
    Investigation,
    Measure,
    NotInThisState,
    Origin,
    OutcomeChannel,
    Period,
    Policy,
    Suspension,
    SuspensionScope,
    investigation_id_for,
    investigation_id_for_complaint,
    suspension_id_for,
)
from shared import contracts
from shared.aggregate import Forbidden, NotFound
from shared.auth import EVERY_AGENCY, AgencyScope
from shared.clock import local_date, now
from shared.contracts import DisciplineKind, OutcomeKind
from shared.contracts.sanctions import DutySubject
from shared.uow import UnitOfWork, UnitOfWorkFactory, retry_on_conflict


async def open_investigation(uow: UnitOfWork, failure: contracts.EvaluationFailed,
                             policy: Policy) -> Investigation | None:
    """R-SAN-1/R-SAN-3: the responsible bureau investigates the failed case, by a due day;
    R-SAN-4: a lawyer's case is also notified to the bar association. None when this case's
    failure is already being investigated (the same event told again, or a second fail)."""
    investigation = await uow.get(Investigation, investigation_id_for(failure.evaluation_id))
    if investigation.exists:
        return None
    if await queries.investigation_of_case(uow.conn, failure.case_id, Origin.evaluation) is not None:
        return None
    at = now()
    investigation.open(evaluation_id=failure.evaluation_id, case_id=failure.case_id,
                       case_number=failure.case_number, case_kind=failure.case_kind,
                       agency_id=failure.agency_id, handler=failure.handler, findings=failure.findings, at=at,
                       bureau_id=policy.bureau_of(failure.agency_id), due_on=policy.investigation_due(at))
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
        complaint_id=opening.complaint_id, bureau_id=opening.bureau_id, due_on=opening.due_on,
    ))
    if notice is not None:
        uow.emit(contracts.BarNoticeIssued(
            notice_id=notice.notice_id, investigation_id=investigation.id, case_id=opening.case_id,
            case_number=opening.case_number, case_kind=opening.case_kind, lawyer=opening.handler,
            reason=notice.reason, issued_at=notice.issued_at,
        ))


# --- the investigation's steps (R-SAN-3) ----------------------------------------------------


NO_INVESTIGATION = "no investigation with this investigation_id"


async def load_investigation(uow: UnitOfWork, investigation_id: str,
                             within: AgencyScope = EVERY_AGENCY) -> Investigation:
    """The investigation, if it is within the caller's scope (docs/security.md "Scoping"): another
    agency's, or another district's, is not found, as an unknown one."""
    investigation = await uow.get(Investigation, investigation_id)
    if not investigation.exists or investigation.opening is None:
        raise NotFound(NO_INVESTIGATION)
    await queries.check_within(uow.conn, within, agency_id=investigation.opening.agency_id,
                               case_id=investigation.opening.case_id, missing=NO_INVESTIGATION)
    return investigation


@retry_on_conflict
async def assign_investigation(uow_factory: UnitOfWorkFactory, investigation_id: str, *, assignee_id: str,
                               by: str, within: AgencyScope = EVERY_AGENCY) -> queries.InvestigationView:
    async with uow_factory() as uow:
        investigation = await load_investigation(uow, investigation_id, within)
        investigation.assign(assignee_id=assignee_id, by=by, at=now())
        await uow.save(investigation)
        return await queries.investigation_in(uow.conn, investigation_id)


@retry_on_conflict
async def add_note(uow_factory: UnitOfWorkFactory, investigation_id: str, *, text: str,
                   by: str, within: AgencyScope = EVERY_AGENCY) -> queries.NoteView:
    async with uow_factory() as uow:
        investigation = await load_investigation(uow, investigation_id, within)
        note_id = str(uuid.uuid4())
        investigation.add_note(note_id=note_id, text=text, by=by, at=now())
        await uow.save(investigation)
        return await queries.note_in(uow.conn, note_id)


@retry_on_conflict
async def add_evidence(uow_factory: UnitOfWorkFactory, investigation_id: str, *, reference: str,
                       description: str, by: str, within: AgencyScope = EVERY_AGENCY) -> queries.EvidenceView:
    async with uow_factory() as uow:
        investigation = await load_investigation(uow, investigation_id, within)
        evidence_id = str(uuid.uuid4())
        investigation.add_evidence(evidence_id=evidence_id, reference=reference, description=description,
                                   by=by, at=now())
        await uow.save(investigation)
        return await queries.evidence_in(uow.conn, evidence_id)


@retry_on_conflict
async def record_findings(uow_factory: UnitOfWorkFactory, investigation_id: str, *, findings: str,
                          by: str, within: AgencyScope = EVERY_AGENCY) -> queries.InvestigationView:
    async with uow_factory() as uow:
        investigation = await load_investigation(uow, investigation_id, within)
        investigation.record_findings(findings=findings, by=by, at=now())
        await uow.save(investigation)
        return await queries.investigation_in(uow.conn, investigation_id)


@retry_on_conflict
async def decide_investigation(uow_factory: UnitOfWorkFactory, investigation_id: str, *, violation: bool,
                               measures: list[Measure], reasoning: str, by: str,
                               suspension_scope: SuspensionScope | None = None,
                               suspension_months: int | None = None,
                               practice_suspension_months: int | None = None,
                               within: AgencyScope = EVERY_AGENCY) -> queries.InvestigationView:
    """R-SAN-3: the decision; one that stops assignment (R-SAN-2) also decides the suspension,
    in the same transaction, and tells assignment."""
    async with uow_factory() as uow:
        investigation = await load_investigation(uow, investigation_id, within)
        at = now()
        investigation.decide(violation=violation, measures=measures, reasoning=reasoning, by=by, at=at,
                             suspension_scope=suspension_scope, suspension_months=suspension_months,
                             practice_suspension_months=practice_suspension_months)
        await uow.save(investigation)
        planned, opening = investigation.planned_suspension, investigation.opening
        if planned is not None:
            assert opening is not None
            suspension = Suspension(suspension_id_for(investigation_id))
            suspension.decide(
                handler_id=opening.handler.handler_id, agency_id=opening.agency_id,
                investigation_id=investigation_id, case_id=opening.case_id, scope=planned.scope,
                months=planned.months, until=None, decided_by=by, at=at,
                reason=f"Investigation {investigation_id} of case {opening.case_number} found a violation: "
                       f"no case for {planned.months} month(s) (R-SAN-2, R-ASG-6).")
            await uow.save(suspension)
            _tell_suspended(uow, suspension)
        return await queries.investigation_in(uow.conn, investigation_id)


@retry_on_conflict
async def close_investigation(uow_factory: UnitOfWorkFactory, investigation_id: str, *, by: str,
                              within: AgencyScope = EVERY_AGENCY) -> queries.InvestigationView:
    """Closes a decided investigation and informs the organ that notified its case (通报)."""
    async with uow_factory() as uow:
        investigation = await load_investigation(uow, investigation_id, within)
        opening = investigation.opening
        assert opening is not None
        case = await queries.known_case_in(uow.conn, opening.case_id)
        organ_id = case.source_system if case is not None else None
        at = now()
        investigation.close(by=by, at=at, organ_id=organ_id)
        await uow.save(investigation)
        decision = investigation.decision
        assert decision is not None
        view = await queries.investigation_in(uow.conn, investigation_id)
        uow.emit(contracts.InvestigationConcluded(
            investigation_id=investigation_id, case_id=opening.case_id, case_number=opening.case_number,
            handler=opening.handler, violation=decision.violation,
            measures=[m.value for m in decision.measures], suspension_id=view.suspension_id,
            organ_id=organ_id, concluded_at=at))
        return view


# --- complaints (Legal Aid Law arts. 55-57) -------------------------------------------------


@retry_on_conflict
async def lodge_complaint(uow_factory: UnitOfWorkFactory, policy: Policy, *, case_id: str, text: str,
                          received_on: date, by: str,
                          within: AgencyScope = EVERY_AGENCY) -> queries.ComplaintView:
    """Records a complaint received about a case sanctions knows of, of the caller's scope (a
    case of another agency, or district, is not found); its answer is due
    `complaint_answer_days` after it was received."""
    async with uow_factory() as uow:
        case = await queries.known_case_in(uow.conn, case_id)
        if case is None or case.agency_id is None or not within.admits(case.agency_id, case.district):
            raise NotFound("no case with this case_id")
        complaint = Complaint(str(uuid.uuid4()))
        complaint.lodge(case_id=case_id, case_number=case.case_number, agency_id=case.agency_id,
                        bureau_id=policy.bureau_of(case.agency_id),
                        handler_id=case.handler.handler_id if case.handler else None, text=text,
                        received_on=received_on, answer_days=policy.complaint_answer_days, by=by, at=now())
        await uow.save(complaint)
        return await queries.complaint_in(uow.conn, complaint.id)


NO_COMPLAINT = "no complaint with this complaint_id"


async def _load_complaint(uow: UnitOfWork, complaint_id: str, within: AgencyScope) -> Complaint:
    """The complaint, if it is within the caller's scope (else not found, as an unknown one)."""
    complaint = await uow.get(Complaint, complaint_id)
    if not complaint.exists or complaint.lodging is None:
        raise NotFound(NO_COMPLAINT)
    await queries.check_within(uow.conn, within, agency_id=complaint.lodging.agency_id,
                               case_id=complaint.lodging.case_id, missing=NO_COMPLAINT)
    return complaint


@retry_on_conflict
async def answer_complaint(uow_factory: UnitOfWorkFactory, complaint_id: str, *, answer: str, by: str,
                           within: AgencyScope = EVERY_AGENCY) -> queries.ComplaintView:
    async with uow_factory() as uow:
        complaint = await _load_complaint(uow, complaint_id, within)
        complaint.answer_it(answer=answer, by=by, at=now())
        await uow.save(complaint)
        return await queries.complaint_in(uow.conn, complaint_id)


@retry_on_conflict
async def investigate_complaint(uow_factory: UnitOfWorkFactory, policy: Policy, complaint_id: str, *,
                                by: str, within: AgencyScope = EVERY_AGENCY) -> queries.InvestigationView:
    """The complaint opens an investigation of its case's handler, as a failed case does (R-SAN-3)."""
    async with uow_factory() as uow:
        complaint = await _load_complaint(uow, complaint_id, within)
        lodging = complaint.lodging
        assert lodging is not None
        case = await queries.known_case_in(uow.conn, lodging.case_id)
        if case is None or case.handler is None or case.case_kind is None or case.agency_id is None:
            raise NotInThisState("the complaint's case has no handler yet: nobody to investigate")
        investigation = Investigation(investigation_id_for_complaint(complaint_id))
        at = now()
        complaint.refer_to_investigation(investigation_id=investigation.id, by=by, at=at)
        investigation.open(evaluation_id=None, complaint_id=complaint_id, case_id=case.case_id,
                           case_number=case.case_number, case_kind=case.case_kind, agency_id=case.agency_id,
                           handler=case.handler, findings=f"Opened on complaint {complaint_id}.", at=at,
                           bureau_id=lodging.bureau_id, due_on=policy.investigation_due(at))
        await uow.save(complaint)
        await uow.save(investigation)
        _tell_others(uow, investigation)
        return await queries.investigation_in(uow.conn, investigation.id)


# --- suspensions (R-SAN-2, R-ASG-6) --------------------------------------------------------


def _tell_suspended(uow: UnitOfWork, suspension: Suspension) -> None:
    decision, scope = suspension.decision, suspension.scope
    assert decision is not None and scope is not None
    uow.emit(contracts.HandlerSuspended(
        suspension_id=suspension.id, handler_id=decision.handler_id, agency_id=decision.agency_id,
        investigation_id=decision.investigation_id, reason=decision.reason, until=decision.until,
        suspended_at=decision.decided_at, scope=scope.value, case_id=decision.case_id,
        starts_on=decision.starts_on,
    ))


def _tell_reinstated(uow: UnitOfWork, suspension: Suspension) -> None:
    assert suspension.decision is not None and suspension.reinstatement is not None
    reinstatement = suspension.reinstatement
    uow.emit(contracts.HandlerReinstated(
        suspension_id=suspension.id, handler_id=suspension.decision.handler_id, reason=reinstatement.reason,
        reinstated_at=reinstatement.reinstated_at, automatic=reinstatement.automatic,
    ))


NO_SUSPENSION = "no suspension with this suspension_id"


async def load_suspension(uow: UnitOfWork, suspension_id: str,
                          within: AgencyScope = EVERY_AGENCY) -> Suspension:
    """The suspension, if it is within the caller's scope (else not found, as an unknown one)."""
    suspension = await uow.get(Suspension, suspension_id)
    if not suspension.exists or suspension.decision is None:
        raise NotFound(NO_SUSPENSION)
    await queries.check_within(uow.conn, within, agency_id=suspension.decision.agency_id,
                               case_id=suspension.decision.case_id, missing=NO_SUSPENSION)
    return suspension


@retry_on_conflict
async def suspend_handler(uow_factory: UnitOfWorkFactory, *, handler_id: str, reason: str, until: date | None,
                          investigation_id: str | None, agency_id: str | None, by: str,
                          scope: SuspensionScope = SuspensionScope.agency, months: int | None = None,
                          case_id: str | None = None, deciding_agency: str | None = None,
                          within: AgencyScope = EVERY_AGENCY) -> queries.SuspensionView:
    """The decision, as it now reads (its read model was written in the same transaction).
    `deciding_agency`: the agency of agency staff who decide, who stop assignment from their own
    agency only; None when the bureau decides. An investigation behind it outside the caller's
    scope (`within`) is not found."""
    async with uow_factory() as uow:
        if investigation_id is not None:
            behind = await load_investigation(uow, investigation_id, within)
            assert behind.opening is not None
            case_id = case_id or behind.opening.case_id
        if deciding_agency is not None:
            if scope != SuspensionScope.agency:
                raise Forbidden("an agency stops assignment from its own pool only; the bureau decides "
                                "suspensions for the whole city", rule="R-SAN-2")
            agency_id = agency_id or deciding_agency
            if agency_id != deciding_agency:
                raise Forbidden("an agency stops assignment from its own pool only", rule="R-SAN-2")
        suspension = Suspension(str(uuid.uuid4()))
        suspension.decide(handler_id=handler_id, agency_id=agency_id, investigation_id=investigation_id,
                          reason=reason, until=until, at=now(), scope=scope, months=months, case_id=case_id,
                          decided_by=by)
        await uow.save(suspension)
        _tell_suspended(uow, suspension)
        return await queries.suspension_in(uow.conn, suspension.id)


@retry_on_conflict
async def reinstate_handler(uow_factory: UnitOfWorkFactory, suspension_id: str, *, reason: str,
                            by: str | None = None,
                            within: AgencyScope = EVERY_AGENCY) -> queries.SuspensionView:
    """The suspension, reinstated by decision before its end, as it now reads; one outside the
    caller's scope (`within`) is not found."""
    async with uow_factory() as uow:
        suspension = await load_suspension(uow, suspension_id, within)
        suspension.reinstate(reason=reason, at=now(), by=by)
        await uow.save(suspension)
        _tell_reinstated(uow, suspension)
        return await queries.suspension_in(uow.conn, suspension.id)


@retry_on_conflict
async def _end_period(uow_factory: UnitOfWorkFactory, suspension_id: str, at: datetime) -> bool:
    async with uow_factory() as uow:
        suspension = await load_suspension(uow, suspension_id)
        if not suspension.due_to_end(at):
            return False  # reinstated meanwhile (by decision, or by another replica's sweep)
        suspension.end_period(at=at)
        await uow.save(suspension)
        _tell_reinstated(uow, suspension)
        return True


async def reinstate_due(uow_factory: UnitOfWorkFactory, at: datetime) -> int:
    """R-SAN-2: every suspension whose last day is over on `at`'s day ends by itself, at `at`
    (HandlerReinstated, automatic). Returns how many ended; a second run at once ends none."""
    async with uow_factory() as uow:
        due = await queries.suspensions_due(uow.conn, local_date(at))
    return sum([await _end_period(uow_factory, suspension_id, at) for suspension_id in due])
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
