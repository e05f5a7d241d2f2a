"""Assignment's command handlers: open a unit of work, load, call one domain method, save, tell
the others, commit. Each retries on a concurrency conflict."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from services.assignment import queries
from services.assignment.domain import (
    AppliedRules,
    AssignmentBlocked,
    AssignmentRules,
    Candidate,
    CaseAssignment,
    CaseFacts,
    Handler,
    HandlerAssigned,
    HandlerDeclined,
    HandlerReleased,
    Institution,
    InstitutionKind,
    Qualification,
    Recruitment,
    RecruitmentCall,
    Rotation,
    arrangement_due,
)
from services.assignment.queries.recruitment import NO_AGENCY
from services.assignment.settings import AssignmentSettings
from shared import contracts
from shared.aggregate import DomainEvent, NotFound
from shared.auth import EVERY_AGENCY, AgencyScope
from shared.clock import local_date, now
from shared.contracts import CaseKind, HandlerKind
from shared.contracts import assignment as contracts_assignment
from shared.contracts.assignment import HandlerReleased as HandlerReleasedEvent
from shared.contracts.assignment import SkippedCandidate
from shared.store import ConcurrencyError, driver
from shared.uow import UnitOfWork, UnitOfWorkFactory, retry_on_conflict


def _settings(uow: UnitOfWork) -> AssignmentSettings:
    settings = uow.settings
    if not isinstance(settings, AssignmentSettings):
        raise TypeError(f"assignment runs with AssignmentSettings, not {type(settings).__name__}")
    return settings


async def rules(uow: UnitOfWork, agency_id: str) -> AppliedRules:
    """The numbers the decision applies: the agency's published rules in force today (R-ASG-5),
    else the service's settings (the cap is the agency's to change, R-ASG-4)."""
    settings = _settings(uow)
    document = await uow.get(AssignmentRules, agency_id)
    return document.applied(local_date(now()), monthly_cap=settings.monthly_case_cap,
                            senior_years=settings.senior_years_of_practice)


@retry_on_conflict
async def file_rules(uow_factory: UnitOfWorkFactory, agency_id: str, *, title: str, text: str,
                     effective_from: date, monthly_cap: int | None, senior_years_of_practice: int | None,
                     filed_with: str, within: AgencyScope = EVERY_AGENCY) -> int:
    async with uow_factory() as uow:
        await queries.scope.check_agency(uow.conn, within, agency_id, queries.NO_RULES)
        document = await uow.get(AssignmentRules, agency_id)
        version = document.file(title=title, text=text, effective_from=effective_from,
                                monthly_cap=monthly_cap, senior_years=senior_years_of_practice,
                                filed_with=filed_with, at=now())
        await uow.save(document)
        return version


@retry_on_conflict
async def publish_rules(uow_factory: UnitOfWorkFactory, agency_id: str, version: int,
                        within: AgencyScope = EVERY_AGENCY) -> AssignmentRules:
    async with uow_factory() as uow:
        await queries.scope.check_agency(uow.conn, within, agency_id, queries.NO_RULES)
        document = await uow.get(AssignmentRules, agency_id)
        document.publish(version=version, at=now())
        await uow.save(document)
        filed, published = document.versions[version], document.published[version]
        uow.emit(contracts_assignment.AssignmentRulesPublished(
            agency_id=agency_id, version=version, title=filed.title, text=filed.text,
            effective_from=filed.effective_from, monthly_cap=filed.monthly_cap,
            senior_years_of_practice=filed.senior_years, filed_with=filed.filed_with,
            published_at=published.published_at))
        return document


# --- the registry ---------------------------------------------------------------------------


@retry_on_conflict
async def recruit_institution(uow_factory: UnitOfWorkFactory, *, name: str, kind: InstitutionKind,
                              agency_id: str, district: str,
                              recruitment: Recruitment | None = None) -> Institution:
    async with uow_factory() as uow:
        institution = Institution(str(uuid.uuid4()))
        institution.recruit(name=name, kind=kind, agency_id=agency_id, district=district, at=now(),
                            recruitment=recruitment)
        await uow.save(institution)
        recruited = institution.recruitment
        assert recruited is not None
        uow.emit(contracts_assignment.InstitutionRecruited(
            institution_id=institution.id, name=name, kind=kind.value, agency_id=agency_id, district=district,
            recruitment=recruitment and contracts_assignment.RecruitmentRecord(**recruitment.model_dump()),
            recruited_at=recruited.recruited_at))
        return institution


async def load_institution(uow: UnitOfWork, institution_id: str,
                           within: AgencyScope = EVERY_AGENCY) -> Institution:
    """The institution, if of the caller's agencies (not found otherwise)."""
    institution = await uow.get(Institution, institution_id)
    if not institution.exists or institution.recruitment is None:
        raise NotFound(queries.NO_INSTITUTION)
    await queries.scope.check_agency(uow.conn, within, institution.recruitment.agency_id,
                                     queries.NO_INSTITUTION)
    return institution


