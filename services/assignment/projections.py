"""Assignment's read models, folded from its own events in the same transaction as the append,
and the queries the engine reads its candidates with."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, delete, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.assignment.domain import Candidate, Qualification, local_day, month_of
from shared.contracts import CaseKind, HandlerKind
from shared.store import RecordedEvent


class AssignmentTable(SQLModel, registry=registry()):
    """The base of this service's tables: their own metadata, so that no other service's
    table of the same name can collide with them when both are imported in one process."""


class InstitutionRow(AssignmentTable, table=True):
    __tablename__ = "institutions"

    institution_id: str = Field(primary_key=True)
    name: str
    kind: str
    agency_id: str = Field(index=True)
    district: str
    recruited_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # The latest letter; every letter is in `commitments`.
    commitment_signed_on: date | None = None
    commitment_valid_until: date | None = None
    recruitment_method: str | None = None
    recruited_on: date | None = None
    recruiting_agency: str | None = None
    results_published_on: date | None = None
    version: int


class VolunteerCommitmentRow(AssignmentTable, table=True):
    """A volunteer's own quality commitment letters (R-PRV-3)."""

    __tablename__ = "volunteer_commitments"

    handler_id: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    signed_on: date
    valid_until: date


class CommitmentRow(AssignmentTable, table=True):
    """Each quality commitment letter an institution signed (R-PRV-3)."""

    __tablename__ = "commitments"

    institution_id: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    signed_on: date
    valid_until: date
    signed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class HandlerRow(AssignmentTable, table=True):
    __tablename__ = "handlers"

    handler_id: str = Field(primary_key=True)
    name: str
    kind: str
    licence_number: str | None = None
    institution_id: str = Field(index=True)
    agency_id: str = Field(index=True)
    years_of_practice: int
    status: str
    # The store's position of the registration: a total order for breaking rotation ties.
    registered_order: int
    registered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_assigned_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    practice_areas: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    qualifications: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    version: int


class SuspensionRow(AssignmentTable, table=True):
    """Suspensions in force (R-ASG-6); a reinstatement deletes its row."""

    __tablename__ = "handler_suspensions"

    handler_id: str = Field(primary_key=True)
    suspension_id: str = Field(primary_key=True)
    reason: str
    until: date | None = None
    suspended_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class UnavailabilityRow(AssignmentTable, table=True):
    __tablename__ = "handler_unavailability"

    handler_id: str = Field(primary_key=True)
    version: int = Field(primary_key=True)
    unavailable_from: date
    unavailable_to: date


class RepresentedPartyRow(AssignmentTable, table=True):
    """Whom each handler (and so their institution) acted for: the aided person's keyed hash of
    every case assigned to them. A later case against that party is a conflict."""

    __tablename__ = "represented_parties"

    case_id: str = Field(primary_key=True)
    handler_id: str = Field(primary_key=True)
    institution_id: str
    party_hash: str = Field(index=True)


class HandlerMonthRow(AssignmentTable, table=True):
    """Cases each handler took in a calendar month (Asia/Shanghai), group cases excluded (R-ASG-4)."""

    __tablename__ = "handler_month_counts"

    handler_id: str = Field(primary_key=True)
    month: str = Field(primary_key=True)
    case_count: int


class CaseAssignmentRow(AssignmentTable, table=True):
    __tablename__ = "case_assignments"

    case_id: str = Field(primary_key=True)
    case_number: str
    case_kind: str
    agency_id: str = Field(index=True)
    group_case: bool
    status: str = Field(index=True)
    method: str | None = None
    handler_id: str | None = Field(default=None, index=True)
    handler_name: str | None = None
    institution_name: str | None = None
    reason: str | None = None
    proposal: str | None = None
    candidates: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    source_system: str | None = None
    decided_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    version: int


METADATA = AssignmentTable.metadata
institutions = InstitutionRow.__table__
commitments = CommitmentRow.__table__
handlers = HandlerRow.__table__
handler_month_counts = HandlerMonthRow.__table__
suspensions = SuspensionRow.__table__
volunteer_commitments = VolunteerCommitmentRow.__table__
unavailability = UnavailabilityRow.__table__
represented_parties = RepresentedPartyRow.__table__
case_assignments = CaseAssignmentRow.__table__


