"""Evaluation's read models: the closed cases it has been told about (from intake's CaseClosed,
less those whose aid was terminated), the aided person's answers at follow-ups (intake's
FollowUpCompleted, R-EVL-5), what a case's subsidy depends on at its registration (intake's
CaseRegistered), and, folded from its own events in the same transaction as the append, the
reviewers each case was given to, the completed evaluations, the agencies' subsidy schedule
versions and each case's subsidy.

The tables say exactly what the migrations create (services/evaluation/tests/test_schema.py);
reads over them are in queries.py."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Column, DateTime, Index, Numeric, delete, exists, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from services.evaluation.domain import (
    AgencyGradingRule,
    CaseOpinions,
    CaseReview,
    Correction,
    CorrectionRecorded,
    CorrectionRequested,
    EvaluationCompleted,
    GradingRuleChosen,
    OpinionGiven,
    PeerEvaluation,
    ReviewerGiven,
    ScheduleVersionPublished,
    StandardEditions,
    StandardVersionRegistered,
    Subsidy,
    SubsidyApproved,
    SubsidyComputed,
    SubsidyPaid,
    SubsidyRecoveryOrdered,
    SubsidyReduced,
    SubsidySchedule,
    SubsidyStatus,
    SubsidyWithheld,
    seed_for,
)
from services.evaluation.domain.panel import (
    FileDrawn,
    FileRead,
    FileResultFinal,
    FileResultReached,
    PanelFile,
    ReadersAdded,
    ResultDisputed,
)
from services.evaluation.domain.pool import Expert, ExpertRegistered, ExpertUpdated
from services.evaluation.domain.round import CasesDrawn, EvaluationRound, RoundClosed, RoundOpened
from shared.contracts import (
    CaseClosed,
    CaseRegistered,
    CaseTerminated,
    DeadlineMissed,
    FollowUpCompleted,
    Grade,
    HandlerRef,
)
from shared.projection import Projection, Recorded, Rows


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
    # The standard's version graded under, and what a points rule or a veto made of the grade.
    standard_version: str
    points: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    total_points: Decimal | None = Field(default=None, sa_column=Column(Numeric(5, 2)))
    not_done: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    late_file: bool


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


class RegisteredCaseRow(EvaluationTable, table=True):
    """What a case's subsidy depends on at its registration (intake's CaseRegistered): its stage
    or matter and whether it is a group case. No personal data."""

    __tablename__ = "registered_cases"

    case_id: str = Field(primary_key=True)
    case_kind: str
    agency_id: str
    criminal_stage: str | None = None
    criminal_role: str | None = None
    matter: str | None = None
    group_case: bool
    # The notifying organ's system (R-EVL-5: it may give its opinion of the handler's work).
    source_system: str | None = None
    registered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ScheduleVersionRow(EvaluationTable, table=True):
    """A version an agency published of its subsidy schedule (R-CHK-3)."""

    __tablename__ = "subsidy_schedule_versions"

    agency_id: str = Field(primary_key=True)
    version: str = Field(primary_key=True)
    number: int
    effective_from: date
    terms: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    published_by: str
    published_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class SubsidyRow(EvaluationTable, table=True):
    """A case's subsidy, from its computation at the sign-off to its payment (R-CHK-2, R-CHK-3), and
    what a failed evaluation did to it (R-EVL-7)."""

    __tablename__ = "subsidies"

    case_id: str = Field(primary_key=True)
    case_number: str
    case_kind: str
    agency_id: str
    handler_id: str
    handler_name: str
    handler_kind: str
    licence_number: str | None = None
    institution_id: str
    institution_name: str
    stage: str | None = None
    group_case: bool
    schedule_version: str
    lines: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    computed_amount: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    amount: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    status: str
    signed_off_by: str
    signed_off_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    computed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    approved_by: str | None = None
    approved_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    paid_on: date | None = None
    payment_reference: str | None = None
    paid_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    failed_evaluation_id: str | None = None
    adjustment: str | None = None
    rule_applied: str | None = None
    amount_to_recover: Decimal | None = Field(default=None, sa_column=Column(Numeric(12, 2)))
    version: int


# An agency's subsidies, newest first.
Index("ix_subsidies_agency_computed", SubsidyRow.__table__.c.agency_id,
      SubsidyRow.__table__.c.computed_at.desc())

class ExpertRow(EvaluationTable, table=True):
    """An expert of the pool (R-EVL-6), as the registry last recorded them."""

    __tablename__ = "experts"

    reviewer_id: str = Field(primary_key=True)
    name: str
    licence_number: str
    practising_since: date
    fields: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    district: str
    institution_id: str
    institution_name: str
    assigning_agencies: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    trained_on: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    disciplined_on: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    active: bool
    recorded_by: str
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    version: int


class RoundRow(EvaluationTable, table=True):
    """An evaluation round and the rule and seed its draw ran by (R-EVL-6)."""

    __tablename__ = "evaluation_rounds"

    round_id: str = Field(primary_key=True)
    agency_id: str = Field(index=True)
    period_from: date
    period_to: date
    opens_on: date
    draw_rule: str
    sample_share: Decimal = Field(sa_column=Column(Numeric(6, 5), nullable=False))
    seed: str
    readers: str
    panel_rule: str
    grading_rule: str
    candidates: int | None = None
    candidates_digest: str | None = None
    previous_year_cases: int | None = None
    sample_size: int | None = None
    drawn: int | None = None
    status: str
    opened_by: str
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class RoundFileRow(EvaluationTable, table=True):
    """A drawn file of a round, its panel's latest result and whether it is final."""

    __tablename__ = "round_files"

    file_id: str = Field(primary_key=True)
    round_id: str = Field(index=True)
    draw_order: int
    case_id: str = Field(index=True)
    case_number: str
    case_kind: str
    agency_id: str
    district: str
    handler_id: str
    handler_name: str
    institution_id: str
    institution_name: str
    # The standard version its readings are graded under (in force on the day the round opened).
    standard_version: str
    stage: str
    wanted: int
    first_grade: str | None = None
    first_result: str | None = None
    result_no: int | None = None
    grade: str | None = None
    indicators: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    disputed: bool
    final: bool
    version: int