@retry_on_conflict
async def sign_commitment(uow_factory: UnitOfWorkFactory, institution_id: str, *, signed_on: date,
                          valid_until: date, within: AgencyScope = EVERY_AGENCY) -> Institution:
    async with uow_factory() as uow:
        institution = await load_institution(uow, institution_id, within)
        institution.sign_commitment(signed_on=signed_on, valid_until=valid_until, at=now())
        await uow.save(institution)
        return institution


@retry_on_conflict
async def withdraw_commitment(uow_factory: UnitOfWorkFactory, institution_id: str, *, withdrawn_on: date,
                              reason: str, within: AgencyScope = EVERY_AGENCY) -> Institution:
    async with uow_factory() as uow:
        institution = await load_institution(uow, institution_id, within)
        institution.withdraw_commitment(withdrawn_on=withdrawn_on, reason=reason, at=now())
        await uow.save(institution)
        return institution


@retry_on_conflict
async def sign_volunteer_commitment(uow_factory: UnitOfWorkFactory, handler_id: str, *, signed_on: date,
                                    valid_until: date, within: AgencyScope = EVERY_AGENCY) -> Handler:
    async with uow_factory() as uow:
        handler = await load_handler(uow, handler_id, within)
        handler.sign_commitment(signed_on=signed_on, valid_until=valid_until, at=now())
        await uow.save(handler)
        return handler


@retry_on_conflict
async def register_handler(uow_factory: UnitOfWorkFactory, *, name: str, kind: HandlerKind,
                           licence_number: str | None, institution_id: str, years_of_practice: int,
                           practice_areas: list[CaseKind] | None = None,
                           qualifications: list[Qualification] | None = None,
                           within: AgencyScope = EVERY_AGENCY) -> Handler:
    async with uow_factory() as uow:
        institution = await uow.get(Institution, institution_id)
        if institution.recruitment is not None:  # an agency registers handlers of its own pool
            await queries.scope.check_agency(uow.conn, within, institution.recruitment.agency_id,
                                             queries.NO_INSTITUTION)
        handler = Handler(str(uuid.uuid4()))
        handler.register(name=name, kind=kind, licence_number=licence_number, institution=institution,
                         years_of_practice=years_of_practice, at=now(), practice_areas=practice_areas or (),
                         qualifications=qualifications or ())
        await uow.save(handler)
        registration = handler.registration
        if registration is not None and kind == HandlerKind.volunteer:
            assert institution.recruitment is not None
            uow.emit(contracts_assignment.VolunteerRegistered(
                handler_id=handler.id, name=name, institution_id=institution_id,
                institution_name=institution.recruitment.name, agency_id=registration.agency_id,
                registered_at=registration.registered_at))
        return handler


async def load_handler(uow: UnitOfWork, handler_id: str, within: AgencyScope = EVERY_AGENCY) -> Handler:
    """The handler, if of the caller's agencies' pool (not found otherwise)."""
    handler = await uow.get(Handler, handler_id)
    if not handler.exists or handler.registration is None:
        raise NotFound(queries.NO_HANDLER)
    await queries.scope.check_agency(uow.conn, within, handler.registration.agency_id, queries.NO_HANDLER)
    return handler


