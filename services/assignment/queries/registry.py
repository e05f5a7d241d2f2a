"""The provider registry as read: institutions with their latest commitment, handlers with
whether suspended today and their cases this month, the published list of volunteers, and the
candidates the engine weighs for a case."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
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
    suspensions,
)
from services.assignment.queries import scope
from shared.aggregate import NotFound
from shared.auth import EVERY_AGENCY, AgencyScope, Principal, Role, agency_scope
from shared.clock import local_date, local_month
from shared.contracts import CaseKind, HandlerKind
from shared.paging import Page, paginate
from shared.store import driver, from_jsonb


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


# Every registration sets off a decision that reads its pool: straight to asyncpg, as the
# kernel's hot paths are. The pool's statement is built once for each set of filters given, and
# names each filter's column so its index serves it.
_POOL: dict[tuple[str, ...], str] = {}
_FILTERS = ("agency_id", "handler_id", "institution_id")


def _pool_sql(given: tuple[str, ...]) -> str:
    sql = _POOL.get(given)
    if sql is None:
        where = " AND ".join(f"h.{column} = ${n}" for n, column in enumerate(given, 1)) or "true"
        sql = _POOL[given] = (
            # The filters' names are _FILTERS, never input; their values are parameters.
            "SELECT h.*, i.name AS institution_name FROM handlers AS h "  # noqa: S608  # nosec B608
            f"JOIN institutions AS i ON i.institution_id = h.institution_id WHERE {where} "
            "ORDER BY h.registered_order")
    return sql


_LETTERS = ("SELECT institution_id, signed_on, valid_until FROM commitments "
            "WHERE institution_id = ANY($1::text[])")
_OWN_LETTERS = ("SELECT handler_id, signed_on, valid_until FROM volunteer_commitments "
                "WHERE handler_id = ANY($1::text[])")
_SUSPENDED = "SELECT handler_id, until FROM handler_suspensions WHERE handler_id = ANY($1::text[])"
_AWAY = ("SELECT handler_id, unavailable_from, unavailable_to FROM handler_unavailability "
         "WHERE handler_id = ANY($1::text[])")
# Whom the pool acted for and against: all of it, or (for a case) only the parties that matter to
# it, by the parties' index ($3: the case's adverse parties; its aided person).
_ACTED_FOR = ("SELECT handler_id, institution_id, party_hash FROM represented_parties "
              "WHERE (handler_id = ANY($1::text[]) OR institution_id = ANY($2::text[]))")
_ACTED_AGAINST = ("SELECT handler_id, institution_id, party_hash FROM opposed_parties "
                  "WHERE (handler_id = ANY($1::text[]) OR institution_id = ANY($2::text[]))")
_ACTED_FOR_CASE = _ACTED_FOR + " AND party_hash = ANY($3::text[])"
_ACTED_AGAINST_CASE = _ACTED_AGAINST + " AND party_hash = $3"


async def candidates(conn: AsyncConnection, *, agency_id: str | None = None, handler_id: str | None = None,
                     institution_id: str | None = None, case: CaseFacts | None = None) -> list[Candidate]:
    """The handlers of an agency's pool (or of one institution, or one handler), with their
    institution's letters and whom they and their institution acted for and against. With
    `case`, only the parties that matter to it (its adverse parties among those acted for, its
    aided person among those acted against): what the conflict check reads, by the parties'
    index, so a decision does not read every party of the pool's whole history."""
    db = await driver(conn)
    filters = dict(zip(_FILTERS, (agency_id, handler_id, institution_id), strict=True))
    given = {column: value for column, value in filters.items() if value is not None}
    rows = await db.fetch(_pool_sql(tuple(given)), *given.values())
    letters: dict[str, list[tuple[date, date]]] = {}
    institution_ids = list({r["institution_id"] for r in rows})
    handler_ids = list({r["handler_id"] for r in rows})
    if institution_ids:
        for c in await db.fetch(_LETTERS, institution_ids):
            letters.setdefault(c["institution_id"], []).append((c["signed_on"], c["valid_until"]))
    suspended: dict[str, list[date | None]] = {}
    away: dict[str, list[tuple[date, date]]] = {}
    by_handler: dict[str, set[str]] = {}
    by_institution: dict[str, set[str]] = {}
    against_handler: dict[str, set[str]] = {}
    against_institution: dict[str, set[str]] = {}
    own: dict[str, list[tuple[date, date]]] = {}
    if handler_ids:
        for v in await db.fetch(_OWN_LETTERS, handler_ids):
            own.setdefault(v["handler_id"], []).append((v["signed_on"], v["valid_until"]))
        for s in await db.fetch(_SUSPENDED, handler_ids):
            suspended.setdefault(s["handler_id"], []).append(s["until"])
        for u in await db.fetch(_AWAY, handler_ids):
            away.setdefault(u["handler_id"], []).append((u["unavailable_from"], u["unavailable_to"]))
        if case is None:
            acted = await db.fetch(_ACTED_FOR, handler_ids, institution_ids)
            opposed = await db.fetch(_ACTED_AGAINST, handler_ids, institution_ids)
        else:
            acted = (await db.fetch(_ACTED_FOR_CASE, handler_ids, institution_ids,
                                    list(set(case.adverse_party_hashes)))
                     if case.adverse_party_hashes else [])
            opposed = (await db.fetch(_ACTED_AGAINST_CASE, handler_ids, institution_ids,
                                      case.aided_person_hash)
                       if case.aided_person_hash else [])
        for p in acted:
            by_handler.setdefault(p["handler_id"], set()).add(p["party_hash"])
            by_institution.setdefault(p["institution_id"], set()).add(p["party_hash"])
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
                  practice_areas=frozenset(CaseKind(k) for k in from_jsonb(r["practice_areas"])),
                  qualifications=frozenset(Qualification(q) for q in from_jsonb(r["qualifications"])),
                  suspensions=tuple(suspended.get(r["handler_id"], ())),
                  unavailable=tuple(away.get(r["handler_id"], ())),
                  represented_parties=frozenset(by_handler.get(r["handler_id"], set())
                                                | by_institution.get(r["institution_id"], set())),
                  opposed_parties=frozenset(against_handler.get(r["handler_id"], set())
                                            | against_institution.get(r["institution_id"], set())))
        for r in rows
    ]