class FileReaderRow(EvaluationTable, table=True):
    """A reviewer given a file of a round, at a stage, and their reading once made."""

    __tablename__ = "file_readers"

    file_id: str = Field(primary_key=True)
    reviewer_id: str = Field(primary_key=True, index=True)
    stage: str
    given_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    grade: str | None = None
    indicators: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    findings: str | None = None
    read_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # What grading.grade_case made of the reading under a points rule, a veto or a late file.
    points: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    total_points: Decimal | None = Field(default=None, sa_column=Column(Numeric(5, 2)))
    not_done: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    late_file: bool


experts = ExpertRow.__table__
rounds = RoundRow.__table__
round_files = RoundFileRow.__table__
file_readers = FileReaderRow.__table__
class StandardVersionRow(EvaluationTable, table=True):
    """A version of an evaluation standard (R-EVL-1): version 1 of each seeded by the migration
    0007_standards_opinions, later ones registered by the city bureau."""

    __tablename__ = "evaluation_standard_versions"

    version: str = Field(primary_key=True)
    standard_id: str = Field(index=True)
    number: int
    code: str
    title: str
    case_kinds: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    effective_from: date
    indicators: list[dict[str, Any]] = Field(sa_column=Column(JSONB, nullable=False))
    registered_by: str
    registered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class GradingRuleChoiceRow(EvaluationTable, table=True):
    """Each grading rule an agency chose, in order (the last is in force): the setting's history."""

    __tablename__ = "agency_grading_rules"

    agency_id: str = Field(primary_key=True)
    number: int = Field(primary_key=True)
    rule_version: str
    reason: str
    chosen_by: str
    chosen_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class OpinionRow(EvaluationTable, table=True):
    """An organ's opinion of the handler's work in a case (R-EVL-5). No personal data."""

    __tablename__ = "organ_opinions"

    case_id: str = Field(primary_key=True)
    organ_id: str = Field(primary_key=True)
    case_number: str | None = None
    agency_id: str = Field(index=True)
    organ_kind: str
    relation: str
    assessment: str
    remarks: str
    given_by: str
    given_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CorrectionRow(EvaluationTable, table=True):
    """The findings a result sent to the handler, the due day, and the correction (R-EVL-7)."""

    __tablename__ = "corrections"
    __table_args__ = (
        # The open corrections of an agency, soonest due first (the overdue worklist).
        Index("ix_corrections_open", "agency_id", "due_on", "correction_id",
              postgresql_where=text("corrected_at IS NULL")),
    )

    correction_id: str = Field(primary_key=True)
    evaluation_id: str
    case_id: str = Field(index=True)
    case_number: str
    agency_id: str
    handler_id: str = Field(index=True)
    handler_name: str
    handler_kind: str
    licence_number: str | None = None
    institution_id: str
    institution_name: str
    grade: str
    indicators: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    findings: str
    due_on: date
    requested_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    corrected_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    note: str | None = None
    on_time: bool | None = None


class LateClosingFileRow(EvaluationTable, table=True):
    """A case whose closing file intake found not submitted in time (its DeadlineMissed)."""

    __tablename__ = "late_closing_files"

    case_id: str = Field(primary_key=True)
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    detected_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


closed_cases = ClosedCaseRow.__table__
review_assignments = ReviewAssignmentRow.__table__
evaluations = EvaluationRow.__table__
follow_ups = FollowUpRow.__table__
terminated_cases = TerminatedCaseRow.__table__
registered_cases = RegisteredCaseRow.__table__
schedule_versions = ScheduleVersionRow.__table__
subsidies = SubsidyRow.__table__
standard_versions = StandardVersionRow.__table__
grading_rule_choices = GradingRuleChoiceRow.__table__
opinions = OpinionRow.__table__
corrections = CorrectionRow.__table__
late_closing_files = LateClosingFileRow.__table__

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


async def record_registered_case(conn: AsyncConnection, event: CaseRegistered) -> None:
    """What the subsidy of the case depends on (R-CHK-3), once per case."""
    await conn.execute(insert(registered_cases).values(
        case_id=event.case_id, case_kind=event.case_kind, agency_id=event.agency_id,
        criminal_stage=event.criminal_stage, criminal_role=event.criminal_role, matter=event.matter,
        group_case=event.flags.group_case, source_system=event.source_system,
        registered_at=event.registered_at,
    ).on_conflict_do_nothing(index_elements=["case_id"]))


# --- evaluation's own events ----------------------------------------------------------------

projection = Projection(CaseReview, PeerEvaluation, SubsidySchedule, Subsidy, StandardEditions,
                        AgencyGradingRule, CaseOpinions, Correction, Expert, EvaluationRound, PanelFile)

