"""Assignment's read models and the folds of its domain events into them, in the same transaction
as the append (shared.projection: one function per event class). What is read from them is in
queries/."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import BigInteger, Column, DateTime, delete, func, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.assignment.domain import (
    Assessment,
    AssignmentBlocked,
    AssignmentEnded,
    CaseAssignment,
    CaseAwaitingChoice,
    CaseFacts,
    CaseGivenToInstitution,
    CaseTakenBackFromInstitution,
    CommitmentSigned,
    CommitmentWithdrawn,
    Handler,
    HandlerAssigned,
    HandlerDeclined,
    HandlerRegistered,
    HandlerReinstated,
    HandlerReleased,
    HandlerSuspended,
    Institution,
    InstitutionRecruited,
    Rotation,
    TurnTaken,
    UnavailabilityRecorded,
)
from shared.contracts import HandlerRef
from shared.contracts.assignment import AssignmentMethod, ReleaseCause
from shared.projection import Json, Projection, Recorded, Rows
from shared.store import driver


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
    registered_order: int = Field(sa_column=Column(BigInteger, nullable=False))
    registered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_assigned_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # Added by migration 0002 with a default for the rows already there.
    practice_areas: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False,
                                                                             server_default=text("'[]'")))
    qualifications: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False,
                                                                             server_default=text("'[]'")))
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


class OpposedPartyRow(AssignmentTable, table=True):
    """Whom each handler (and so their institution) acted against: the adverse parties' keyed
    hashes of every case assigned to them. A later case for that party is a conflict."""

    __tablename__ = "opposed_parties"

    case_id: str = Field(primary_key=True)
    handler_id: str = Field(primary_key=True)
    party_hash: str = Field(primary_key=True, index=True)
    institution_id: str


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
    # While the case is blocked, the candidates of the decision that blocked it, each with why
    # not (the list of blocked cases shows them); empty otherwise. Every decision keeps its
    # candidates in its event, where the decision record and the fairness report read them
    # (queries/): copying each decision's whole list here was most of a rebuild (migration 0008).
    candidates: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    source_system: str | None = None
    decided_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    version: int
    # Added by migration 0005: the institution given the case (awaiting the person it arranges,
    # R-PRV-4) or of the handler assigned, and when the institution's arrangement is due.
    institution_id: str | None = Field(default=None, index=True)
    due_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class RotationStateRow(AssignmentTable, table=True):
    """Each agency's rotation (`rotation-<agency_id>`) at its stream's version, kept in the same
    transaction as each append: a decision reads the rotation here, never by folding the stream
    (which takes one event per case), and appends at `version` (R-ASG-1, R-ASG-4)."""

    __tablename__ = "rotation_state"

    agency_id: str = Field(primary_key=True)
    version: int
    turns: int


class RotationLastTurnRow(AssignmentTable, table=True):
    """The turn each handler of an agency's rotation last took (R-ASG-1: longest waiting first)."""

    __tablename__ = "rotation_last_turns"

    agency_id: str = Field(primary_key=True)
    handler_id: str = Field(primary_key=True)
    last_turn: int


class RotationMonthRow(AssignmentTable, table=True):
    """Cases each handler took in an agency's rotation in a calendar month (Asia/Shanghai), group
    cases excluded (R-ASG-4): the cap's count, as the rotation's stream has it."""

    __tablename__ = "rotation_month_counts"

    agency_id: str = Field(primary_key=True)
    month: str = Field(primary_key=True)
    handler_id: str = Field(primary_key=True)
    case_count: int


class RotationTurnRow(AssignmentTable, table=True):
    """Every turn taken: a case takes one per handler, never two (a decision told twice)."""

    __tablename__ = "rotation_turns"

    agency_id: str = Field(primary_key=True)
    case_id: str = Field(primary_key=True)
    handler_id: str = Field(primary_key=True)


METADATA = AssignmentTable.metadata
institutions = InstitutionRow.__table__
commitments = CommitmentRow.__table__
handlers = HandlerRow.__table__
handler_month_counts = HandlerMonthRow.__table__
suspensions = SuspensionRow.__table__
volunteer_commitments = VolunteerCommitmentRow.__table__
unavailability = UnavailabilityRow.__table__
represented_parties = RepresentedPartyRow.__table__
opposed_parties = OpposedPartyRow.__table__
case_assignments = CaseAssignmentRow.__table__
rotation_state = RotationStateRow.__table__
rotation_last_turns = RotationLastTurnRow.__table__
rotation_month_counts = RotationMonthRow.__table__
rotation_turns = RotationTurnRow.__table__
REBUILT_TABLES = METADATA.sorted_tables
"""What `python -m services.assignment rebuild` empties and fills again: every table here."""