@retry_on_conflict
async def record_unavailability(uow_factory: UnitOfWorkFactory, handler_id: str, *, unavailable_from: date,
                                unavailable_to: date, within: AgencyScope = EVERY_AGENCY) -> Handler:
    async with uow_factory() as uow:
        handler = await load_handler(uow, handler_id, within)
        handler.record_unavailability(unavailable_from=unavailable_from, unavailable_to=unavailable_to,
                                      at=now())
        await uow.save(handler)
        return handler


async def suspend_handler(uow: UnitOfWork, event: contracts.HandlerSuspended) -> None:
    """R-SAN-2 / R-ASG-6: the bureau's decision, in force from the next assignment. A handler the
    registry does not know is not in any pool, so there is nothing to stop. A suspension scoped
    to one agency stops the handler only in that agency's pool, the only one they serve: one of
    another agency's pool is left alone (scope "city", or none with no agency: every pool)."""
    handler = await uow.get(Handler, event.handler_id)
    scope = event.scope or ("agency" if event.agency_id else "city")
    registration = handler.registration
    if scope == "agency" and registration is not None and registration.agency_id != event.agency_id:
        return
    if handler.exists:
        handler.suspend(suspension_id=event.suspension_id, reason=event.reason, until=event.until,
                        at=event.suspended_at)
        await uow.save(handler)


async def reinstate_handler(uow: UnitOfWork, event: contracts.HandlerReinstated) -> None:
    handler = await uow.get(Handler, event.handler_id)
    if handler.exists:
        handler.reinstate(suspension_id=event.suspension_id, at=event.reinstated_at)
        await uow.save(handler)


# --- the engine -----------------------------------------------------------------------------


def _tell(uow: UnitOfWork, assignment: CaseAssignment) -> None:
    """The integration event for the decision just taken (awaiting a choice tells no one yet)."""
    _tell_decision(uow, assignment.decisions[-1], assignment)


def _tell_decision(uow: UnitOfWork, decision: DomainEvent, assignment: CaseAssignment) -> None:
    if isinstance(decision, HandlerDeclined):
        assert assignment.case is not None
        uow.emit(contracts.HandlerDeclined(case_id=decision.case_id, case_number=assignment.case.case_number,
                                           handler=decision.handler, reason=decision.reason,
                                           declined_at=decision.declined_at))
    elif isinstance(decision, HandlerReleased):
        assert assignment.case is not None
        uow.emit(HandlerReleasedEvent(case_id=decision.case_id, case_number=assignment.case.case_number,
                                      handler=decision.handler, cause=decision.cause,
                                      released_at=decision.released_at))
    elif isinstance(decision, HandlerAssigned):
        uow.emit(contracts.CaseAssigned(case_id=decision.case.case_id, case_number=decision.case.case_number,
                                        handler=decision.handler, method=decision.method,
                                        reason=decision.reason, assigned_at=decision.assigned_at))
    elif isinstance(decision, AssignmentBlocked):
        considered = list(decision.candidates)
        named = decision.named_handler
        if named and all(c.handler_id != named.handler_id for c in considered):
            considered.append(named)
        uow.emit(contracts.AssignmentBlocked(
            case_id=decision.case.case_id, case_number=decision.case.case_number,
            candidates=[SkippedCandidate(handler_id=c.handler_id, reasons=[r.value for r in c.reasons])
                        for c in considered],
            blocked_at=decision.blocked_at,
        ))


async def _pool(uow: UnitOfWork, case: CaseFacts) -> tuple[list[Candidate], Candidate | None]:
    pool = await queries.candidates(uow.conn, agency_id=case.agency_id, case=case)
    named = None
    if case.flags.named_handler_id:
        named = next(iter(await queries.candidates(uow.conn, handler_id=case.flags.named_handler_id,
                                                   case=case)), None)
    return pool, named