HEARD_TABLES = [closed_cases, terminated_cases, follow_ups, registered_cases, late_closing_files]
"""Kept by the consumers from intake's events (consumers.py: CaseClosed, CaseTerminated,
FollowUpCompleted, CaseRegistered, DeadlineMissed), not folded from this store: a rebuild that
emptied them could not fill them again. A result's fold still marks its case evaluated in
`closed_cases` (`_record_result`), a write the rebuild makes again over the kept rows."""
SEEDED_TABLES = [standard_versions]
"""Version 1 of each standard is the migration 0007's seed, registered "now" as the migration ran
(the standards' reads show when): a rebuild could not write it again as it was, so it leaves the
table, and the versions the city bureau registered since (this store's events) are written again
over it, each kept once by its version id."""
REBUILT_TABLES = [t for t in METADATA.sorted_tables if t not in HEARD_TABLES + SEEDED_TABLES]
"""What `python -m services.evaluation rebuild` empties and fills again: the tables only this
store's events fill (review assignments, evaluations, subsidy schedules and subsidies, the expert
pool, rounds, their files and readers, grading rules, opinions, corrections)."""


@projection.on(ReviewerGiven)
async def reviewer_given(conn: AsyncConnection, event: ReviewerGiven, at: Recorded) -> None:
    await conn.execute(insert(review_assignments).values(
        case_id=event.case_id, reviewer_id=event.reviewer_id, reviewer_name=event.reviewer_name,
        reviewer_institution_id=event.reviewer_institution_id, years_of_practice=event.years_of_practice,
        given_at=event.given_at,
    ))


async def _record_result(
    conn: AsyncConnection, *, evaluation_id: str, case_id: str, case_number: str, case_kind: str,
    agency_id: str, handler: HandlerRef, standard: str, standard_version: str, indicators: dict[str, Grade],
    grade: Grade, rule_version: str, reviewer_id: str, reviewer_institution_id: str, findings: str,
    completed_at: datetime, points: dict[str, Decimal] | None, total_points: Decimal | None,
    not_done: list[str], late_file: bool, version: int,
) -> None:
    """A case's final result joins the evaluations (the list, the quality record, the rates, the
    corrections) and the case leaves the awaiting list: the one writer of the evaluations table, for
    a single reviewer's evaluation and a round panel's final result alike (every column named)."""
    h = handler
    await conn.execute(insert(evaluations).values(
        evaluation_id=evaluation_id, case_id=case_id, case_number=case_number, case_kind=case_kind,
        agency_id=agency_id, handler_id=h.handler_id, handler_name=h.name, handler_kind=h.kind,
        licence_number=h.licence_number, institution_id=h.institution_id, institution_name=h.institution_name,
        standard=standard, standard_version=standard_version,
        indicators={key: Grade(g).value for key, g in indicators.items()}, grade=grade,
        rule_version=rule_version, reviewer_id=reviewer_id, reviewer_institution_id=reviewer_institution_id,
        findings=findings, completed_at=completed_at, version=version,
        points={k: str(v) for k, v in points.items()} if points is not None else None,
        total_points=total_points, not_done=list(not_done), late_file=late_file,
    ))
    await conn.execute(
        update(closed_cases).where(closed_cases.c.case_id == case_id).values(evaluation_id=evaluation_id)
    )


def _completed(event: EvaluationCompleted, at: Recorded) -> dict[str, Any]:
    """A completed evaluation's result row, as the live fold and its in-memory twin write it."""
    return dict(
        evaluation_id=event.evaluation_id, case_id=event.case_id, case_number=event.case_number,
        case_kind=event.case_kind, agency_id=event.agency_id, handler=event.handler, standard=event.standard,
        # A result recorded before versions was graded under version 1 of its kind's standard.
        standard_version=event.standard_version or seed_for(event.case_kind).version,
        indicators=event.indicators, grade=event.grade, rule_version=event.rule_version,
        reviewer_id=event.reviewer_id, reviewer_institution_id=event.reviewer_institution_id,
        findings=event.findings, completed_at=event.completed_at, points=event.points,
        total_points=event.total_points, not_done=event.not_done, late_file=event.late_file,
        version=at.version,
    )


@projection.on(EvaluationCompleted)
async def evaluation_completed(conn: AsyncConnection, event: EvaluationCompleted, at: Recorded) -> None:
    """The evaluation joins the list, and its case leaves the awaiting list."""
    await _record_result(conn, **_completed(event, at))


# --- subsidies ------------------------------------------------------------------------------


@projection.on(ScheduleVersionPublished)
async def schedule_version_published(conn: AsyncConnection, event: ScheduleVersionPublished,
                                     at: Recorded) -> None:
    await conn.execute(insert(schedule_versions).values(
        agency_id=event.agency_id, version=event.version, number=event.number,
        effective_from=event.terms.effective_from, terms=event.terms.model_dump(mode="json"),
        published_by=event.published_by, published_at=event.published_at,
    ))


def _subsidy(case_id: str) -> Any:
    return update(subsidies).where(subsidies.c.case_id == case_id)