projection = Projection(Institution, Handler, Rotation, CaseAssignment)
"""The projector app.py hands to the ServiceSpec. The rules' stream (`rules-<agency>`) has no
read model here: the rules are read from their own stream."""


# --- the registry ---------------------------------------------------------------------------


@projection.on(InstitutionRecruited)
async def institution_recruited(conn: AsyncConnection, e: InstitutionRecruited, at: Recorded) -> None:
    recruitment = e.recruitment
    await conn.execute(insert(institutions).values(
        institution_id=e.institution_id, name=e.name, kind=e.kind.value, agency_id=e.agency_id,
        district=e.district, recruited_at=e.recruited_at, version=at.version,
        recruitment_method=recruitment and recruitment.method.value,
        recruited_on=recruitment and recruitment.recruited_on,
        recruiting_agency=recruitment and recruitment.recruiting_agency,
        results_published_on=recruitment and recruitment.results_published_on,
    ))


@projection.on(CommitmentSigned, of=Institution)
async def institution_commitment_signed(conn: AsyncConnection, e: CommitmentSigned, at: Recorded) -> None:
    await conn.execute(insert(commitments).values(
        institution_id=at.aggregate_id, version=at.version, signed_on=e.signed_on, valid_until=e.valid_until,
        signed_at=e.signed_at,
    ))
    await conn.execute(update(institutions).where(institutions.c.institution_id == at.aggregate_id).values(
        commitment_signed_on=e.signed_on, commitment_valid_until=e.valid_until, version=at.version,
    ))


@projection.on(CommitmentSigned, of=Handler)
async def volunteer_commitment_signed(conn: AsyncConnection, e: CommitmentSigned, at: Recorded) -> None:
    await conn.execute(insert(volunteer_commitments).values(
        handler_id=at.aggregate_id, version=at.version, signed_on=e.signed_on, valid_until=e.valid_until))


@projection.on(CommitmentWithdrawn)
async def commitment_withdrawn(conn: AsyncConnection, e: CommitmentWithdrawn, at: Recorded) -> None:
    """Every letter ends on the day before the withdrawal (R-PRV-3)."""
    last_day = e.withdrawn_on - timedelta(days=1)
    await conn.execute(update(commitments).where(commitments.c.institution_id == at.aggregate_id,
                                                 commitments.c.valid_until > last_day)
                       .values(valid_until=last_day))
    await conn.execute(update(institutions).where(institutions.c.institution_id == at.aggregate_id)
                       .values(commitment_valid_until=func.least(institutions.c.commitment_valid_until,
                                                                 last_day),
                               version=at.version))


@projection.on(HandlerRegistered)
async def handler_registered(conn: AsyncConnection, e: HandlerRegistered, at: Recorded) -> None:
    await conn.execute(insert(handlers).values(
        handler_id=e.handler_id, name=e.name, kind=e.kind.value, licence_number=e.licence_number,
        institution_id=e.institution_id, agency_id=e.agency_id, years_of_practice=e.years_of_practice,
        status="active", registered_order=at.position, registered_at=e.registered_at, version=at.version,
        practice_areas=[k.value for k in e.practice_areas],
        qualifications=[q.value for q in e.qualifications],
    ))


@projection.on(HandlerSuspended)
async def handler_suspended(conn: AsyncConnection, e: HandlerSuspended, at: Recorded) -> None:
    await conn.execute(insert(suspensions).values(
        handler_id=at.aggregate_id, suspension_id=e.suspension_id, reason=e.reason, until=e.until,
        suspended_at=e.suspended_at,
    ).on_conflict_do_nothing())


@projection.on(HandlerReinstated)
async def handler_reinstated(conn: AsyncConnection, e: HandlerReinstated, at: Recorded) -> None:
    await conn.execute(delete(suspensions).where(suspensions.c.handler_id == at.aggregate_id,
                                                 suspensions.c.suspension_id == e.suspension_id))


@projection.on(UnavailabilityRecorded)
async def unavailability_recorded(conn: AsyncConnection, e: UnavailabilityRecorded, at: Recorded) -> None:
    await conn.execute(insert(unavailability).values(
        handler_id=at.aggregate_id, version=at.version, unavailable_from=e.unavailable_from,
        unavailable_to=e.unavailable_to,
    ))