async def _save_and_tell(uow: UnitOfWork, assignment: CaseAssignment, rotation: Rotation,
                         before: int) -> None:
    """Save what the decision recorded, take the rotation's turn for a new handler, tell others."""
    await uow.save(assignment)
    assert assignment.case is not None
    for decision in assignment.decisions[before:]:
        if isinstance(decision, HandlerAssigned):
            rotation.take_turn(case_id=assignment.id, handler_id=decision.handler.handler_id,
                               method=decision.method, group_case=assignment.case.flags.group_case,
                               at=decision.assigned_at)
            await uow.save(rotation)
        _tell_decision(uow, decision, assignment)


async def _rotation(uow: UnitOfWork, agency_id: str, case_id: str, at: datetime) -> Rotation:
    """The agency's rotation as this decision reads it (its read model, at the stream's version):
    never a fold of its stream, which grows by one event per case."""
    return await queries.rotation(uow.conn, agency_id, at=at, case_ids=[case_id])


async def _decide(uow: UnitOfWork, case: CaseFacts) -> None:
    at = now()
    assignment = await uow.get(CaseAssignment, case.case_id)
    rotation = await _rotation(uow, case.agency_id, case.case_id, at)
    pool, named = await _pool(uow, case)
    before = len(assignment.decisions)
    applied = await rules(uow, case.agency_id)
    assignment.decide(case=case, pool=pool, named=named, rotation=rotation, at=at,
                      monthly_cap=applied.monthly_cap, senior_years=applied.senior_years,
                      rules_version=applied.rules_version)
    if len(assignment.decisions) > before:
        await _save_and_tell(uow, assignment, rotation, before)


async def _retrying_in_savepoint(uow: UnitOfWork, step: Callable[[], Awaitable[None]]) -> None:
    """The consumer's transaction also holds the inbox row, so a conflict on the agency's
    rotation (another decision for the same pool committed first) is retried from a savepoint,
    on fresh state, rather than by failing the whole message. The savepoint is asyncpg's (a
    transaction nested in the consumer's, same connection): through SQLAlchemy's begin_nested it
    cost about a sixth of each decision's CPU."""
    async for attempt in AsyncRetrying(retry=retry_if_exception_type(ConcurrencyError),
                                       stop=stop_after_attempt(8),
                                       wait=wait_random_exponential(multiplier=0.01, max=0.2), reraise=True):
        with attempt:
            db = await driver(uow.conn)
            async with db.transaction():
                await step()


async def assign_registered_case(uow: UnitOfWork, event: contracts.CaseRegistered) -> None:
    """Decide on a newly registered case inside the consumer's transaction."""
    case = CaseFacts(case_id=event.case_id, case_number=event.case_number, case_kind=event.case_kind,
                     agency_id=event.agency_id, flags=event.flags,
                     adverse_party_hashes=event.adverse_party_hashes,
                     aided_person_hash=event.aided_person_hash, source_system=event.source_system)
    await _retrying_in_savepoint(uow, lambda: _decide(uow, case))


async def reassign_case(uow: UnitOfWork, event: contracts.ReassignmentRequested) -> None:
    """Release the current handler and pick another by the same rules, without them."""

    async def step() -> None:
        assignment = await uow.get(CaseAssignment, event.case_id)
        if assignment.case is None:
            raise LookupError(f"ReassignmentRequested for case {event.case_id}, "
                              "which assignment never decided")
        at = now()
        rotation = await _rotation(uow, assignment.case.agency_id, assignment.id, at)
        pool, named = await _pool(uow, assignment.case)
        before = len(assignment.decisions)
        applied = await rules(uow, assignment.case.agency_id)
        assignment.reassign(current_handler_id=event.current_handler.handler_id, reason=event.reason.value,
                            pool=pool, named=named, rotation=rotation, at=at,
                            monthly_cap=applied.monthly_cap, senior_years=applied.senior_years,
                            rules_version=applied.rules_version)
        if len(assignment.decisions) > before:
            await _save_and_tell(uow, assignment, rotation, before)

    await _retrying_in_savepoint(uow, step)