@projection.on(SubsidyComputed)
async def subsidy_computed(conn: AsyncConnection, event: SubsidyComputed, at: Recorded) -> None:
    h = event.handler
    await conn.execute(insert(subsidies).values(
        case_id=event.case_id, case_number=event.case_number, case_kind=event.case_kind,
        agency_id=event.agency_id, handler_id=h.handler_id, handler_name=h.name, handler_kind=h.kind,
        licence_number=h.licence_number, institution_id=h.institution_id, institution_name=h.institution_name,
        stage=event.stage, group_case=event.group_case, schedule_version=event.schedule_version,
        lines=[line.model_dump(mode="json") for line in event.lines], computed_amount=event.amount,
        amount=event.amount, status=SubsidyStatus.computed, signed_off_by=event.signed_off_by,
        signed_off_at=event.signed_off_at, computed_at=event.computed_at, version=at.version,
    ))


@projection.on(SubsidyApproved)
async def subsidy_approved(conn: AsyncConnection, event: SubsidyApproved, at: Recorded) -> None:
    await conn.execute(_subsidy(event.case_id).values(
        status=SubsidyStatus.approved, approved_by=event.approved_by, approved_at=event.approved_at,
        version=at.version))


@projection.on(SubsidyPaid)
async def subsidy_paid(conn: AsyncConnection, event: SubsidyPaid, at: Recorded) -> None:
    await conn.execute(_subsidy(event.case_id).values(
        status=SubsidyStatus.paid, paid_on=event.paid_on, payment_reference=event.payment_reference,
        paid_at=event.recorded_at, version=at.version))


@projection.on(SubsidyWithheld)
async def subsidy_withheld(conn: AsyncConnection, event: SubsidyWithheld, at: Recorded) -> None:
    await conn.execute(_subsidy(event.case_id).values(
        status=SubsidyStatus.withheld, failed_evaluation_id=event.evaluation_id, adjustment="withheld",
        rule_applied=event.rule_applied, version=at.version))


@projection.on(SubsidyReduced)
async def subsidy_reduced(conn: AsyncConnection, event: SubsidyReduced, at: Recorded) -> None:
    await conn.execute(_subsidy(event.case_id).values(
        amount=event.amount, failed_evaluation_id=event.evaluation_id, adjustment="reduced",
        rule_applied=event.rule_applied, version=at.version))


@projection.on(SubsidyRecoveryOrdered)
async def subsidy_recovery_ordered(conn: AsyncConnection, event: SubsidyRecoveryOrdered,
                                   at: Recorded) -> None:
    await conn.execute(_subsidy(event.case_id).values(
        failed_evaluation_id=event.evaluation_id, adjustment="recovery_ordered",
        rule_applied=event.rule_applied, amount_to_recover=event.amount_to_recover, version=at.version))


# --- the expert pool, rounds and panels (R-EVL-4, R-EVL-6) --------------------------------------


@projection.on(ExpertRegistered, ExpertUpdated)
async def expert_recorded(conn: AsyncConnection, event: ExpertRegistered | ExpertUpdated,
                          at: Recorded) -> None:
    p = event.profile
    values = dict(
        name=p.name, licence_number=p.licence_number, practising_since=p.practising_since,
        fields=[f.value for f in p.fields], district=p.district, institution_id=p.institution_id,
        institution_name=p.institution_name, assigning_agencies=list(p.assigning_agencies),
        trained_on=[d.isoformat() for d in p.trained_on],
        disciplined_on=[d.isoformat() for d in p.disciplined_on],
        active=p.active, recorded_by=event.by, recorded_at=event.at, version=at.version,
    )
    await conn.execute(insert(experts).values(reviewer_id=event.reviewer_id, **values)
                       .on_conflict_do_update(index_elements=["reviewer_id"], set_=values))


@projection.on(RoundOpened)
async def round_opened(conn: AsyncConnection, event: RoundOpened, at: Recorded) -> None:
    await conn.execute(insert(rounds).values(
        round_id=event.round_id, agency_id=event.agency_id, period_from=event.period_from,
        period_to=event.period_to, opens_on=event.opens_on, draw_rule=event.draw_rule,
        sample_share=event.sample_share, seed=event.seed, readers=event.readers, panel_rule=event.panel_rule,
        grading_rule=event.grading_rule, status="open", opened_by=event.opened_by, opened_at=event.opened_at))


@projection.on(CasesDrawn)
async def cases_drawn(conn: AsyncConnection, event: CasesDrawn, at: Recorded) -> None:
    await conn.execute(update(rounds).where(rounds.c.round_id == event.round_id).values(
        candidates=event.candidates, candidates_digest=event.candidates_digest,
        previous_year_cases=event.previous_year_cases, sample_size=event.sample_size, drawn=len(event.drawn)))


@projection.on(RoundClosed)
async def round_closed(conn: AsyncConnection, event: RoundClosed, at: Recorded) -> None:
    await conn.execute(update(rounds).where(rounds.c.round_id == event.round_id)
                       .values(status="closed", closed_at=event.closed_at))


def _file(file_id: str) -> Any:
    return update(round_files).where(round_files.c.file_id == file_id)