# --- the rotation ---------------------------------------------------------------------------


_TURN = text("""
WITH state AS (
    INSERT INTO rotation_state (agency_id, version, turns) VALUES (:agency, :version, 1)
    ON CONFLICT (agency_id) DO UPDATE SET version = excluded.version, turns = rotation_state.turns + 1
    RETURNING turns
), last AS (
    INSERT INTO rotation_last_turns (agency_id, handler_id, last_turn)
    SELECT :agency, :handler, turns FROM state
    ON CONFLICT (agency_id, handler_id) DO UPDATE SET last_turn = excluded.last_turn
), turn AS (
    INSERT INTO rotation_turns (agency_id, case_id, handler_id) VALUES (:agency, :case, :handler)
    ON CONFLICT DO NOTHING
)
INSERT INTO rotation_month_counts (agency_id, month, handler_id, case_count)
SELECT :agency, :month, :handler, 1 WHERE :counts
ON CONFLICT (agency_id, month, handler_id) DO UPDATE SET case_count = rotation_month_counts.case_count + 1
""")


@projection.on(TurnTaken)
async def turn_taken(conn: AsyncConnection, e: TurnTaken, at: Recorded) -> None:
    """The rotation's read model (one statement), then the handler's row and month."""
    await conn.execute(_TURN, {"agency": at.aggregate_id, "version": at.version, "handler": e.handler_id,
                               "case": e.case_id, "month": e.month, "counts": e.counts_toward_cap})
    await conn.execute(update(handlers).where(handlers.c.handler_id == e.handler_id)
                       .values(last_assigned_at=e.taken_at))
    if e.counts_toward_cap:
        upsert = insert(handler_month_counts).values(handler_id=e.handler_id, month=e.month, case_count=1)
        await conn.execute(upsert.on_conflict_do_update(
            index_elements=["handler_id", "month"],
            set_={"case_count": handler_month_counts.c.case_count + 1},
        ))


# --- one case's assignment ------------------------------------------------------------------


# Every registration sets off a decision, and every decision writes the case's row: straight to
# asyncpg, as the kernel's own writes are, with its statement built once per set of columns (one
# per kind of decision). Building and compiling it through SQLAlchemy for each decision was a
# fifth of assignment's CPU per registration (docs/benchmarks.md).
_DECIDED: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}


def _decided_sql(columns: tuple[str, ...], updated: tuple[str, ...]) -> str:
    sql = _DECIDED.get((columns, updated))
    if sql is None:
        values = ", ".join(f"${n}::text::jsonb" if c == "candidates" else f"${n}"
                           for n, c in enumerate(columns, 1))
        sql = _DECIDED[(columns, updated)] = (
            # The names are case_assignments' columns, from this module's code, never from input.
            f"INSERT INTO case_assignments ({', '.join(columns)}) VALUES ({values}) "  # noqa: S608  # nosec B608
            f"ON CONFLICT (case_id) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in updated)}")
    return sql


async def _decided(conn: AsyncConnection, e: CaseAwaitingChoice | HandlerAssigned | AssignmentBlocked,
                   at: Recorded, row: dict[str, Any]) -> None:
    """The case's row as its latest decision left it: the candidates only if it blocks the case
    (its fold says so), else none."""
    case = e.case
    row = {"candidates": [], **row, "version": at.version}
    values = {"case_id": case.case_id, "case_number": case.case_number, "case_kind": case.case_kind.value,
              "agency_id": case.agency_id, "group_case": case.flags.group_case,
              "source_system": case.source_system, **row}
    values["candidates"] = json.dumps(values["candidates"], ensure_ascii=False)
    db = await driver(conn)
    await db.execute(_decided_sql(tuple(values), tuple(row)), *values.values())


_NO_INSTITUTION: dict[str, Any] = {"institution_id": None, "due_at": None}


@projection.on(CaseAwaitingChoice)
async def case_awaiting_choice(conn: AsyncConnection, e: CaseAwaitingChoice, at: Recorded) -> None:
    await _decided(conn, e, at, {"status": "awaiting_choice", "proposal": e.proposal,
                                 "decided_at": e.recorded_at, **_NO_INSTITUTION})


@projection.on(AssignmentBlocked)
async def assignment_blocked(conn: AsyncConnection, e: AssignmentBlocked, at: Recorded) -> None:
    await _decided(conn, e, at, {"status": "blocked", "decided_at": e.blocked_at, **_NO_INSTITUTION,
                                 "candidates": [c.model_dump(mode="json") for c in e.candidates]})