async def terminate_case(uow: UnitOfWork, event: contracts.CaseTerminated) -> None:
    """Legal aid ended: release the handler; no one replaces them."""
    assignment = await uow.get(CaseAssignment, event.case_id)
    if not assignment.exists:
        return  # terminated before any decision: nothing to release
    before = len(assignment.decisions)
    assignment.terminate(reason=event.reason, at=event.terminated_at)
    if len(assignment.decisions) > before:
        await uow.save(assignment)
        for decision in assignment.decisions[before:]:
            _tell_decision(uow, decision, assignment)


async def load_assignment(uow: UnitOfWork, case_id: str) -> CaseAssignment:
    assignment = await uow.get(CaseAssignment, case_id)
    if not assignment.exists:
        raise NotFound(queries.NO_ASSIGNMENT)
    return assignment


@retry_on_conflict
async def choose_handler(uow_factory: UnitOfWorkFactory, case_id: str, *, handler_id: str,
                         reason: str, within: AgencyScope = EVERY_AGENCY) -> CaseAssignment:
    async with uow_factory() as uow:
        assignment = await load_assignment(uow, case_id)
        assert assignment.case is not None
        await queries.scope.check_agency(uow.conn, within, assignment.case.agency_id, queries.NO_ASSIGNMENT)
        at = now()
        rotation = await _rotation(uow, assignment.case.agency_id, case_id, at)
        picked = await queries.candidates(uow.conn, handler_id=handler_id, case=assignment.case)
        candidate = next(iter(picked), None)
        before = len(assignment.decisions)
        applied = await rules(uow, assignment.case.agency_id)
        assignment.choose(handler_id=handler_id, candidate=candidate, reason=reason, rotation=rotation,
                          at=at, monthly_cap=applied.monthly_cap, senior_years=applied.senior_years,
                          rules_version=applied.rules_version)
        if len(assignment.decisions) == before:
            return assignment
        await uow.save(assignment)
        decision = assignment.decisions[-1]
        assert isinstance(decision, HandlerAssigned)
        rotation.take_turn(case_id=case_id, handler_id=handler_id, method=decision.method,
                           group_case=assignment.case.flags.group_case, at=decision.assigned_at)
        await uow.save(rotation)
        _tell(uow, assignment)
        return assignment


# --- cases given to an institution (R-PRV-4) ------------------------------------------------


@retry_on_conflict
async def give_to_institution(uow_factory: UnitOfWorkFactory, case_id: str, *, institution_id: str,
                              reason: str, within: AgencyScope = EVERY_AGENCY) -> CaseAssignment:
    """R-ASG-3 with R-PRV-4: the agency gives a case awaiting its choice to an institution of its
    pool, which arranges a person within the configured hours. Another agency's case (outside
    `within`) is not found."""
    async with uow_factory() as uow:
        assignment = await load_assignment(uow, case_id)
        assert assignment.case is not None
        await queries.scope.check_agency(uow.conn, within, assignment.case.agency_id, queries.NO_ASSIGNMENT)
        institution = await queries.institution_facts(uow.conn, institution_id)
        at = now()
        before = len(assignment.decisions)
        assignment.give_to_institution(
            institution=institution, institution_id=institution_id, reason=reason, at=at,
            due_at=arrangement_due(at, _settings(uow).institution_arrangement_hours))
        if len(assignment.decisions) > before:
            await uow.save(assignment)
        return assignment


@retry_on_conflict
async def arrange_handler(uow_factory: UnitOfWorkFactory, case_id: str, *, institution_id: str | None,
                          handler_id: str, reason: str) -> CaseAssignment:
    """R-PRV-4: the institution given the case arranges one of its handlers, by the same rules as
    the rotation; the turn and the month count are the agency's rotation's, as any assignment's.
    A case not given to this institution (nor handled by one of its handlers) is not found, as is
    every case to a token that speaks for no institution."""
    async with uow_factory() as uow:
        assignment = await load_assignment(uow, case_id)
        if institution_id is None or not queries.concerns_institution(assignment, institution_id):
            raise NotFound(queries.NO_ASSIGNMENT)
        assert assignment.case is not None
        at = now()
        rotation = await _rotation(uow, assignment.case.agency_id, case_id, at)
        staff = await queries.candidates(uow.conn, institution_id=institution_id, case=assignment.case)
        picked = await queries.candidates(uow.conn, handler_id=handler_id, case=assignment.case)
        candidate = next(iter(picked), None)
        before = len(assignment.decisions)
        applied = await rules(uow, assignment.case.agency_id)
        assignment.arrange(institution_id=institution_id, handler_id=handler_id, candidate=candidate,
                           staff=staff, reason=reason, rotation=rotation, at=at,
                           monthly_cap=applied.monthly_cap, senior_years=applied.senior_years,
                           rules_version=applied.rules_version)
        if len(assignment.decisions) > before:
            await _save_and_tell(uow, assignment, rotation, before)
        return assignment