@projection.on(FileDrawn)
async def file_drawn(conn: AsyncConnection, event: FileDrawn, at: Recorded) -> None:
    c, h = event.case, event.case.handler
    order = (await conn.execute(select(func.count()).select_from(round_files)
                                .where(round_files.c.round_id == event.round_id))).scalar_one()
    await conn.execute(insert(round_files).values(
        file_id=event.file_id, round_id=event.round_id, draw_order=order + 1, case_id=c.case_id,
        case_number=c.case_number, case_kind=c.case_kind, agency_id=c.agency_id, district=c.district,
        handler_id=h.handler_id, handler_name=h.name, institution_id=h.institution_id,
        institution_name=h.institution_name,
        standard_version=event.standard_version or seed_for(c.case_kind).version, stage="first",
        wanted=event.wanted, disputed=False, final=False, version=at.version))
    for rid in event.readers:
        await conn.execute(insert(file_readers).values(file_id=event.file_id, reviewer_id=rid, stage="first",
                                                       given_at=event.drawn_at, not_done=[], late_file=False))


@projection.on(ReadersAdded)
async def readers_added(conn: AsyncConnection, event: ReadersAdded, at: Recorded) -> None:
    await conn.execute(_file(event.file_id).values(stage=event.stage, wanted=event.wanted,
                                                   version=at.version))
    for rid in event.readers:
        await conn.execute(insert(file_readers).values(file_id=event.file_id, reviewer_id=rid,
                                                       stage=event.stage, given_at=event.at, not_done=[],
                                                       late_file=False))


@projection.on(FileRead)
async def file_read(conn: AsyncConnection, event: FileRead, at: Recorded) -> None:
    await conn.execute(update(file_readers).where(file_readers.c.file_id == event.file_id,
                                                  file_readers.c.reviewer_id == event.reviewer_id).values(
        grade=event.grade, indicators={k: g.value for k, g in event.indicators.items()},
        findings=event.findings, read_at=event.read_at,
        points={k: str(v) for k, v in event.points.items()} if event.points is not None else None,
        total_points=event.total_points, not_done=event.not_done, late_file=event.late_file))
    if event.stage == "first":
        await conn.execute(_file(event.file_id).where(round_files.c.first_grade.is_(None))
                           .values(first_grade=event.grade))
    await conn.execute(_file(event.file_id).values(version=at.version))


@projection.on(FileResultReached)
async def file_result_reached(conn: AsyncConnection, event: FileResultReached, at: Recorded) -> None:
    await conn.execute(_file(event.file_id).values(
        result_no=event.result_no, grade=event.grade,
        indicators={k: g.value for k, g in event.indicators.items()}, version=at.version))
    if event.result_no == 1:
        await conn.execute(_file(event.file_id).values(first_result=event.grade))


@projection.on(ResultDisputed)
async def result_disputed(conn: AsyncConnection, event: ResultDisputed, at: Recorded) -> None:
    await conn.execute(_file(event.file_id).values(disputed=True, version=at.version))


@projection.on(FileResultFinal)
async def file_result_final(conn: AsyncConnection, event: FileResultFinal, at: Recorded) -> None:
    """The final result is the case's evaluation: it joins the list and the quality record, and the
    case leaves the awaiting list (as a single reviewer's evaluation does)."""
    await conn.execute(_file(event.file_id).values(final=True, version=at.version))
    c = event.case
    reviewer = (await conn.execute(select(experts.c.institution_id)
                                   .where(experts.c.reviewer_id == event.reviewer_id))).scalar()
    await _record_result(
        conn, evaluation_id=event.file_id, case_id=c.case_id, case_number=c.case_number,
        case_kind=c.case_kind, agency_id=c.agency_id, handler=c.handler, standard=event.standard,
        standard_version=event.standard_version or seed_for(c.case_kind).version,
        indicators=event.indicators, grade=event.grade, rule_version=event.rule_version,
        reviewer_id=event.reviewer_id, reviewer_institution_id=reviewer or "", findings=event.findings,
        completed_at=event.final_at, points=event.points, total_points=event.total_points,
        not_done=event.not_done, late_file=event.late_file, version=at.version,
    )


# --- standards, grading rules, opinions, corrections (R-EVL-1, -2, -5, -7) -------------------


async def record_late_closing_file(conn: AsyncConnection, event: DeadlineMissed) -> None:
    """R-HDL-6 as intake's deadline sweep saw it: the case's closing file was not in on time (a
    points rule may fail such a case outright)."""
    if event.deadline != "closing_file":
        return
    await conn.execute(insert(late_closing_files).values(
        case_id=event.case_id, due_at=event.due_at, detected_at=event.detected_at,
    ).on_conflict_do_nothing(index_elements=["case_id"]))


@projection.on(StandardVersionRegistered)
async def standard_version_registered(conn: AsyncConnection, event: StandardVersionRegistered,
                                      at: Recorded) -> None:
    """Once per version: a rebuild leaves the table (it holds the migration's seed) and writes the
    registered versions again over the rows already there."""
    t = event.terms
    await conn.execute(insert(standard_versions).values(
        version=event.version, standard_id=event.standard_id, number=event.number, code=t.code, title=t.title,
        case_kinds=[k.value for k in event.case_kinds], effective_from=t.effective_from,
        indicators=[i.model_dump(mode="json") for i in t.indicators], registered_by=event.registered_by,
        registered_at=event.registered_at,
    ).on_conflict_do_nothing(index_elements=["version"]))


@projection.on(GradingRuleChosen)
async def grading_rule_chosen(conn: AsyncConnection, event: GradingRuleChosen, at: Recorded) -> None:
    await conn.execute(insert(grading_rule_choices).values(
        agency_id=event.agency_id, number=event.number, rule_version=event.rule_version, reason=event.reason,
        chosen_by=event.chosen_by, chosen_at=event.chosen_at,
    ))


