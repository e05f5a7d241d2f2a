"""Assignment's command handlers: open a unit of work, load, call one domain method, save, tell
the others, commit. Each retries on a concurrency conflict."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from services.assignment import projections
from services.assignment.domain import (
    DEFAULT_MONTHLY_CAP,
    AssignmentBlocked,
    CaseAssignment,
    CaseFacts,
    Handler,
    HandlerAssigned,
    Institution,
    InstitutionKind,
    Rotation,
)
from shared import contracts
from shared.aggregate import NotFound
from shared.contracts import HandlerKind
from shared.contracts.assignment import SkippedCandidate
from shared.service import UnitOfWorkFactory
from shared.store import ConcurrencyError
from shared.uow import UnitOfWork, retry_on_conflict


def now() -> datetime:
    return datetime.now(UTC)


def monthly_cap(uow: UnitOfWork) -> int:
    # The cap is the agency's to change (R-ASG-4, configurable); it lives in the service's settings.
    return getattr(uow.settings, "monthly_case_cap", DEFAULT_MONTHLY_CAP)


# --- the registry ---------------------------------------------------------------------------


@retry_on_conflict
async def recruit_institution(uow_factory: UnitOfWorkFactory, *, name: str, kind: InstitutionKind,
                              agency_id: str, district: str) -> Institution:
    async with uow_factory() as uow:
        institution = Institution(str(uuid.uuid4()))
        institution.recruit(name=name, kind=kind, agency_id=agency_id, district=district, at=now())
        await uow.save(institution)
        return institution


async def load_institution(uow: UnitOfWork, institution_id: str) -> Institution:
    institution = await uow.get(Institution, institution_id)
    if not institution.exists:
        raise NotFound(f"no institution {institution_id}")
    return institution


@retry_on_conflict
async def sign_commitment(uow_factory: UnitOfWorkFactory, institution_id: str, *, signed_on: date,
                          valid_until: date) -> Institution:
    async with uow_factory() as uow:
        institution = await load_institution(uow, institution_id)
        institution.sign_commitment(signed_on=signed_on, valid_until=valid_until, at=now())
        await uow.save(institution)
        return institution


@retry_on_conflict
async def register_handler(uow_factory: UnitOfWorkFactory, *, name: str, kind: HandlerKind,
                           licence_number: str | None, institution_id: str, years_of_practice: int) -> Handler:
    async with uow_factory() as uow:
        institution = await uow.get(Institution, institution_id)
        handler = Handler(str(uuid.uuid4()))
        handler.register(name=name, kind=kind, licence_number=licence_number, institution=institution,
                         years_of_practice=years_of_practice, at=now())
        await uow.save(handler)
        return handler


# --- the engine -----------------------------------------------------------------------------


def _tell(uow: UnitOfWork, assignment: CaseAssignment) -> None:
    """The integration event for the decision just taken (awaiting a choice tells no one yet)."""
    decision = assignment.decisions[-1]
    if isinstance(decision, HandlerAssigned):
        uow.emit(contracts.CaseAssigned(case_id=decision.case.case_id, case_number=decision.case.case_number,
                                        handler=decision.handler, method=decision.method, reason=decision.reason,
                                        assigned_at=decision.assigned_at))
    elif isinstance(decision, AssignmentBlocked):
        considered = list(decision.candidates)
        if decision.named_handler and all(c.handler_id != decision.named_handler.handler_id for c in considered):
            considered.append(decision.named_handler)
        uow.emit(contracts.AssignmentBlocked(
            case_id=decision.case.case_id, case_number=decision.case.case_number,
            candidates=[SkippedCandidate(handler_id=c.handler_id, reasons=[r.value for r in c.reasons])
                        for c in considered],
            blocked_at=decision.blocked_at,
        ))


async def _decide(uow: UnitOfWork, case: CaseFacts) -> None:
    assignment = await uow.get(CaseAssignment, case.case_id)
    rotation = await uow.get(Rotation, case.agency_id)
    pool = await projections.candidates(uow.conn, agency_id=case.agency_id)
    named = None
    if case.flags.named_handler_id:
        named = next(iter(await projections.candidates(uow.conn, handler_id=case.flags.named_handler_id)), None)
    before = len(assignment.decisions)
    assignment.decide(case=case, pool=pool, named=named, rotation=rotation, at=now(), monthly_cap=monthly_cap(uow))
    if len(assignment.decisions) == before:
        return
    await uow.save(assignment)
    if isinstance(decision := assignment.decisions[-1], HandlerAssigned):
        rotation.take_turn(case_id=case.case_id, handler_id=decision.handler.handler_id, method=decision.method,
                           group_case=case.flags.group_case, at=decision.assigned_at)
        await uow.save(rotation)
    _tell(uow, assignment)


async def assign_registered_case(uow: UnitOfWork, event: contracts.CaseRegistered) -> None:
    """Decide on a newly registered case inside the consumer's transaction.

    The transaction also holds the inbox row, so a conflict on the agency's rotation (another
    decision for the same pool committed first) is retried from a savepoint, on fresh state,
    rather than by failing the whole message."""
    case = CaseFacts(case_id=event.case_id, case_number=event.case_number, case_kind=event.case_kind,
                     agency_id=event.agency_id, flags=event.flags)
    async for attempt in AsyncRetrying(retry=retry_if_exception_type(ConcurrencyError), stop=stop_after_attempt(8),
                                       wait=wait_random_exponential(multiplier=0.01, max=0.2), reraise=True):
        with attempt:
            async with uow.conn.begin_nested():
                await _decide(uow, case)


async def load_assignment(uow: UnitOfWork, case_id: str) -> CaseAssignment:
    assignment = await uow.get(CaseAssignment, case_id)
    if not assignment.exists:
        raise NotFound(f"no assignment record for case {case_id}")
    return assignment


@retry_on_conflict
async def choose_handler(uow_factory: UnitOfWorkFactory, case_id: str, *, handler_id: str,
                         reason: str) -> CaseAssignment:
    async with uow_factory() as uow:
        assignment = await load_assignment(uow, case_id)
        assert assignment.case is not None
        rotation = await uow.get(Rotation, assignment.case.agency_id)
        candidate = next(iter(await projections.candidates(uow.conn, handler_id=handler_id)), None)
        before = len(assignment.decisions)
        assignment.choose(handler_id=handler_id, candidate=candidate, reason=reason, rotation=rotation, at=now(),
                          monthly_cap=monthly_cap(uow))
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