@retry_on_conflict
async def take_back_from_institution(uow_factory: UnitOfWorkFactory, case_id: str, *, reason: str,
                                     within: AgencyScope = EVERY_AGENCY) -> CaseAssignment:
    """The agency takes back a case its institution has arranged no one for, and the rotation
    over its pool decides (or blocks it), by the same rules. Another agency's case (outside
    `within`) is not found."""
    async with uow_factory() as uow:
        assignment = await load_assignment(uow, case_id)
        assert assignment.case is not None
        await queries.scope.check_agency(uow.conn, within, assignment.case.agency_id, queries.NO_ASSIGNMENT)
        at = now()
        rotation = await _rotation(uow, assignment.case.agency_id, case_id, at)
        pool = await queries.candidates(uow.conn, agency_id=assignment.case.agency_id, case=assignment.case)
        before = len(assignment.decisions)
        applied = await rules(uow, assignment.case.agency_id)
        assignment.take_back(reason=reason, pool=pool, rotation=rotation, at=at,
                             monthly_cap=applied.monthly_cap, senior_years=applied.senior_years,
                             rules_version=applied.rules_version)
        await _save_and_tell(uow, assignment, rotation, before)
        return assignment
@retry_on_conflict
async def decline_case(uow_factory: UnitOfWorkFactory, case_id: str, *, handler_id: str,
                       reason: contracts_assignment.DeclineReason, explanation: str) -> None:
    """The assigned handler declines the case, with a reason; the engine decides again without
    them, in the same transaction (HandlerDeclined, then CaseAssigned or AssignmentBlocked)."""
    async with uow_factory() as uow:
        assignment = await load_assignment(uow, case_id)
        assert assignment.case is not None
        at = now()
        rotation = await _rotation(uow, assignment.case.agency_id, case_id, at)
        pool, named = await _pool(uow, assignment.case)
        before = len(assignment.decisions)
        applied = await rules(uow, assignment.case.agency_id)
        assignment.decline(handler_id=handler_id, reason=reason, explanation=explanation, pool=pool,
                           named=named, rotation=rotation, at=at, monthly_cap=applied.monthly_cap,
                           senior_years=applied.senior_years, rules_version=applied.rules_version)
        if len(assignment.decisions) > before:
            await _save_and_tell(uow, assignment, rotation, before)


# --- recruitment calls ----------------------------------------------------------------------


@retry_on_conflict
async def announce_recruitment_call(uow_factory: UnitOfWorkFactory, agency_id: str, *, title: str,
                                    fields_sought: list[str], deadline: date, how_to_apply: str,
                                    within: AgencyScope = EVERY_AGENCY) -> str:
    """The agency calls for providers (R-PUB-3): recorded, and told to publication for the public."""
    async with uow_factory() as uow:
        await queries.scope.check_agency(uow.conn, within, agency_id, NO_AGENCY)
        call = RecruitmentCall(str(uuid.uuid4()))
        at = now()
        call.announce(agency_id=agency_id, title=title, fields_sought=fields_sought, deadline=deadline,
                      how_to_apply=how_to_apply, today=local_date(at), at=at)
        await uow.save(call)
        announced = call.announced
        assert announced is not None  # just recorded
        uow.emit(contracts_assignment.RecruitmentCallAnnounced(
            call_id=call.id, agency_id=agency_id, title=announced.title,
            fields_sought=announced.fields_sought, deadline=announced.deadline,
            how_to_apply=announced.how_to_apply, announced_at=announced.announced_at))
        return call.id