@projection.on(OpinionGiven)
async def opinion_given(conn: AsyncConnection, event: OpinionGiven, at: Recorded) -> None:
    await conn.execute(insert(opinions).values(
        case_id=event.case_id, organ_id=event.organ_id, case_number=event.case_number,
        agency_id=event.agency_id, organ_kind=event.organ_kind, relation=event.relation,
        assessment=event.assessment, remarks=event.remarks, given_by=event.given_by, given_at=event.given_at,
    ))


@projection.on(CorrectionRequested)
async def correction_requested(conn: AsyncConnection, event: CorrectionRequested, at: Recorded) -> None:
    h = event.handler
    await conn.execute(insert(corrections).values(
        correction_id=event.correction_id, evaluation_id=event.evaluation_id, case_id=event.case_id,
        case_number=event.case_number, agency_id=event.agency_id, handler_id=h.handler_id,
        handler_name=h.name, handler_kind=h.kind, licence_number=h.licence_number,
        institution_id=h.institution_id, institution_name=h.institution_name, grade=event.grade,
        indicators=event.indicators, findings=event.findings, due_on=event.due_on,
        requested_at=event.requested_at,
    ))


@projection.on(CorrectionRecorded)
async def correction_recorded(conn: AsyncConnection, event: CorrectionRecorded, at: Recorded) -> None:
    await conn.execute(update(corrections).where(corrections.c.correction_id == event.correction_id).values(
        corrected_at=event.corrected_at, note=event.note, on_time=event.on_time))


# --- the in-memory twins (the batched rebuild, shared/projection.py) ----------------------------
# Each leaves `Rows` as its fold above leaves the tables (services/evaluation/tests/test_rebuild.py
# compares both rebuilds). Values are what the folds write: enums as their values, JSON as Python
# objects. The writes to tables a rebuild leaves (a case marked evaluated, a registered standard
# version) are queued with `rows.afterwards`, as the folds' own statements.


def _value(v: Any) -> Any:
    return v.value if isinstance(v, Enum) else v


def _grades(indicators: dict[str, Grade]) -> dict[str, str]:
    return {key: Grade(g).value for key, g in indicators.items()}


def _points(points: dict[str, Decimal] | None) -> dict[str, str] | None:
    return {k: str(v) for k, v in points.items()} if points is not None else None


# The fold's UPDATE, less the rows it would rewrite with the value they hold: the kept table
# already marks almost every case, and a rebuild need not leave a dead row version for each.
_CASE_EVALUATED = ("UPDATE closed_cases SET evaluation_id = $1 "
                   "WHERE case_id = $2 AND evaluation_id IS DISTINCT FROM $1")
_STANDARD_VERSION = (
    "INSERT INTO evaluation_standard_versions (version, standard_id, number, code, title, case_kinds, "
    "effective_from, indicators, registered_by, registered_at) "
    "VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8::text::jsonb, $9, $10) "
    "ON CONFLICT (version) DO NOTHING")


@projection.in_memory(ReviewerGiven)
def reviewer_given_row(rows: Rows, event: ReviewerGiven, at: Recorded) -> None:
    rows.insert(review_assignments, case_id=event.case_id, reviewer_id=event.reviewer_id,
                reviewer_name=event.reviewer_name, reviewer_institution_id=event.reviewer_institution_id,
                years_of_practice=event.years_of_practice, given_at=event.given_at)


def _result_row(
    rows: Rows, *, evaluation_id: str, case_id: str, case_number: str, case_kind: str, agency_id: str,
    handler: HandlerRef, standard: str, standard_version: str, indicators: dict[str, Grade], grade: Grade,
    rule_version: str, reviewer_id: str, reviewer_institution_id: str, findings: str, completed_at: datetime,
    points: dict[str, Decimal] | None, total_points: Decimal | None, not_done: list[str], late_file: bool,
    version: int,
) -> None:
    """`_record_result` in memory; the case marked evaluated in `closed_cases` (kept) afterwards."""
    h = handler
    rows.insert(evaluations, evaluation_id=evaluation_id, case_id=case_id, case_number=case_number,
                case_kind=_value(case_kind), agency_id=agency_id, handler_id=h.handler_id,
                handler_name=h.name, handler_kind=_value(h.kind), licence_number=h.licence_number,
                institution_id=h.institution_id, institution_name=h.institution_name, standard=standard,
                standard_version=standard_version,
                indicators=_grades(indicators), grade=Grade(grade).value, rule_version=rule_version,
                reviewer_id=reviewer_id, reviewer_institution_id=reviewer_institution_id, findings=findings,
                completed_at=completed_at, version=version, points=_points(points), total_points=total_points,
                not_done=list(not_done), late_file=late_file)
    rows.afterwards(_CASE_EVALUATED, evaluation_id, case_id)


@projection.in_memory(EvaluationCompleted)
def evaluation_completed_row(rows: Rows, event: EvaluationCompleted, at: Recorded) -> None:
    _result_row(rows, **_completed(event, at))


@projection.in_memory(ScheduleVersionPublished)
def schedule_version_published_row(rows: Rows, event: ScheduleVersionPublished, at: Recorded) -> None:
    rows.insert(schedule_versions, agency_id=event.agency_id, version=event.version, number=event.number,
                effective_from=event.terms.effective_from, terms=event.terms.model_dump(mode="json"),
                published_by=event.published_by, published_at=event.published_at)


