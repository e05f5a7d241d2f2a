"""The provider registry as read: institutions with their latest commitment, handlers with
whether suspended today and their cases this month, the published list of volunteers, and the
candidates the engine weighs for a case."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import false, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.assignment.domain import (
    Candidate,
    CaseFacts,
    InstitutionFacts,
    InstitutionKind,
    Qualification,
    RecruitmentMethod,
)
from services.assignment.projections import (
    commitments,
    handler_month_counts,
    handlers,
    institutions,
    opposed_parties,
    represented_parties,
    suspensions,
    unavailability,
    volunteer_commitments,
)
from services.assignment.queries import scope
from shared.aggregate import NotFound
from shared.auth import EVERY_AGENCY, AgencyScope, Principal, Role, agency_scope
from shared.clock import local_date, local_month
from shared.contracts import CaseKind, HandlerKind
from shared.paging import Page, paginate


class InstitutionView(BaseModel):
    institution_id: str
    name: str
    kind: InstitutionKind
    agency_id: str
    district: str
    recruited_at: datetime
    commitment_signed_on: date | None
    commitment_valid_until: date | None
    recruitment_method: RecruitmentMethod | None = None
    recruited_on: date | None = None
    recruiting_agency: str | None = None
    results_published_on: date | None = None


class HandlerView(BaseModel):
    handler_id: str
    name: str
    kind: HandlerKind
    licence_number: str | None
    institution_id: str
    agency_id: str
    years_of_practice: int
    status: str
    registered_at: datetime
    last_assigned_at: datetime | None
    practice_areas: list[CaseKind] = []
    qualifications: list[Qualification] = []
    suspended: bool = Field(default=False, description="A suspension is in force today (R-ASG-6)")
    cases_this_month: int = Field(default=0, description="Non-group cases received this month (R-ASG-4)")


class VolunteerEntry(BaseModel):
    """One line of the published list of volunteers (R-PRV-2): public facts only."""

    name: str
    institution_name: str
    agency_id: str
    registered_at: datetime


NO_INSTITUTION = "no institution with this institution_id"
NO_HANDLER = "no handler with this handler_id"


# --- institutions ---------------------------------------------------------------------------


async def institution(engine: AsyncEngine, institution_id: str,
                      within: AgencyScope = EVERY_AGENCY) -> InstitutionView:
    """One institution, if within the caller's agencies (not found otherwise)."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(institutions).where(institutions.c.institution_id == institution_id))
               ).mappings().first()
        if row is None:
            raise NotFound(NO_INSTITUTION)
        await scope.check_agency(conn, within, row["agency_id"], NO_INSTITUTION)
    return InstitutionView.model_validate(dict(row))


async def list_institutions(engine: AsyncEngine, *, agency_id: str | None, offset: int,
                            limit: int, within: AgencyScope = EVERY_AGENCY) -> Page[InstitutionView]:
    """Institutions in recruitment order, of the caller's agencies only."""
    query = select(institutions).order_by(institutions.c.recruited_at)
    if agency_id:
        query = query.where(institutions.c.agency_id == agency_id)
    async with engine.connect() as conn:
        query = query.where(scope.of_agencies(institutions.c.agency_id, await scope.agencies(conn, within)))
        return await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda row: InstitutionView.model_validate(dict(row)))


# --- handlers -------------------------------------------------------------------------------


async def handler(engine: AsyncEngine, handler_id: str, *, at: datetime,
                  principal: Principal | None = None) -> HandlerView:
    """One handler, with whether suspended on `at`'s day and their cases in its month. A case
    handler reads only their own record, an agency its own pool's; any other is not found, as an
    unknown id is."""
    if principal is not None and principal.role is Role.case_handler and handler_id != principal.handler_id:
        raise NotFound(NO_HANDLER)
    async with engine.connect() as conn:
        row = (await conn.execute(select(handlers).where(handlers.c.handler_id == handler_id))
               ).mappings().first()
        if row is None:
            raise NotFound(NO_HANDLER)
        if principal is not None:
            await scope.check_agency(conn, agency_scope(principal), row["agency_id"], NO_HANDLER)
        states = await _handler_state(conn, [handler_id], at)
    return HandlerView.model_validate(dict(row)).model_copy(update=states[handler_id])


