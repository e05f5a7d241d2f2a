"""Intake's command handlers: open a unit of work, load the case, call one domain method, save,
tell the others, commit. Each retries on a concurrency conflict."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from services.intake.domain import AidedPerson, Case
from shared import contracts
from shared.aggregate import NotFound
from shared.contracts import CaseFlags, CaseKind
from shared.service import UnitOfWorkFactory
from shared.store import driver
from shared.uow import UnitOfWork, retry_on_conflict


def now() -> datetime:
    return datetime.now(UTC)


@retry_on_conflict
async def register_case(
    uow_factory: UnitOfWorkFactory, *, case_kind: CaseKind, cause: str, district: str, agency_id: str,
    flags: CaseFlags, aided_person: AidedPerson,
) -> Case:
    async with uow_factory() as uow:
        at = now()
        serial = await (await driver(uow.conn)).fetchval("SELECT nextval('case_number_seq')")
        case = Case(str(uuid.uuid4()))
        case.register(case_number=f"FY-{at:%Y}-{serial:06d}", case_kind=case_kind, cause=cause, district=district,
                      agency_id=agency_id, flags=flags, aided_person=aided_person, at=at)
        await uow.save(case)
        r = case.registration
        assert r is not None
        uow.emit(contracts.CaseRegistered(case_id=case.id, case_number=r.case_number, case_kind=r.case_kind,
                                          cause=r.cause, district=r.district, agency_id=r.agency_id, flags=r.flags,
                                          registered_at=r.registered_at))
        return case


async def load_case(uow: UnitOfWork, case_id: str) -> Case:
    case = await uow.get(Case, case_id)
    if not case.exists:
        raise NotFound(f"no case {case_id}")
    return case


@retry_on_conflict
async def close_case(uow_factory: UnitOfWorkFactory, case_id: str, *, outcome: str, ended_on: date) -> Case:
    async with uow_factory() as uow:
        case = await load_case(uow, case_id)
        case.close(outcome=outcome, ended_on=ended_on, at=now())
        await uow.save(case)
        r, closure, handler = case.registration, case.closure, case.handler
        assert r is not None and closure is not None and handler is not None
        uow.emit(contracts.CaseClosed(case_id=case.id, case_number=r.case_number, case_kind=r.case_kind,
                                      district=r.district, agency_id=r.agency_id, handler=handler,
                                      group_case=r.flags.group_case, outcome=closure.outcome,
                                      ended_on=closure.ended_on, closed_at=closure.closed_at))
        return case