@projection.on(CaseGivenToInstitution)
async def case_given_to_institution(conn: AsyncConnection, e: CaseGivenToInstitution, at: Recorded) -> None:
    await conn.execute(update(case_assignments).where(case_assignments.c.case_id == e.case_id).values(
        status="awaiting_institution", institution_id=e.institution_id, institution_name=e.institution_name,
        due_at=e.due_at, reason=e.reason, decided_at=e.given_at, version=at.version))


@projection.on(CaseTakenBackFromInstitution)
async def case_taken_back(conn: AsyncConnection, e: CaseTakenBackFromInstitution, at: Recorded) -> None:
    """The rotation's decision follows in the same append and sets the row as it decides."""
    await conn.execute(update(case_assignments).where(case_assignments.c.case_id == e.case_id).values(
        status="awaiting_choice", institution_id=None, institution_name=None, due_at=None,
        reason=e.reason, decided_at=e.taken_back_at, version=at.version))


@projection.on(HandlerAssigned)
async def handler_assigned(conn: AsyncConnection, e: HandlerAssigned, at: Recorded) -> None:
    handler = e.handler
    await _decided(conn, e, at, {"status": "assigned", "method": e.method.value, "reason": e.reason,
                                 "handler_id": handler.handler_id, "handler_name": handler.name,
                                 "institution_name": handler.institution_name, "decided_at": e.assigned_at,
                                 "institution_id": handler.institution_id, "due_at": None})
    for party in set(e.case.adverse_party_hashes):
        await conn.execute(insert(opposed_parties).values(
            case_id=e.case.case_id, handler_id=handler.handler_id, party_hash=party,
            institution_id=handler.institution_id,
        ).on_conflict_do_nothing())
    if e.case.aided_person_hash:
        await conn.execute(insert(represented_parties).values(
            case_id=e.case.case_id, handler_id=handler.handler_id, institution_id=handler.institution_id,
            party_hash=e.case.aided_person_hash,
        ).on_conflict_do_nothing())


async def _released(conn: AsyncConnection, case_id: str, at: Recorded, ended_at: datetime | None) -> None:
    """No one handles the case now; `ended_at` when legal aid ended (no one will: a blocked case
    is blocked no more)."""
    row: dict[str, Any] = {"version": at.version, "handler_id": None, "handler_name": None,
                           "institution_name": None, "method": None, **_NO_INSTITUTION}
    if ended_at is not None:
        row |= {"status": "released", "decided_at": ended_at, "candidates": []}
    await conn.execute(update(case_assignments).where(case_assignments.c.case_id == case_id).values(**row))


@projection.on(HandlerDeclined)
async def handler_declined(conn: AsyncConnection, e: HandlerDeclined, at: Recorded) -> None:
    await _released(conn, e.case_id, at, None)


@projection.on(HandlerReleased)
async def handler_released(conn: AsyncConnection, e: HandlerReleased, at: Recorded) -> None:
    await _released(conn, e.case_id, at, e.released_at if e.cause == ReleaseCause.termination else None)


@projection.on(AssignmentEnded)
async def assignment_ended(conn: AsyncConnection, e: AssignmentEnded, at: Recorded) -> None:
    await _released(conn, e.case_id, at, e.ended_at)


# --- the same folds in memory, for the batched rebuild (shared.projection.rebuild) -------------
# Each leaves `Rows` as its SQL fold above leaves the tables: tests/test_rebuild.py compares them.


@projection.in_memory(InstitutionRecruited)
def institution_recruited_rows(rows: Rows, e: InstitutionRecruited, at: Recorded) -> None:
    recruitment = e.recruitment
    rows.insert(institutions,
                institution_id=e.institution_id, name=e.name, kind=e.kind.value, agency_id=e.agency_id,
                district=e.district, recruited_at=e.recruited_at, version=at.version,
                recruitment_method=recruitment and recruitment.method.value,
                recruited_on=recruitment and recruitment.recruited_on,
                recruiting_agency=recruitment and recruitment.recruiting_agency,
                results_published_on=recruitment and recruitment.results_published_on)