async def list_handlers(engine: AsyncEngine, *, agency_id: str | None, offset: int, limit: int,
                        at: datetime, within: AgencyScope = EVERY_AGENCY) -> Page[HandlerView]:
    """Handlers in registration order, each with whether suspended and their cases this month;
    of the caller's agencies only."""
    query = select(handlers).order_by(handlers.c.registered_order)
    if agency_id:
        query = query.where(handlers.c.agency_id == agency_id)
    async with engine.connect() as conn:
        query = query.where(scope.of_agencies(handlers.c.agency_id, await scope.agencies(conn, within)))
        page = await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda row: HandlerView.model_validate(dict(row)))
        states = await _handler_state(conn, [h.handler_id for h in page.items], at)
    page.items = [h.model_copy(update=states[h.handler_id]) for h in page.items]
    return page


async def list_volunteers(engine: AsyncEngine, *, agency_id: str | None, offset: int,
                          limit: int, within: AgencyScope = EVERY_AGENCY) -> Page[VolunteerEntry]:
    """The list of legal-aid volunteers, as the agency publishes it (R-PRV-2)."""
    query = (select(handlers.c.name, institutions.c.name.label("institution_name"), handlers.c.agency_id,
                    handlers.c.registered_at)
             .join(institutions, institutions.c.institution_id == handlers.c.institution_id)
             .where(handlers.c.kind == HandlerKind.volunteer.value)
             .order_by(handlers.c.registered_order))
    if agency_id:
        query = query.where(handlers.c.agency_id == agency_id)
    async with engine.connect() as conn:
        query = query.where(scope.of_agencies(handlers.c.agency_id, await scope.agencies(conn, within)))
        return await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda row: VolunteerEntry.model_validate(dict(row)))


async def _handler_state(conn: AsyncConnection, handler_ids: list[str],
                         at: datetime) -> dict[str, dict[str, Any]]:
    """Per handler: whether a suspension is in force on `at`'s day, and their cases in its month
    (both in Beijing)."""
    day, month = local_date(at), local_month(at)
    state: dict[str, dict[str, Any]] = {h: {"suspended": False, "cases_this_month": 0} for h in handler_ids}
    if not handler_ids:
        return state
    in_force = await conn.execute(select(suspensions).where(suspensions.c.handler_id.in_(handler_ids)))
    for s in in_force.mappings():
        if s["until"] is None or day <= s["until"]:
            state[s["handler_id"]]["suspended"] = True
    counts = await conn.execute(select(handler_month_counts).where(
        handler_month_counts.c.handler_id.in_(handler_ids), handler_month_counts.c.month == month))
    for c in counts.mappings():
        state[c["handler_id"]]["cases_this_month"] = c["case_count"]
    return state


# --- what the engine reads ------------------------------------------------------------------


async def institution_facts(conn: AsyncConnection, institution_id: str) -> InstitutionFacts | None:
    """An institution with every letter it signed, as the agency weighs giving it a case."""
    row = (await conn.execute(select(institutions).where(institutions.c.institution_id == institution_id))
           ).mappings().first()
    if row is None:
        return None
    letters = await conn.execute(select(commitments.c.signed_on, commitments.c.valid_until)
                                 .where(commitments.c.institution_id == institution_id))
    return InstitutionFacts(institution_id=row["institution_id"], name=row["name"],
                            agency_id=row["agency_id"],
                            commitments=tuple((c.signed_on, c.valid_until) for c in letters))