def _id(event: RecordedEvent) -> str:
    return event.stream_id.split("-", 1)[1]


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


async def _project_registry(conn: AsyncConnection, event: RecordedEvent) -> None:
    data = event.data
    if event.type == "InstitutionRecruited":
        recruitment = data.get("recruitment") or {}
        await conn.execute(insert(institutions).values(
            institution_id=data["institution_id"], name=data["name"], kind=data["kind"],
            agency_id=data["agency_id"], district=data["district"], recruited_at=_ts(data["recruited_at"]),
            version=event.version, recruitment_method=recruitment.get("method"),
            recruited_on=_day(recruitment.get("recruited_on")),
            recruiting_agency=recruitment.get("recruiting_agency"),
            results_published_on=_day(recruitment.get("results_published_on")),
        ))
    elif event.type == "CommitmentSigned" and event.stream_id.startswith("handler-"):
        await conn.execute(insert(volunteer_commitments).values(
            handler_id=_id(event), version=event.version, signed_on=_day(data["signed_on"]),
            valid_until=_day(data["valid_until"])))
    elif event.type == "CommitmentWithdrawn":
        last_day = _day(data["withdrawn_on"]) - timedelta(days=1)
        await conn.execute(update(commitments).where(commitments.c.institution_id == _id(event),
                                                     commitments.c.valid_until > last_day)
                           .values(valid_until=last_day))
        await conn.execute(update(institutions).where(institutions.c.institution_id == _id(event))
                           .values(commitment_valid_until=func.least(institutions.c.commitment_valid_until, last_day),
                                   version=event.version))
    elif event.type == "CommitmentSigned":
        signed_on, valid_until = date.fromisoformat(data["signed_on"]), date.fromisoformat(data["valid_until"])
        await conn.execute(insert(commitments).values(
            institution_id=_id(event), version=event.version, signed_on=signed_on, valid_until=valid_until,
            signed_at=_ts(data["signed_at"]),
        ))
        await conn.execute(update(institutions).where(institutions.c.institution_id == _id(event)).values(
            commitment_signed_on=signed_on, commitment_valid_until=valid_until, version=event.version,
        ))
    elif event.type == "HandlerRegistered":
        await conn.execute(insert(handlers).values(
            handler_id=data["handler_id"], name=data["name"], kind=data["kind"],
            licence_number=data["licence_number"], institution_id=data["institution_id"],
            agency_id=data["agency_id"], years_of_practice=data["years_of_practice"], status="active",
            registered_order=event.position, registered_at=_ts(data["registered_at"]), version=event.version,
            practice_areas=data.get("practice_areas", []), qualifications=data.get("qualifications", []),
        ))
    elif event.type == "HandlerSuspended":
        await conn.execute(insert(suspensions).values(
            handler_id=_id(event), suspension_id=data["suspension_id"], reason=data["reason"],
            until=date.fromisoformat(data["until"]) if data["until"] else None,
            suspended_at=_ts(data["suspended_at"]),
        ).on_conflict_do_nothing())
    elif event.type == "HandlerReinstated":
        await conn.execute(delete(suspensions).where(suspensions.c.handler_id == _id(event),
                                                     suspensions.c.suspension_id == data["suspension_id"]))
    elif event.type == "UnavailabilityRecorded":
        await conn.execute(insert(unavailability).values(
            handler_id=_id(event), version=event.version,
            unavailable_from=date.fromisoformat(data["unavailable_from"]),
            unavailable_to=date.fromisoformat(data["unavailable_to"]),
        ))


async def _project_rotation(conn: AsyncConnection, event: RecordedEvent) -> None:
    data = event.data
    await conn.execute(update(handlers).where(handlers.c.handler_id == data["handler_id"])
                       .values(last_assigned_at=_ts(data["taken_at"])))
    if data["counts_toward_cap"]:
        upsert = insert(handler_month_counts).values(handler_id=data["handler_id"], month=data["month"], case_count=1)
        await conn.execute(upsert.on_conflict_do_update(
            index_elements=["handler_id", "month"],
            set_={"case_count": handler_month_counts.c.case_count + 1},
        ))