@projection.in_memory(SubsidyComputed)
def subsidy_computed_row(rows: Rows, event: SubsidyComputed, at: Recorded) -> None:
    h = event.handler
    rows.insert(subsidies, case_id=event.case_id, case_number=event.case_number,
                case_kind=_value(event.case_kind), agency_id=event.agency_id, handler_id=h.handler_id,
                handler_name=h.name, handler_kind=_value(h.kind), licence_number=h.licence_number,
                institution_id=h.institution_id, institution_name=h.institution_name, stage=event.stage,
                group_case=event.group_case, schedule_version=event.schedule_version,
                lines=[line.model_dump(mode="json") for line in event.lines], computed_amount=event.amount,
                amount=event.amount, status=SubsidyStatus.computed.value, signed_off_by=event.signed_off_by,
                signed_off_at=event.signed_off_at, computed_at=event.computed_at, version=at.version)


@projection.in_memory(SubsidyApproved)
def subsidy_approved_row(rows: Rows, event: SubsidyApproved, at: Recorded) -> None:
    rows.update(subsidies, event.case_id, status=SubsidyStatus.approved.value, approved_by=event.approved_by,
                approved_at=event.approved_at, version=at.version)


@projection.in_memory(SubsidyPaid)
def subsidy_paid_row(rows: Rows, event: SubsidyPaid, at: Recorded) -> None:
    rows.update(subsidies, event.case_id, status=SubsidyStatus.paid.value, paid_on=event.paid_on,
                payment_reference=event.payment_reference, paid_at=event.recorded_at, version=at.version)


@projection.in_memory(SubsidyWithheld)
def subsidy_withheld_row(rows: Rows, event: SubsidyWithheld, at: Recorded) -> None:
    rows.update(subsidies, event.case_id, status=SubsidyStatus.withheld.value,
                failed_evaluation_id=event.evaluation_id, adjustment="withheld",
                rule_applied=event.rule_applied, version=at.version)


@projection.in_memory(SubsidyReduced)
def subsidy_reduced_row(rows: Rows, event: SubsidyReduced, at: Recorded) -> None:
    rows.update(subsidies, event.case_id, amount=event.amount, failed_evaluation_id=event.evaluation_id,
                adjustment="reduced", rule_applied=event.rule_applied, version=at.version)


@projection.in_memory(SubsidyRecoveryOrdered)
def subsidy_recovery_ordered_row(rows: Rows, event: SubsidyRecoveryOrdered, at: Recorded) -> None:
    rows.update(subsidies, event.case_id, failed_evaluation_id=event.evaluation_id,
                adjustment="recovery_ordered", rule_applied=event.rule_applied,
                amount_to_recover=event.amount_to_recover, version=at.version)


@projection.in_memory(ExpertRegistered, ExpertUpdated)
def expert_recorded_row(rows: Rows, event: ExpertRegistered | ExpertUpdated, at: Recorded) -> None:
    p = event.profile
    values = dict(
        name=p.name, licence_number=p.licence_number, practising_since=p.practising_since,
        fields=[f.value for f in p.fields], district=p.district, institution_id=p.institution_id,
        institution_name=p.institution_name, assigning_agencies=list(p.assigning_agencies),
        trained_on=[d.isoformat() for d in p.trained_on],
        disciplined_on=[d.isoformat() for d in p.disciplined_on],
        active=p.active, recorded_by=event.by, recorded_at=event.at, version=at.version,
    )
    rows.upsert(experts, {"reviewer_id": event.reviewer_id, **values}, values)


@projection.in_memory(RoundOpened)
def round_opened_row(rows: Rows, event: RoundOpened, at: Recorded) -> None:
    rows.insert(rounds, round_id=event.round_id, agency_id=event.agency_id, period_from=event.period_from,
                period_to=event.period_to, opens_on=event.opens_on, draw_rule=_value(event.draw_rule),
                sample_share=event.sample_share, seed=event.seed, readers=_value(event.readers),
                panel_rule=event.panel_rule, grading_rule=event.grading_rule, status="open",
                opened_by=event.opened_by, opened_at=event.opened_at)


@projection.in_memory(CasesDrawn)
def cases_drawn_row(rows: Rows, event: CasesDrawn, at: Recorded) -> None:
    rows.update(rounds, event.round_id, candidates=event.candidates,
                candidates_digest=event.candidates_digest, previous_year_cases=event.previous_year_cases,
                sample_size=event.sample_size, drawn=len(event.drawn))


@projection.in_memory(RoundClosed)
def round_closed_row(rows: Rows, event: RoundClosed, at: Recorded) -> None:
    rows.update(rounds, event.round_id, status="closed", closed_at=event.closed_at)


def _reader_row(rows: Rows, file_id: str, reviewer_id: str, stage: str, given_at: datetime) -> None:
    rows.insert(file_readers, file_id=file_id, reviewer_id=reviewer_id, stage=stage, given_at=given_at,
                not_done=[], late_file=False)


@projection.in_memory(FileDrawn)
def file_drawn_row(rows: Rows, event: FileDrawn, at: Recorded) -> None:
    c, h = event.case, event.case.handler
    # The fold counts the round's files already drawn; here a count per round, kept beside the rows.
    drawn = rows.memo.setdefault(round_files, {})
    order = drawn[event.round_id] = drawn.get(event.round_id, 0) + 1
    rows.insert(round_files, file_id=event.file_id, round_id=event.round_id, draw_order=order,
                case_id=c.case_id, case_number=c.case_number, case_kind=_value(c.case_kind),
                agency_id=c.agency_id, district=c.district, handler_id=h.handler_id, handler_name=h.name,
                institution_id=h.institution_id, institution_name=h.institution_name,
                standard_version=event.standard_version or seed_for(c.case_kind).version, stage="first",
                wanted=event.wanted, disputed=False, final=False, version=at.version)
    for rid in event.readers:
        _reader_row(rows, event.file_id, rid, "first", event.drawn_at)