async def candidates(conn: AsyncConnection, *, agency_id: str | None = None, handler_id: str | None = None,
                     institution_id: str | None = None, case: CaseFacts | None = None) -> list[Candidate]:
    """The handlers of an agency's pool (or of one institution, or one handler), with their
    institution's letters and whom they and their institution acted for and against. With
    `case`, only the parties that matter to it (its adverse parties among those acted for, its
    aided person among those acted against): what the conflict check reads, by the parties'
    index, so a decision does not read every party of the pool's whole history."""
    query = (select(handlers, institutions.c.name.label("institution_name"))
             .join(institutions, institutions.c.institution_id == handlers.c.institution_id)
             .order_by(handlers.c.registered_order))
    if agency_id is not None:
        query = query.where(handlers.c.agency_id == agency_id)
    if handler_id is not None:
        query = query.where(handlers.c.handler_id == handler_id)
    if institution_id is not None:
        query = query.where(handlers.c.institution_id == institution_id)
    rows = (await conn.execute(query)).mappings().all()
    letters: dict[str, list[tuple[date, date]]] = {}
    institution_ids = {r["institution_id"] for r in rows}
    handler_ids = {r["handler_id"] for r in rows}
    if institution_ids:
        signed = await conn.execute(select(commitments)
                                    .where(commitments.c.institution_id.in_(institution_ids)))
        for c in signed.mappings():
            letters.setdefault(c["institution_id"], []).append((c["signed_on"], c["valid_until"]))
    suspended: dict[str, list[date | None]] = {}
    away: dict[str, list[tuple[date, date]]] = {}
    by_handler: dict[str, set[str]] = {}
    by_institution: dict[str, set[str]] = {}
    against_handler: dict[str, set[str]] = {}
    against_institution: dict[str, set[str]] = {}
    own: dict[str, list[tuple[date, date]]] = {}
    if handler_ids:
        for v in (await conn.execute(select(volunteer_commitments)
                                     .where(volunteer_commitments.c.handler_id.in_(handler_ids)))).mappings():
            own.setdefault(v["handler_id"], []).append((v["signed_on"], v["valid_until"]))
        for s in (await conn.execute(select(suspensions)
                                     .where(suspensions.c.handler_id.in_(handler_ids)))).mappings():
            suspended.setdefault(s["handler_id"], []).append(s["until"])
        for u in (await conn.execute(select(unavailability)
                                     .where(unavailability.c.handler_id.in_(handler_ids)))).mappings():
            away.setdefault(u["handler_id"], []).append((u["unavailable_from"], u["unavailable_to"]))
        acted_for = select(represented_parties).where(
            represented_parties.c.handler_id.in_(handler_ids)
            | represented_parties.c.institution_id.in_(institution_ids))
        acted_against = select(opposed_parties).where(
            opposed_parties.c.handler_id.in_(handler_ids)
            | opposed_parties.c.institution_id.in_(institution_ids))
        if case is not None:
            acted_for = acted_for.where(represented_parties.c.party_hash.in_(set(case.adverse_party_hashes)))
            acted_against = acted_against.where(
                opposed_parties.c.party_hash == case.aided_person_hash if case.aided_person_hash
                else false())
        acted = ([] if case is not None and not case.adverse_party_hashes
                 else (await conn.execute(acted_for)).mappings())
        for p in acted:
            by_handler.setdefault(p["handler_id"], set()).add(p["party_hash"])
            by_institution.setdefault(p["institution_id"], set()).add(p["party_hash"])
        opposed = ([] if case is not None and not case.aided_person_hash
                   else (await conn.execute(acted_against)).mappings())
        for p in opposed:
            against_handler.setdefault(p["handler_id"], set()).add(p["party_hash"])
            against_institution.setdefault(p["institution_id"], set()).add(p["party_hash"])
    return [
        Candidate(handler_id=r["handler_id"], name=r["name"], kind=HandlerKind(r["kind"]),
                  licence_number=r["licence_number"], institution_id=r["institution_id"],
                  institution_name=r["institution_name"], agency_id=r["agency_id"],
                  active=r["status"] == "active",
                  commitments=(tuple(letters.get(r["institution_id"], ()))
                               + tuple(own.get(r["handler_id"], ()))),
                  registered_order=r["registered_order"], years_of_practice=r["years_of_practice"],
                  practice_areas=frozenset(CaseKind(k) for k in r["practice_areas"]),
                  qualifications=frozenset(Qualification(q) for q in r["qualifications"]),
                  suspensions=tuple(suspended.get(r["handler_id"], ())),
                  unavailable=tuple(away.get(r["handler_id"], ())),
                  represented_parties=frozenset(by_handler.get(r["handler_id"], set())
                                                | by_institution.get(r["institution_id"], set())),
                  opposed_parties=frozenset(against_handler.get(r["handler_id"], set())
                                            | against_institution.get(r["institution_id"], set())))
        for r in rows
    ]