@projection.in_memory(CommitmentSigned, of=Institution)
def institution_commitment_signed_rows(rows: Rows, e: CommitmentSigned, at: Recorded) -> None:
    rows.insert(commitments, institution_id=at.aggregate_id, version=at.version, signed_on=e.signed_on,
                valid_until=e.valid_until, signed_at=e.signed_at)
    rows.update(institutions, at.aggregate_id, commitment_signed_on=e.signed_on,
                commitment_valid_until=e.valid_until, version=at.version)


@projection.in_memory(CommitmentSigned, of=Handler)
def volunteer_commitment_signed_rows(rows: Rows, e: CommitmentSigned, at: Recorded) -> None:
    rows.insert(volunteer_commitments, handler_id=at.aggregate_id, version=at.version, signed_on=e.signed_on,
                valid_until=e.valid_until)


@projection.in_memory(CommitmentWithdrawn)
def commitment_withdrawn_rows(rows: Rows, e: CommitmentWithdrawn, at: Recorded) -> None:
    last_day = e.withdrawn_on - timedelta(days=1)
    for letter in rows.scan(commitments):
        if letter["institution_id"] == at.aggregate_id and letter["valid_until"] > last_day:
            letter["valid_until"] = last_day
    institution = rows.get(institutions, at.aggregate_id)
    if institution is not None:  # LEAST ignores NULL
        until = institution.get("commitment_valid_until")
        institution.update(commitment_valid_until=last_day if until is None else min(until, last_day),
                           version=at.version)


@projection.in_memory(HandlerRegistered)
def handler_registered_rows(rows: Rows, e: HandlerRegistered, at: Recorded) -> None:
    rows.insert(handlers,
                handler_id=e.handler_id, name=e.name, kind=e.kind.value, licence_number=e.licence_number,
                institution_id=e.institution_id, agency_id=e.agency_id, years_of_practice=e.years_of_practice,
                status="active", registered_order=at.position, registered_at=e.registered_at,
                version=at.version, practice_areas=[k.value for k in e.practice_areas],
                qualifications=[q.value for q in e.qualifications])


@projection.in_memory(HandlerSuspended)
def handler_suspended_rows(rows: Rows, e: HandlerSuspended, at: Recorded) -> None:
    rows.insert_or_ignore(suspensions, handler_id=at.aggregate_id, suspension_id=e.suspension_id,
                          reason=e.reason, until=e.until, suspended_at=e.suspended_at)


@projection.in_memory(HandlerReinstated)
def handler_reinstated_rows(rows: Rows, e: HandlerReinstated, at: Recorded) -> None:
    rows.delete(suspensions, at.aggregate_id, e.suspension_id)


@projection.in_memory(UnavailabilityRecorded)
def unavailability_recorded_rows(rows: Rows, e: UnavailabilityRecorded, at: Recorded) -> None:
    rows.insert(unavailability, handler_id=at.aggregate_id, version=at.version,
                unavailable_from=e.unavailable_from, unavailable_to=e.unavailable_to)


def _plus_one(row: dict[str, Any]) -> None:
    row["case_count"] += 1


@projection.in_memory(TurnTaken)
def turn_taken_rows(rows: Rows, e: TurnTaken, at: Recorded) -> None:
    agency = at.aggregate_id

    def next_turn(row: dict[str, Any]) -> None:
        row.update(version=at.version, turns=row["turns"] + 1)

    state = rows.upsert(rotation_state, {"agency_id": agency, "version": at.version, "turns": 1}, next_turn)
    rows.upsert(rotation_last_turns, {"agency_id": agency, "handler_id": e.handler_id,
                                      "last_turn": state["turns"]}, {"last_turn": state["turns"]})
    rows.insert_or_ignore(rotation_turns, agency_id=agency, case_id=e.case_id, handler_id=e.handler_id)
    if e.counts_toward_cap:
        rows.upsert(rotation_month_counts, {"agency_id": agency, "month": e.month, "handler_id": e.handler_id,
                                            "case_count": 1}, _plus_one)
    rows.update(handlers, e.handler_id, last_assigned_at=e.taken_at)
    if e.counts_toward_cap:
        rows.upsert(handler_month_counts, {"handler_id": e.handler_id, "month": e.month, "case_count": 1},
                    _plus_one)


_CANDIDATES = TypeAdapter(list[Assessment])
_NO_CANDIDATES = Json("[]")  # encoded once, not once a row


class AwaitingChoiceView(BaseModel):
    """`CaseAwaitingChoice` as the rebuild reads it: without its candidates, which the row does
    not keep. Validating every candidate with its reasons was most of the rebuild's work."""

    case: CaseFacts
    proposal: str | None
    recorded_at: datetime