async def _project_release(conn: AsyncConnection, event: RecordedEvent) -> None:
    data = event.data
    row: dict[str, Any] = {"version": event.version, "handler_id": None, "handler_name": None,
                           "institution_name": None, "method": None}
    cause = data.get("cause")
    if event.type == "AssignmentEnded" or cause == "termination":
        row["status"] = "released"
        row["decided_at"] = _ts(data.get("released_at") or data["ended_at"])
    await conn.execute(update(case_assignments).where(case_assignments.c.case_id == data["case_id"]).values(**row))


async def _project_case(conn: AsyncConnection, event: RecordedEvent) -> None:
    data, case = event.data, event.data["case"]
    row: dict[str, Any] = {"candidates": data["candidates"], "version": event.version}
    if event.type == "CaseAwaitingChoice":
        row |= {"status": "awaiting_choice", "proposal": data["proposal"], "decided_at": _ts(data["recorded_at"])}
    elif event.type == "AssignmentBlocked":
        row |= {"status": "blocked", "decided_at": _ts(data["blocked_at"])}
    else:
        handler = data["handler"]
        row |= {"status": "assigned", "method": data["method"], "reason": data["reason"],
                "handler_id": handler["handler_id"], "handler_name": handler["name"],
                "institution_name": handler["institution_name"], "decided_at": _ts(data["assigned_at"])}
        if case.get("aided_person_hash"):
            await conn.execute(insert(represented_parties).values(
                case_id=case["case_id"], handler_id=handler["handler_id"], institution_id=handler["institution_id"],
                party_hash=case["aided_person_hash"],
            ).on_conflict_do_nothing())
    values = {"case_id": case["case_id"], "case_number": case["case_number"], "case_kind": case["case_kind"],
              "agency_id": case["agency_id"], "group_case": case["flags"]["group_case"],
              "source_system": case.get("source_system"), **row}
    await conn.execute(insert(case_assignments).values(**values)
                       .on_conflict_do_update(index_elements=["case_id"], set_=row))


async def project(conn: AsyncConnection, event: RecordedEvent) -> None:
    if event.type in {"InstitutionRecruited", "CommitmentSigned", "CommitmentWithdrawn", "HandlerRegistered",
                      "HandlerSuspended",
                      "HandlerReinstated", "UnavailabilityRecorded"}:
        await _project_registry(conn, event)
    elif event.type == "TurnTaken":
        await _project_rotation(conn, event)
    elif event.type in {"CaseAwaitingChoice", "HandlerAssigned", "AssignmentBlocked"}:
        await _project_case(conn, event)
    elif event.type in {"HandlerReleased", "AssignmentEnded"}:
        await _project_release(conn, event)


# --- what the engine reads ------------------------------------------------------------------


