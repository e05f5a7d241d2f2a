"""Evaluation's read models: the closed cases it has been told about (from intake's CaseClosed,
less those whose aid was terminated), the aided person's answers at follow-ups (intake's
FollowUpCompleted, R-EVL-5), and, folded from its own events in the same transaction as the
append, the reviewers each case was given to and the completed evaluations."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import Column, DateTime, delete, exists, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.evaluation.domain import ClosedCase
from shared.contracts import CaseClosed, CaseTerminated, FollowUpCompleted, HandlerRef
from shared.store import RecordedEvent


class EvaluationTable(SQLModel, registry=registry()):
    """The base of this service's tables: their own metadata, so that no other service's
    table of the same name can collide with them when both are imported in one process."""


class ClosedCaseRow(EvaluationTable, table=True):
    """A closed case and, once graded, its evaluation. No personal data of the aided person."""

    __tablename__ = "closed_cases"

    case_id: str = Field(primary_key=True)
    case_number: str
    case_kind: str = Field(index=True)
    district: str
    agency_id: str = Field(index=True)
    handler_id: str = Field(index=True)
    handler_name: str
    handler_kind: str
    licence_number: str | None = None
    institution_id: str = Field(index=True)
    institution_name: str
    closed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    evaluation_id: str | None = None


class EvaluationRow(EvaluationTable, table=True):
    __tablename__ = "evaluations"

    evaluation_id: str = Field(primary_key=True)
    case_id: str = Field(unique=True)
    case_number: str
    case_kind: str
    agency_id: str = Field(index=True)
    handler_id: str = Field(index=True)
    handler_name: str
    handler_kind: str
    licence_number: str | None = None
    institution_id: str = Field(index=True)
    institution_name: str
    standard: str
    indicators: dict = Field(sa_column=Column(JSONB, nullable=False))
    grade: str = Field(index=True)
    rule_version: str
    reviewer_id: str
    reviewer_institution_id: str
    findings: str
    completed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    version: int


class FollowUpRow(EvaluationTable, table=True):
    """回访: whether the aided person was satisfied with the handler's service (never their words)."""

    __tablename__ = "follow_ups"

    follow_up_id: str = Field(primary_key=True)
    case_id: str = Field(index=True)
    visited_on: date
    channel: str
    satisfaction: str
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class TerminatedCaseRow(EvaluationTable, table=True):
    """A case whose aid ended before the case did: it is not evaluated."""

    __tablename__ = "terminated_cases"

    case_id: str = Field(primary_key=True)
    reason: str
    terminated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ReviewAssignmentRow(EvaluationTable, table=True):
    """A closed case given to a peer reviewer: what scopes the reviewer's reads and grading."""

    __tablename__ = "review_assignments"

    case_id: str = Field(primary_key=True)
    reviewer_id: str = Field(primary_key=True, index=True)
    reviewer_name: str
    reviewer_institution_id: str
    years_of_practice: int
    given_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


closed_cases = ClosedCaseRow.__table__
review_assignments = ReviewAssignmentRow.__table__
evaluations = EvaluationRow.__table__
follow_ups = FollowUpRow.__table__
terminated_cases = TerminatedCaseRow.__table__


# --- closed cases, from intake --------------------------------------------------------------


async def record_closed_case(conn: AsyncConnection, event: CaseClosed) -> None:
    """Remember a closed case; a second report of the same closure changes nothing, and a case
    whose aid was terminated is not evaluated."""
    terminated = (await conn.execute(select(exists().where(terminated_cases.c.case_id == event.case_id)))).scalar()
    if terminated:
        return
    h = event.handler
    await conn.execute(
        insert(closed_cases).values(
            case_id=event.case_id, case_number=event.case_number, case_kind=event.case_kind,
            district=event.district, agency_id=event.agency_id, handler_id=h.handler_id, handler_name=h.name,
            handler_kind=h.kind, licence_number=h.licence_number, institution_id=h.institution_id,
            institution_name=h.institution_name, closed_at=event.closed_at,
        ).on_conflict_do_nothing(index_elements=["case_id"])
    )