class AssignedView(BaseModel):
    """`HandlerAssigned` as the rebuild reads it: without its candidates (as AwaitingChoiceView)."""

    case: CaseFacts
    handler: HandlerRef
    method: AssignmentMethod
    reason: str | None
    assigned_at: datetime


def _decided_rows(rows: Rows, e: AwaitingChoiceView | AssignedView | AssignmentBlocked, at: Recorded,
                  row: dict[str, Any]) -> None:
    case = e.case
    row = {"candidates": _NO_CANDIDATES, **row, "version": at.version}
    values = {"case_id": case.case_id, "case_number": case.case_number, "case_kind": case.case_kind.value,
              "agency_id": case.agency_id, "group_case": case.flags.group_case,
              "source_system": case.source_system, **row}
    rows.upsert(case_assignments, values, row)


@projection.in_memory(CaseAwaitingChoice, view=AwaitingChoiceView)
def case_awaiting_choice_rows(rows: Rows, e: AwaitingChoiceView, at: Recorded) -> None:
    _decided_rows(rows, e, at, {"status": "awaiting_choice", "proposal": e.proposal,
                                "decided_at": e.recorded_at, **_NO_INSTITUTION})


@projection.in_memory(AssignmentBlocked)
def assignment_blocked_rows(rows: Rows, e: AssignmentBlocked, at: Recorded) -> None:
    _decided_rows(rows, e, at, {"status": "blocked", "decided_at": e.blocked_at, **_NO_INSTITUTION,
                                "candidates": Json(_CANDIDATES.dump_json(e.candidates))})


@projection.in_memory(CaseGivenToInstitution)
def case_given_to_institution_rows(rows: Rows, e: CaseGivenToInstitution, at: Recorded) -> None:
    rows.update(case_assignments, e.case_id, status="awaiting_institution", institution_id=e.institution_id,
                institution_name=e.institution_name, due_at=e.due_at, reason=e.reason, decided_at=e.given_at,
                version=at.version)


@projection.in_memory(CaseTakenBackFromInstitution)
def case_taken_back_rows(rows: Rows, e: CaseTakenBackFromInstitution, at: Recorded) -> None:
    rows.update(case_assignments, e.case_id, status="awaiting_choice", institution_id=None,
                institution_name=None, due_at=None, reason=e.reason, decided_at=e.taken_back_at,
                version=at.version)


@projection.in_memory(HandlerAssigned, view=AssignedView)
def handler_assigned_rows(rows: Rows, e: AssignedView, at: Recorded) -> None:
    handler = e.handler
    _decided_rows(rows, e, at, {"status": "assigned", "method": e.method.value, "reason": e.reason,
                                "handler_id": handler.handler_id, "handler_name": handler.name,
                                "institution_name": handler.institution_name, "decided_at": e.assigned_at,
                                "institution_id": handler.institution_id, "due_at": None})
    for party in set(e.case.adverse_party_hashes):
        rows.insert_or_ignore(opposed_parties, case_id=e.case.case_id, handler_id=handler.handler_id,
                              party_hash=party, institution_id=handler.institution_id)
    if e.case.aided_person_hash:
        rows.insert_or_ignore(represented_parties, case_id=e.case.case_id, handler_id=handler.handler_id,
                              institution_id=handler.institution_id, party_hash=e.case.aided_person_hash)


def _released_rows(rows: Rows, case_id: str, at: Recorded, ended_at: datetime | None) -> None:
    row: dict[str, Any] = {"version": at.version, "handler_id": None, "handler_name": None,
                           "institution_name": None, "method": None, **_NO_INSTITUTION}
    if ended_at is not None:
        row |= {"status": "released", "decided_at": ended_at, "candidates": _NO_CANDIDATES}
    rows.update(case_assignments, case_id, **row)


@projection.in_memory(HandlerDeclined)
def handler_declined_rows(rows: Rows, e: HandlerDeclined, at: Recorded) -> None:
    _released_rows(rows, e.case_id, at, None)


@projection.in_memory(HandlerReleased)
def handler_released_rows(rows: Rows, e: HandlerReleased, at: Recorded) -> None:
    _released_rows(rows, e.case_id, at, e.released_at if e.cause == ReleaseCause.termination else None)


@projection.in_memory(AssignmentEnded)
def assignment_ended_rows(rows: Rows, e: AssignmentEnded, at: Recorded) -> None:
    _released_rows(rows, e.case_id, at, e.ended_at)