@projection.in_memory(ReadersAdded)
def readers_added_row(rows: Rows, event: ReadersAdded, at: Recorded) -> None:
    rows.update(round_files, event.file_id, stage=event.stage, wanted=event.wanted, version=at.version)
    for rid in event.readers:
        _reader_row(rows, event.file_id, rid, event.stage, event.at)


@projection.in_memory(FileRead)
def file_read_row(rows: Rows, event: FileRead, at: Recorded) -> None:
    rows.update(file_readers, event.file_id, event.reviewer_id, grade=Grade(event.grade).value,
                indicators=_grades(event.indicators), findings=event.findings, read_at=event.read_at,
                points=_points(event.points), total_points=event.total_points, not_done=list(event.not_done),
                late_file=event.late_file)
    file = rows.get(round_files, event.file_id)
    if file is None:
        return
    if event.stage == "first" and file.get("first_grade") is None:
        file["first_grade"] = Grade(event.grade).value
    file["version"] = at.version


@projection.in_memory(FileResultReached)
def file_result_reached_row(rows: Rows, event: FileResultReached, at: Recorded) -> None:
    values: dict[str, Any] = dict(result_no=event.result_no, grade=Grade(event.grade).value,
                                  indicators=_grades(event.indicators), version=at.version)
    if event.result_no == 1:
        values["first_result"] = Grade(event.grade).value
    rows.update(round_files, event.file_id, **values)


@projection.in_memory(ResultDisputed)
def result_disputed_row(rows: Rows, event: ResultDisputed, at: Recorded) -> None:
    rows.update(round_files, event.file_id, disputed=True, version=at.version)


@projection.in_memory(FileResultFinal)
def file_result_final_row(rows: Rows, event: FileResultFinal, at: Recorded) -> None:
    rows.update(round_files, event.file_id, final=True, version=at.version)
    c = event.case
    reviewer = rows.get(experts, event.reviewer_id)
    _result_row(
        rows, evaluation_id=event.file_id, case_id=c.case_id, case_number=c.case_number,
        case_kind=c.case_kind, agency_id=c.agency_id, handler=c.handler, standard=event.standard,
        standard_version=event.standard_version or seed_for(c.case_kind).version,
        indicators=event.indicators, grade=event.grade, rule_version=event.rule_version,
        reviewer_id=event.reviewer_id, reviewer_institution_id=(reviewer or {}).get("institution_id") or "",
        findings=event.findings, completed_at=event.final_at, points=event.points,
        total_points=event.total_points, not_done=event.not_done, late_file=event.late_file,
        version=at.version,
    )


@projection.in_memory(StandardVersionRegistered)
def standard_version_registered_row(rows: Rows, event: StandardVersionRegistered, at: Recorded) -> None:
    t = event.terms
    rows.afterwards(_STANDARD_VERSION, event.version, event.standard_id, event.number, t.code, t.title,
                    json.dumps([k.value for k in event.case_kinds]), t.effective_from,
                    json.dumps([i.model_dump(mode="json") for i in t.indicators], ensure_ascii=False),
                    event.registered_by, event.registered_at)


@projection.in_memory(GradingRuleChosen)
def grading_rule_chosen_row(rows: Rows, event: GradingRuleChosen, at: Recorded) -> None:
    rows.insert(grading_rule_choices, agency_id=event.agency_id, number=event.number,
                rule_version=event.rule_version, reason=event.reason, chosen_by=event.chosen_by,
                chosen_at=event.chosen_at)


@projection.in_memory(OpinionGiven)
def opinion_given_row(rows: Rows, event: OpinionGiven, at: Recorded) -> None:
    rows.insert(opinions, case_id=event.case_id, organ_id=event.organ_id, case_number=event.case_number,
                agency_id=event.agency_id, organ_kind=_value(event.organ_kind),
                relation=_value(event.relation), assessment=_value(event.assessment), remarks=event.remarks,
                given_by=event.given_by, given_at=event.given_at)


@projection.in_memory(CorrectionRequested)
def correction_requested_row(rows: Rows, event: CorrectionRequested, at: Recorded) -> None:
    h = event.handler
    rows.insert(corrections, correction_id=event.correction_id, evaluation_id=event.evaluation_id,
                case_id=event.case_id, case_number=event.case_number, agency_id=event.agency_id,
                handler_id=h.handler_id, handler_name=h.name, handler_kind=_value(h.kind),
                licence_number=h.licence_number, institution_id=h.institution_id,
                institution_name=h.institution_name, grade=Grade(event.grade).value,
                indicators=list(event.indicators), findings=event.findings, due_on=event.due_on,
                requested_at=event.requested_at)


@projection.in_memory(CorrectionRecorded)
def correction_recorded_row(rows: Rows, event: CorrectionRecorded, at: Recorded) -> None:
    rows.update(corrections, event.correction_id, corrected_at=event.corrected_at, note=event.note,
                on_time=event.on_time)