async def record_termination(conn: AsyncConnection, event: CaseTerminated) -> None:
    """A terminated case leaves the awaiting list (if it was there) and never enters it."""
    await conn.execute(insert(terminated_cases).values(case_id=event.case_id, reason=event.reason,
                                                       terminated_at=event.terminated_at)
                       .on_conflict_do_nothing(index_elements=["case_id"]))
    await conn.execute(delete(closed_cases).where(closed_cases.c.case_id == event.case_id,
                                                  closed_cases.c.evaluation_id.is_(None)))


async def record_follow_up(conn: AsyncConnection, event: FollowUpCompleted) -> None:
    """R-EVL-5: the aided person's satisfaction joins the case's quality record, once per follow-up
    (it may come during the case, before the closure)."""
    await conn.execute(insert(follow_ups).values(
        follow_up_id=event.follow_up_id, case_id=event.case_id, visited_on=event.visited_on, channel=event.channel,
        satisfaction=event.satisfaction, recorded_at=event.recorded_at,
    ).on_conflict_do_nothing(index_elements=["follow_up_id"]))


async def follow_ups_of(conn: AsyncConnection, case_ids: Iterable[str]) -> dict[str, list[dict]]:
    """The follow-ups of these cases, oldest first."""
    rows = (await conn.execute(select(follow_ups).where(follow_ups.c.case_id.in_(list(case_ids)))
                               .order_by(follow_ups.c.visited_on, follow_ups.c.recorded_at))).mappings().all()
    found: dict[str, list[dict]] = {}
    for row in rows:
        found.setdefault(row["case_id"], []).append(dict(row))
    return found


async def closed_case_for_update(conn: AsyncConnection, case_id: str) -> ClosedCase | None:
    """The closed case, locked until the transaction ends: two reviewers grading the same case
    at once are serialised here, so the second sees the first's evaluation."""
    row = (await conn.execute(
        select(closed_cases).where(closed_cases.c.case_id == case_id).with_for_update()
    )).mappings().first()
    if row is None:
        return None
    return ClosedCase(
        case_id=row["case_id"], case_number=row["case_number"], case_kind=row["case_kind"],
        agency_id=row["agency_id"], closed_at=row["closed_at"], evaluation_id=row["evaluation_id"],
        handler=HandlerRef(handler_id=row["handler_id"], name=row["handler_name"], kind=row["handler_kind"],
                           licence_number=row["licence_number"], institution_id=row["institution_id"],
                           institution_name=row["institution_name"]),
    )


# --- evaluation's own events ----------------------------------------------------------------


def given_to(reviewer_id: str | None, case_id=closed_cases.c.case_id):
    """A where-clause: the case was given to this reviewer (never true without a reviewer id)."""
    return exists().where(review_assignments.c.case_id == case_id,
                          review_assignments.c.reviewer_id == (reviewer_id or ""))


async def project(conn: AsyncConnection, event: RecordedEvent) -> None:
    if event.type == "ReviewerGiven":
        data = event.data
        await conn.execute(insert(review_assignments).values(
            case_id=data["case_id"], reviewer_id=data["reviewer_id"], reviewer_name=data["reviewer_name"],
            reviewer_institution_id=data["reviewer_institution_id"], years_of_practice=data["years_of_practice"],
            given_at=datetime.fromisoformat(data["given_at"]),
        ))
        return
    if event.type != "EvaluationCompleted":
        return
    data, h = event.data, event.data["handler"]
    await conn.execute(
        insert(evaluations).values(
            evaluation_id=data["evaluation_id"], case_id=data["case_id"], case_number=data["case_number"],
            case_kind=data["case_kind"], agency_id=data["agency_id"], handler_id=h["handler_id"],
            handler_name=h["name"], handler_kind=h["kind"], licence_number=h.get("licence_number"),
            institution_id=h["institution_id"],
            institution_name=h["institution_name"], standard=data["standard"], indicators=data["indicators"],
            grade=data["grade"], rule_version=data["rule_version"], reviewer_id=data["reviewer_id"],
            reviewer_institution_id=data["reviewer_institution_id"], findings=data["findings"],
            completed_at=datetime.fromisoformat(data["completed_at"]), version=event.version,
        )
    )
    await conn.execute(
        update(closed_cases).where(closed_cases.c.case_id == data["case_id"])
        .values(evaluation_id=data["evaluation_id"])
    )

METADATA = EvaluationTable.metadata