async def candidates(conn: AsyncConnection, *, agency_id: str | None = None,
                     handler_id: str | None = None) -> list[Candidate]:
    """The handlers of an agency's pool (or one handler), with their institution's letters."""
    query = (select(handlers, institutions.c.name.label("institution_name"))
             .join(institutions, institutions.c.institution_id == handlers.c.institution_id)
             .order_by(handlers.c.registered_order))
    if agency_id is not None:
        query = query.where(handlers.c.agency_id == agency_id)
    if handler_id is not None:
        query = query.where(handlers.c.handler_id == handler_id)
    rows = (await conn.execute(query)).mappings().all()
    letters: dict[str, list[tuple[date, date]]] = {}
    institution_ids = {r["institution_id"] for r in rows}
    handler_ids = {r["handler_id"] for r in rows}
    if institution_ids:
        signed = await conn.execute(select(commitments).where(commitments.c.institution_id.in_(institution_ids)))
        for c in signed.mappings():
            letters.setdefault(c["institution_id"], []).append((c["signed_on"], c["valid_until"]))
    suspended: dict[str, list[date | None]] = {}
    away: dict[str, list[tuple[date, date]]] = {}
    by_handler: dict[str, set[str]] = {}
    by_institution: dict[str, set[str]] = {}
    own: dict[str, list[tuple[date, date]]] = {}
    if handler_ids:
        for v in (await conn.execute(select(volunteer_commitments)
                                     .where(volunteer_commitments.c.handler_id.in_(handler_ids)))).mappings():
            own.setdefault(v["handler_id"], []).append((v["signed_on"], v["valid_until"]))
        for s in (await conn.execute(select(suspensions).where(suspensions.c.handler_id.in_(handler_ids)))).mappings():
            suspended.setdefault(s["handler_id"], []).append(s["until"])
        for u in (await conn.execute(select(unavailability)
                                     .where(unavailability.c.handler_id.in_(handler_ids)))).mappings():
            away.setdefault(u["handler_id"], []).append((u["unavailable_from"], u["unavailable_to"]))
        acted = await conn.execute(select(represented_parties).where(
            represented_parties.c.handler_id.in_(handler_ids)
            | represented_parties.c.institution_id.in_(institution_ids)))
        for p in acted.mappings():
            by_handler.setdefault(p["handler_id"], set()).add(p["party_hash"])
            by_institution.setdefault(p["institution_id"], set()).add(p["party_hash"])
    return [
        Candidate(handler_id=r["handler_id"], name=r["name"], kind=HandlerKind(r["kind"]),
                  licence_number=r["licence_number"], institution_id=r["institution_id"],
                  institution_name=r["institution_name"], agency_id=r["agency_id"], active=r["status"] == "active",
                  commitments=tuple(letters.get(r["institution_id"], ())) + tuple(own.get(r["handler_id"], ())),
                  registered_order=r["registered_order"], years_of_practice=r["years_of_practice"],
                  practice_areas=frozenset(CaseKind(k) for k in r["practice_areas"]),
                  qualifications=frozenset(Qualification(q) for q in r["qualifications"]),
                  suspensions=tuple(suspended.get(r["handler_id"], ())),
                  unavailable=tuple(away.get(r["handler_id"], ())),
                  represented_parties=frozenset(by_handler.get(r["handler_id"], set())
                                                | by_institution.get(r["institution_id"], set())))
        for r in rows
    ]


async def handler_state(conn: AsyncConnection, handler_ids: list[str], at: datetime) -> dict[str, dict[str, Any]]:
    """Per handler: whether a suspension is in force on `at`'s day, and their cases in its month."""
    day, month = local_day(at), month_of(at)
    state: dict[str, dict[str, Any]] = {h: {"suspended": False, "cases_this_month": 0} for h in handler_ids}
    if not handler_ids:
        return state
    for s in (await conn.execute(select(suspensions).where(suspensions.c.handler_id.in_(handler_ids)))).mappings():
        if s["until"] is None or day <= s["until"]:
            state[s["handler_id"]]["suspended"] = True
    counts = await conn.execute(select(handler_month_counts).where(handler_month_counts.c.handler_id.in_(handler_ids),
                                                                   handler_month_counts.c.month == month))
    for c in counts.mappings():
        state[c["handler_id"]]["cases_this_month"] = c["case_count"]
    return state


async def month_rows(conn: AsyncConnection, month: str, agency_id: str | None) -> list[dict[str, Any]]:
    """Each handler (of the agency) with their non-group cases in `month`."""
    counts = select(handler_month_counts).where(handler_month_counts.c.month == month).subquery()
    query = (select(handlers.c.handler_id, handlers.c.name, handlers.c.institution_id,
                    institutions.c.name.label("institution_name"), counts.c.case_count.label("cases"))
             .join(institutions, institutions.c.institution_id == handlers.c.institution_id)
             .outerjoin(counts, counts.c.handler_id == handlers.c.handler_id)
             .order_by(handlers.c.registered_order))
    if agency_id:
        query = query.where(handlers.c.agency_id == agency_id)
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def rotation_decisions(conn: AsyncConnection, start: datetime, end: datetime,
                             agency_id: str | None) -> list[dict[str, Any]]:
    """The cases assigned by rotation in [start, end), with the candidates of that decision."""
    query = select(case_assignments.c.handler_id, case_assignments.c.candidates).where(
        case_assignments.c.status == "assigned", case_assignments.c.method == "rotation",
        case_assignments.c.decided_at >= start, case_assignments.c.decided_at < end)
    if agency_id:
        query = query.where(case_assignments.c.agency_id == agency_id)
    return [dict(r) for r in (await conn.execute(query)).mappings()]
