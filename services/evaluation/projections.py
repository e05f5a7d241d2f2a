"""Evaluation's read models: the closed cases it has been told about (from intake's CaseClosed,
less those whose aid was terminated), the aided person's answers at follow-ups (intake's
FollowUpCompleted, R-EVL-5), and, folded from its own events in the same transaction as the
append, the reviewers each case was given to and the completed evaluations.

The tables say exactly what the migrations create (services/evaluation/tests/test_schema.py);
reads over them are in queries.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Index, delete, exists, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.evaluation.domain import CaseReview, EvaluationCompleted, PeerEvaluation, ReviewerGiven
from shared.contracts import CaseClosed, CaseTerminated, FollowUpCompleted
from shared.projection import Projection, Recorded


class EvaluationTable(SQLModel, registry=registry()):
    """The base of this service's tables: their own metadata, so that no other service's
    table of the same name can collide with them when both are imported in one process."""


class ClosedCaseRow(EvaluationTable, table=True):
    """A closed case and, once graded, its evaluation. No personal data of the aided person."""

    __tablename__ = "closed_cases"
    __table_args__ = (
        # The awaiting list, oldest closure first.
        Index("ix_closed_cases_awaiting", "closed_at", "case_id",
              postgresql_where=text("evaluation_id IS NULL")),
    )

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
    indicators: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    grade: str = Field(index=True)
    rule_version: str
    reviewer_id: str
    reviewer_institution_id: str
    findings: str
    completed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    version: int


# The list of evaluations, newest first.
Index("ix_evaluations_completed_at", EvaluationRow.__table__.c.completed_at.desc())


class FollowUpRow(EvaluationTable, table=True):
    """回访: whether the aided person was satisfied with the handler's service (never their words)."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        # A case's follow-ups, oldest first.
        Index("ix_follow_ups_case_id", "case_id", "visited_on", "recorded_at"),
    )

    follow_up_id: str = Field(primary_key=True)
    case_id: str
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

METADATA = EvaluationTable.metadata


# --- closed cases, from intake (consumers.py) -----------------------------------------------


async def record_closed_case(conn: AsyncConnection, event: CaseClosed) -> None:
    """Remember a closed case; a second report of the same closure changes nothing, and a case
    whose aid was terminated is not evaluated."""
    terminated = (await conn.execute(
        select(exists().where(terminated_cases.c.case_id == event.case_id))
    )).scalar()
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
        follow_up_id=event.follow_up_id, case_id=event.case_id, visited_on=event.visited_on,
        channel=event.channel, satisfaction=event.satisfaction, recorded_at=event.recorded_at,
    ).on_conflict_do_nothing(index_elements=["follow_up_id"]))


# --- evaluation's own events ----------------------------------------------------------------

projection = Projection(CaseReview, PeerEvaluation)


@projection.on(ReviewerGiven)
async def reviewer_given(conn: AsyncConnection, event: ReviewerGiven, at: Recorded) -> None:
    await conn.execute(insert(review_assignments).values(
        case_id=event.case_id, reviewer_id=event.reviewer_id, reviewer_name=event.reviewer_name,
        reviewer_institution_id=event.reviewer_institution_id, years_of_practice=event.years_of_practice,
        given_at=event.given_at,
    ))


@projection.on(EvaluationCompleted)
async def evaluation_completed(conn: AsyncConnection, event: EvaluationCompleted, at: Recorded) -> None:
    """The evaluation joins the list, and its case leaves the awaiting list."""
    h = event.handler
    await conn.execute(insert(evaluations).values(
        evaluation_id=event.evaluation_id, case_id=event.case_id, case_number=event.case_number,
        case_kind=event.case_kind, agency_id=event.agency_id, handler_id=h.handler_id, handler_name=h.name,
        handler_kind=h.kind, licence_number=h.licence_number, institution_id=h.institution_id,
        institution_name=h.institution_name, standard=event.standard,
        indicators={key: grade.value for key, grade in event.indicators.items()},
        grade=event.grade, rule_version=event.rule_version, reviewer_id=event.reviewer_id,
        reviewer_institution_id=event.reviewer_institution_id, findings=event.findings,
        completed_at=event.completed_at, version=at.version,
    ))
    await conn.execute(
        update(closed_cases).where(closed_cases.c.case_id == event.case_id)
        .values(evaluation_id=event.evaluation_id)
    )
