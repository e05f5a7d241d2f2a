"""Evaluation's reads: the closed cases awaiting evaluation, the reviewers a case was given to,
the completed evaluations and a case's quality record (R-EVL-5), case subsidies and the agencies'
schedule versions, as typed read models; and what a command decides on (the closed case, the
case's registration).

Who may read what (docs/evaluation.md) is decided here, by who is asking: a peer reviewer reads
only the cases given to them and the evaluations they made, a case handler only the evaluations
and quality records of their own cases; the agency's roles (staff, quality lead, finance) only
their own agency's records, a district's bureau those of the cases closed in its district
(docs/security.md "Scoping"). Anything outside a scoped caller's scope is a 404 (or left out of a
list), so that they do not learn the case exists. A scoped caller whose token lacks its scoping
claim reads nothing."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.evaluation.domain import (
    GRADING_RULES,
    INDICATORS,
    SEED,
    SEED_VERSION,
    STANDARD_OF_KIND,
    AppliedLine,
    Assessment,
    ClosedCase,
    GradeCounts,
    OpinionCase,
    OrganKind,
    OrganRelation,
    RateTargets,
    ScheduleTerms,
    StandardTerms,
    StandardVersion,
    SubsidyStatus,
)
from services.evaluation.domain.agreement import fleiss_kappa
from services.evaluation.domain.panel import DrawnCase
from services.evaluation.domain.pool import ExpertProfile, PracticeField
from services.evaluation.domain.rates import period_bounds
from services.evaluation.domain.round import DrawRule, Readers
from services.evaluation.projections import (
    closed_cases,
    corrections,
    evaluations,
    experts,
    file_readers,
    follow_ups,
    grading_rule_choices,
    late_closing_files,
    opinions,
    registered_cases,
    review_assignments,
    round_files,
    rounds,
    schedule_versions,
    standard_versions,
    subsidies,
)
from shared import clock
from shared.aggregate import NotFound
from shared.auth import EVERY_AGENCY, AgencyScope, Principal, Role, agency_scope
from shared.contracts import CaseKind, Grade, HandlerRef
from shared.paging import Page, paginate

# --- the read models ------------------------------------------------------------------------


class ReviewerView(BaseModel):
    reviewer_id: str
    name: str
    institution_id: str
    years_of_practice: int
    given_at: datetime


class CaseReviewers(BaseModel):
    case_id: str
    reviewers: list[ReviewerView] = Field(description="Who the case was given to, first given first")


class FollowUpView(BaseModel):
    """回访: what the aided person answered (their words stay in intake)."""

    visited_on: date
    channel: str = Field(description="visit, phone or online")
    satisfaction: str = Field(description="satisfied, basically_satisfied or dissatisfied")


class QualityDimensions(BaseModel):
    """R-EVL-5: dimensions of the case's quality beside the peer evaluation."""

    satisfaction: str | None = Field(default=None,
                                     description="The aided person's answer at the latest follow-up")
    follow_ups: list[FollowUpView] = Field(default_factory=list, description="Every follow-up, oldest first")


class EvaluationView(QualityDimensions):
    evaluation_id: str
    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    standard: str
    indicators: dict[str, Grade]
    grade: Grade
    rule_version: str
    reviewer_id: str
    reviewer_institution_id: str
    findings: str
    completed_at: datetime
    standard_version: str = Field(description="The version of the standard it was graded under (R-EVL-1)")
    points: dict[str, Decimal] | None = Field(default=None, description="Points per indicator, under a "
                                              "points rule")
    total_points: Decimal | None = None
    not_done: list[str] = Field(default_factory=list, description="Veto items not done at all")
    late_file: bool = Field(default=False, description="The closing file was archived late")


class AwaitingCaseView(QualityDimensions):
    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    closed_at: datetime


class OpinionView(BaseModel):
    """An organ's opinion of the handler's work (R-EVL-5)."""

    organ_id: str = Field(description="The police, procuratorate or court (its system's id)")
    organ_kind: OrganKind
    relation: OrganRelation = Field(description="It notified the case, or heard it")
    assessment: Assessment
    remarks: str
    given_at: datetime


class PanelReadingView(BaseModel):
    """One expert's reading of a round's file, as graded (grading.grade_case)."""

    reviewer_id: str
    stage: str = Field(description="first, re-read or re-review")
    grade: Grade
    indicators: dict[str, Grade]
    points: dict[str, Decimal] | None = None
    total_points: Decimal | None = None
    not_done: list[str] = Field(default_factory=list)
    late_file: bool = False
    findings: str
    read_at: datetime


class PanelView(BaseModel):
    """The panel whose final result is the case's evaluation (R-EVL-6)."""

    round_id: str
    file_id: str = Field(description="The file's id: the evaluation's id")
    result_no: int = Field(description="Which result is final (2 after a dispute's re-review)")
    disputed: bool
    readings: list[PanelReadingView] = Field(description="Every reading, first read first (a disputed "
                                             "result's readings too: only the final result counts)")


class QualityRecordView(QualityDimensions):
    """The case's quality record as evaluation knows it."""

    case_id: str
    awaiting_evaluation: bool = Field(description="Closed and not yet evaluated")
    evaluation: EvaluationView | None = Field(default=None, description="The case's final result: a single "
                                              "reviewer's evaluation, or a round panel's final result")
    panel: PanelView | None = Field(default=None, description="When the final result is a panel's: the "
                                    "panel and its readings")
    opinions: list[OpinionView] = Field(default_factory=list, description="The organs' opinions of the "
                                        "handler's work, oldest first (R-EVL-5)")


# --- rows -> read models --------------------------------------------------------------------

Row = Mapping[Any, Any]  # a row read by name (a RowMapping, or a dict of one)
FollowUps = dict[str, list[dict[str, Any]]]


def _handler(row: Row) -> HandlerRef:
    return HandlerRef(handler_id=row["handler_id"], name=row["handler_name"], kind=row["handler_kind"],
                      licence_number=row["licence_number"], institution_id=row["institution_id"],
                      institution_name=row["institution_name"])


def _dimensions(found: list[dict[str, Any]] | None) -> dict[str, Any]:
    found = found or []
    return {"satisfaction": found[-1]["satisfaction"] if found else None,
            "follow_ups": [FollowUpView.model_validate(f) for f in found]}


def _evaluation(row: Row, found: list[dict[str, Any]] | None = None) -> EvaluationView:
    return EvaluationView.model_validate({**row, "handler": _handler(row), **_dimensions(found)})


def _awaiting(row: Row, found: list[dict[str, Any]] | None) -> AwaitingCaseView:
    return AwaitingCaseView.model_validate({**row, "handler": _handler(row), **_dimensions(found)})


def _reviewer(row: Row) -> ReviewerView:
    return ReviewerView(reviewer_id=row["reviewer_id"], name=row["reviewer_name"],
                        institution_id=row["reviewer_institution_id"],
                        years_of_practice=row["years_of_practice"], given_at=row["given_at"])


async def _follow_ups_of(conn: AsyncConnection, case_ids: Iterable[str]) -> FollowUps:
    """The follow-ups of these cases, oldest first."""
    rows = (await conn.execute(select(follow_ups).where(follow_ups.c.case_id.in_(list(case_ids)))
                               .order_by(follow_ups.c.visited_on, follow_ups.c.recorded_at))).mappings().all()
    found: FollowUps = {}
    for row in rows:
        found.setdefault(row["case_id"], []).append(dict(row))
    return found


# --- who is asking --------------------------------------------------------------------------

# Roles scoped by their own claims (the cases given to a reviewer, a handler's own cases), not by
# agency: their reads are narrowed by _evaluations_seen_by and _closed_cases_seen_by instead.
_SELF_SCOPED = frozenset({Role.peer_reviewer, Role.case_handler})


def scope(asking: Principal) -> AgencyScope:
    """The agencies whose records the caller reads and acts on here (shared.auth.agency_scope): of
    the roles it acts in, the agency and bureau roles and the auditor decide; a reviewer or a
    handler (alone) is scoped by its own claims, and as a second role widens nothing."""
    if asking.role in _SELF_SCOPED:
        return EVERY_AGENCY
    return agency_scope(replace(asking, acting=asking.acting - _SELF_SCOPED))


def _closed_in(district: str, case_id: Any) -> ColumnElement[bool]:
    """The case closed in this district (the district of a case is the one its closure named)."""
    return exists().where(closed_cases.c.case_id == case_id, closed_cases.c.district == district)


def _of_scope(within: AgencyScope, agency_id: Any, case_id: Any) -> list[ColumnElement[bool]]:
    """Rows whose agency (`agency_id`) or case (`case_id`, by its closure's district) the scope
    admits; a district's bureau sees nothing of a case whose closure evaluation has not heard of."""
    if within.agency_id is not None:
        return [agency_id == within.agency_id]
    if within.district is not None:
        return [_closed_in(within.district, case_id)]
    return []


def _case_of_scope(within: AgencyScope, case_id: Any) -> list[ColumnElement[bool]]:
    """The case (by id) is one of the scope's agencies: by its closure, or, for one agency, by its
    registration or evaluation (a case given, then terminated, is known by its registration)."""
    if within.agency_id is not None:
        return [or_(*(exists().where(t.c.case_id == case_id, t.c.agency_id == within.agency_id)
                      for t in (closed_cases, registered_cases, evaluations)))]
    if within.district is not None:
        return [_closed_in(within.district, case_id)]
    return []


def _given_to(reviewer_id: str | None, case_id: Any = closed_cases.c.case_id) -> ColumnElement[bool]:
    """The case was given to this reviewer (never true without a reviewer id)."""
    return exists().where(review_assignments.c.case_id == case_id,
                          review_assignments.c.reviewer_id == (reviewer_id or ""))


def _evaluations_seen_by(asking: Principal) -> list[ColumnElement[bool]]:
    """The evaluations a scoped caller may read, whatever they ask for."""
    if asking.role is Role.peer_reviewer:
        return [evaluations.c.reviewer_id == (asking.reviewer_id or "")]
    if asking.role is Role.case_handler:
        return [evaluations.c.handler_id == (asking.handler_id or "")]
    return _of_scope(scope(asking), evaluations.c.agency_id, evaluations.c.case_id)


def _closed_cases_seen_by(asking: Principal) -> list[ColumnElement[bool]]:
    """The closed cases a scoped caller may read: a reviewer those given to them, a handler their
    own (the awaiting list admits no handler today; the scope holds should one be admitted)."""
    if asking.role is Role.peer_reviewer:
        return [_given_to(asking.reviewer_id)]
    if asking.role is Role.case_handler:
        return [closed_cases.c.handler_id == (asking.handler_id or "")]
    return _closed_cases_within(scope(asking))


def _closed_cases_within(within: AgencyScope) -> list[ColumnElement[bool]]:
    if within.agency_id is not None:
        return [closed_cases.c.agency_id == within.agency_id]
    if within.district is not None:
        return [closed_cases.c.district == within.district]
    return []


async def _may_read_case(conn: AsyncConnection, asking: Principal, case_id: str,
                         handler_ids: set[str]) -> bool:
    """Whether the caller may read this case's quality record: a reviewer if the case was given
    to them, a handler if the case was theirs (`handler_ids`: who it closed or was graded with)."""
    if asking.role is Role.peer_reviewer:
        return bool((await conn.execute(select(_given_to(asking.reviewer_id, case_id)))).scalar())
    if asking.role is Role.case_handler:
        return asking.handler_id is not None and asking.handler_id in handler_ids
    within = _case_of_scope(scope(asking), case_id)
    return not within or bool((await conn.execute(select(*within))).scalar())


# --- the reads ------------------------------------------------------------------------------


async def cases_awaiting_evaluation(engine: AsyncEngine, *, asking: Principal, offset: int, limit: int
                                    ) -> Page[AwaitingCaseView]:
    """Closed cases not yet evaluated, oldest closure first, each with the aided person's
    satisfaction so far; a terminated case is never among them (projections.record_termination)."""
    query = (select(closed_cases)
             .where(closed_cases.c.evaluation_id.is_(None), *_closed_cases_seen_by(asking))
             .order_by(closed_cases.c.closed_at, closed_cases.c.case_id))
    async with engine.connect() as conn:
        page = await paginate(conn, query, offset=offset, limit=limit, item=dict)
        found = await _follow_ups_of(conn, [r["case_id"] for r in page.items])
    return Page[AwaitingCaseView](items=[_awaiting(r, found.get(r["case_id"])) for r in page.items],
                                  total=page.total, offset=offset, limit=limit)


async def read_case_reviewers(conn: AsyncConnection, case_id: str,
                              within: AgencyScope = EVERY_AGENCY) -> CaseReviewers:
    """The reviewers a case was given to, first given first; NotFound when the case is neither
    closed and known here nor given to anyone (a case given and later terminated keeps its reviewers),
    or is not of the agencies `within`."""
    in_scope = _case_of_scope(within, case_id)
    if in_scope and not (await conn.execute(select(*in_scope))).scalar():
        raise NotFound(f"evaluation knows no closed case {case_id}")
    rows: Sequence[Row] = (await conn.execute(
        select(review_assignments).where(review_assignments.c.case_id == case_id)
        .order_by(review_assignments.c.given_at, review_assignments.c.reviewer_id)
    )).mappings().all()
    known = rows or (await conn.execute(select(exists().where(closed_cases.c.case_id == case_id)))).scalar()
    if not known:
        raise NotFound(f"evaluation knows no closed case {case_id}")
    return CaseReviewers(case_id=case_id, reviewers=[_reviewer(r) for r in rows])


async def case_reviewers(engine: AsyncEngine, case_id: str, *, asking: Principal) -> CaseReviewers:
    async with engine.connect() as conn:
        return await read_case_reviewers(conn, case_id, scope(asking))


async def _read_evaluation(conn: AsyncConnection, evaluation_id: str,
                           seen_by: Sequence[ColumnElement[bool]]) -> EvaluationView:
    row = (await conn.execute(
        select(evaluations).where(evaluations.c.evaluation_id == evaluation_id, *seen_by)
    )).mappings().first()
    if row is None:
        raise NotFound(f"no evaluation {evaluation_id}")
    found = await _follow_ups_of(conn, [row["case_id"]])
    return _evaluation(row, found.get(row["case_id"]))


async def read_evaluation(conn: AsyncConnection, evaluation_id: str) -> EvaluationView:
    """An evaluation as the command that completed it shows it to its reviewer (no scope: the
    command checked the case was given to them)."""
    return await _read_evaluation(conn, evaluation_id, [])


async def evaluation(engine: AsyncEngine, evaluation_id: str, *, asking: Principal) -> EvaluationView:
    """One evaluation with the aided person's satisfaction at follow-ups (R-EVL-5)."""
    async with engine.connect() as conn:
        return await _read_evaluation(conn, evaluation_id, _evaluations_seen_by(asking))


async def evaluations_list(engine: AsyncEngine, *, asking: Principal, case_id: str | None,
                           grade: Grade | None, offset: int, limit: int) -> Page[EvaluationView]:
    """Completed evaluations, newest first, each with the aided person's satisfaction."""
    where = [c for c in (evaluations.c.case_id == case_id if case_id else None,
                         evaluations.c.grade == grade if grade else None) if c is not None]
    query = (select(evaluations).where(*where, *_evaluations_seen_by(asking))
             .order_by(evaluations.c.completed_at.desc(), evaluations.c.evaluation_id))
    async with engine.connect() as conn:
        page = await paginate(conn, query, offset=offset, limit=limit, item=dict)
        found = await _follow_ups_of(conn, [r["case_id"] for r in page.items])
    return Page[EvaluationView](items=[_evaluation(r, found.get(r["case_id"])) for r in page.items],
                                total=page.total, offset=offset, limit=limit)


async def quality_record(engine: AsyncEngine, case_id: str, *, asking: Principal) -> QualityRecordView:
    """The case's quality record: its peer evaluation (if graded) and the aided person's
    satisfaction at each follow-up (R-EVL-5)."""
    async with engine.connect() as conn:
        closed = (await conn.execute(select(closed_cases).where(closed_cases.c.case_id == case_id))
                  ).mappings().first()
        graded = (await conn.execute(select(evaluations).where(evaluations.c.case_id == case_id))
                  ).mappings().first()
        found = (await _follow_ups_of(conn, [case_id])).get(case_id)
        given = await _opinions_of(conn, case_id)
        panel = await _final_panel(conn, graded["evaluation_id"]) if graded is not None else None
        in_scope = await _may_read_case(conn, asking, case_id,
                                        {r["handler_id"] for r in (closed, graded) if r is not None})
    if not in_scope or (closed is None and graded is None and not found and not given):
        raise NotFound(f"evaluation knows nothing of case {case_id}")
    return QualityRecordView(case_id=case_id, awaiting_evaluation=closed is not None and graded is None,
                             evaluation=_evaluation(graded, found) if graded else None, panel=panel,
                             opinions=given, **_dimensions(found))


async def _final_panel(conn: AsyncConnection, evaluation_id: str) -> PanelView | None:
    """The panel whose final result this evaluation is (its file's id), with every reading; None
    for a single reviewer's evaluation."""
    file = (await conn.execute(select(round_files).where(round_files.c.file_id == evaluation_id,
                                                         round_files.c.final.is_(True)))).mappings().first()
    if file is None:
        return None
    rows = (await conn.execute(
        select(file_readers)
        .where(file_readers.c.file_id == evaluation_id, file_readers.c.read_at.is_not(None))
        .order_by(file_readers.c.read_at, file_readers.c.reviewer_id))).mappings().all()
    return PanelView(round_id=file["round_id"], file_id=evaluation_id, result_no=file["result_no"],
                     disputed=file["disputed"],
                     readings=[PanelReadingView.model_validate(dict(r)) for r in rows])


# --- what a command decides on (handlers.py) ------------------------------------------------


async def closed_case_for_update(conn: AsyncConnection, case_id: str,
                                 within: AgencyScope = EVERY_AGENCY) -> ClosedCase | None:
    """The closed case, locked until the transaction ends: two reviewers grading the same case
    at once are serialised here, so the second sees the first's evaluation. None when evaluation
    knows no such closed case of the agencies `within`."""
    row = (await conn.execute(
        select(closed_cases).where(closed_cases.c.case_id == case_id, *_closed_cases_within(within))
        .with_for_update()
    )).mappings().first()
    if row is None:
        return None
    return ClosedCase(case_id=row["case_id"], case_number=row["case_number"], case_kind=row["case_kind"],
                      agency_id=row["agency_id"], closed_at=row["closed_at"],
                      evaluation_id=row["evaluation_id"], handler=_handler(row))


# --- subsidies (R-CHK-2, R-CHK-3, R-EVL-7) ----------------------------------------------------
#
# The agency's roles (finance, staff, quality lead) read the subsidies of their own agency (the
# token's agency_id), a district's bureau those of the cases closed in its district, the city
# bureau and the auditor every agency's.


class SubsidyView(BaseModel):
    """办案补贴: a case's subsidy, how it was computed, and what became of it."""

    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler: HandlerRef
    stage: str | None = Field(description="The criminal stage or matter the schedule line was chosen by")
    group_case: bool
    schedule_version: str = Field(description="The schedule version that computed the amount")
    lines: list[AppliedLine] = Field(description="How the amount was made")
    computed_amount: Decimal = Field(description="Yuan, as computed at the sign-off")
    amount: Decimal = Field(description="Yuan, to pay (after a reduction, if any)")
    status: SubsidyStatus
    signed_off_by: str
    signed_off_at: datetime
    computed_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    paid_on: date | None
    payment_reference: str | None
    paid_at: datetime | None
    failed_evaluation_id: str | None = Field(description="The failed peer evaluation applied (R-EVL-7)")
    adjustment: str | None = Field(description="withheld, reduced or recovery_ordered")
    rule_applied: str | None = Field(description="The agency's rule for a fail, as applied")
    amount_to_recover: Decimal | None


class ScheduleVersionView(BaseModel):
    agency_id: str
    version: str
    seed: bool = Field(description="The built-in Beijing examples (amounts to confirm), used until the "
                                   "agency publishes a version in effect")
    terms: ScheduleTerms
    published_by: str | None
    published_at: datetime | None


class ScheduleVersions(BaseModel):
    agency_id: str
    versions: list[ScheduleVersionView] = Field(description="The seed first, then by number")


class RegisteredCase(BaseModel):
    """What evaluation knows of a case's registration (intake's CaseRegistered)."""

    stage: str | None
    group_case: bool


def _subsidy_view(row: Row) -> SubsidyView:
    return SubsidyView.model_validate({**row, "handler": _handler(row)})


def _subsidies_seen_by(asking: Principal) -> list[ColumnElement[bool]]:
    return _of_scope(scope(asking), subsidies.c.agency_id, subsidies.c.case_id)


async def read_subsidy(conn: AsyncConnection, case_id: str) -> SubsidyView:
    """A case's subsidy as a command that changed it shows it (the command checked the agency)."""
    row = (await conn.execute(select(subsidies).where(subsidies.c.case_id == case_id))).mappings().first()
    if row is None:
        raise NotFound(f"no subsidy of case {case_id}")
    return _subsidy_view(row)


async def subsidy(engine: AsyncEngine, case_id: str, *, asking: Principal) -> SubsidyView:
    async with engine.connect() as conn:
        row = (await conn.execute(select(subsidies).where(subsidies.c.case_id == case_id,
                                                          *_subsidies_seen_by(asking)))).mappings().first()
    if row is None:
        raise NotFound(f"no subsidy of case {case_id}")
    return _subsidy_view(row)


async def subsidies_list(engine: AsyncEngine, *, asking: Principal, agency_id: str | None,
                         status: SubsidyStatus | None, offset: int, limit: int) -> Page[SubsidyView]:
    """Subsidies, newest computed first."""
    where = [c for c in (subsidies.c.agency_id == agency_id if agency_id else None,
                         subsidies.c.status == status if status else None) if c is not None]
    query = (select(subsidies).where(*where, *_subsidies_seen_by(asking))
             .order_by(subsidies.c.computed_at.desc(), subsidies.c.case_id))
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_subsidy_view)


async def schedule(engine: AsyncEngine, agency_id: str, *, asking: Principal) -> ScheduleVersions:
    """The agency's schedule versions, for its own agency's roles, the bureau of a district where
    the agency closed a case, the city bureau and the auditor; anyone else: not found."""
    within = scope(asking)
    async with engine.connect() as conn:
        if within.agency_id is not None and within.agency_id != agency_id:
            raise NotFound(f"no subsidy schedule of agency {agency_id}")
        in_district = within.district is None or (await conn.execute(select(exists().where(
            closed_cases.c.agency_id == agency_id, closed_cases.c.district == within.district)))).scalar()
        if not in_district:
            raise NotFound(f"no subsidy schedule of agency {agency_id}")
        return await read_schedule(conn, agency_id)


async def read_schedule(conn: AsyncConnection, agency_id: str) -> ScheduleVersions:
    """The agency's subsidy schedule versions: the seed, then each it published."""
    rows = (await conn.execute(select(schedule_versions).where(schedule_versions.c.agency_id == agency_id)
                               .order_by(schedule_versions.c.number))).mappings().all()
    seed = ScheduleVersionView(agency_id=agency_id, version=SEED_VERSION, seed=True, terms=SEED,
                               published_by=None, published_at=None)
    return ScheduleVersions(agency_id=agency_id, versions=[seed, *(
        ScheduleVersionView(agency_id=agency_id, version=r["version"], seed=False,
                            terms=ScheduleTerms.model_validate(r["terms"]), published_by=r["published_by"],
                            published_at=r["published_at"]) for r in rows)])


async def registered_case(conn: AsyncConnection, case_id: str) -> RegisteredCase | None:
    """The case's stage (criminal) or matter (civil, administrative) and group flag, as registered."""
    row = (await conn.execute(select(registered_cases).where(registered_cases.c.case_id == case_id))
           ).mappings().first()
    if row is None:
        return None
    return RegisteredCase(stage=row["criminal_stage"] or row["matter"], group_case=row["group_case"])


# --- the expert pool, rounds and panels (R-EVL-4, R-EVL-6) --------------------------------------
#
# The pool is read by the bureau, the agencies' roles and the auditor; a round, its files, its
# agreement and its bulletin by the agency's roles of its agency, a district's bureau for the
# agencies that closed cases in its district, the city bureau and the auditor. A peer reviewer
# reads only the files given to them, blind: nothing of the handler or their institution.


class ExpertView(BaseModel):
    reviewer_id: str
    name: str
    licence_number: str
    practising_since: date
    fields: list[PracticeField]
    district: str
    institution_id: str
    institution_name: str
    assigning_agencies: list[str]
    trained_on: list[date]
    disciplined_on: list[date]
    active: bool
    recorded_by: str
    recorded_at: datetime


class RoundView(BaseModel):
    round_id: str
    agency_id: str
    period_from: date
    period_to: date
    opens_on: date = Field(description="The day the round opens: experts are qualified as of it")
    draw_rule: DrawRule
    sample_share: Decimal
    seed: str = Field(description="The seed the draw and the allocation ran by (domain/round.py)")
    readers: Readers
    panel_rule: str
    grading_rule: str
    candidates: int | None = Field(description="Closed cases of the period the draw ran over")
    candidates_digest: str | None = Field(description="SHA-256 of the sorted candidate case ids")
    previous_year_cases: int | None
    sample_size: int | None
    drawn: int | None
    status: str = Field(description="open or closed")
    opened_by: str
    opened_at: datetime
    closed_at: datetime | None


class ReaderView(BaseModel):
    reviewer_id: str
    stage: str = Field(description="first, re-read or re-review")
    grade: Grade | None
    read_at: datetime | None


class RoundFileView(BaseModel):
    """A round's file as the agency and the bureau see it."""

    file_id: str
    round_id: str
    draw_order: int
    case_id: str
    case_number: str
    case_kind: CaseKind
    agency_id: str
    handler_id: str
    handler_name: str
    institution_id: str
    institution_name: str
    stage: str
    wanted: int = Field(description="Readers the current stage wants (fewer given: the pool was short)")
    first_grade: Grade | None
    result_no: int | None
    grade: Grade | None = Field(description="The panel's latest result")
    disputed: bool
    final: bool
    readers: list[ReaderView]


class ReviewFileView(BaseModel):
    """A file as its reader sees it: blind (nothing of the handler or their institution)."""

    file_id: str
    round_id: str
    case_id: str
    case_number: str
    case_kind: CaseKind
    standard: str
    standard_version: str = Field(description="The standard version the file is graded under "
                                  "(GET /api/v1/evaluation-standards/{version}: its items and points)")
    indicators: list[str] = Field(description="The indicators to grade")
    veto_items: list[str] = Field(description="The veto items a reading may list in `not_done`")
    rule_version: str = Field(description="The grading rule of the round (the agency's when it opened)")
    points_required: bool = Field(description="The rule grades by points: give `points` per indicator")
    stage: str
    my_grade: Grade | None = Field(description="The grade of your reading, once made")
    read_at: datetime | None


class AgreementView(BaseModel):
    round_id: str
    re_read_fails: int = Field(description="Files whose first reading failed and whose re-read panel decided")
    confirmed_fails: int = Field(description="Of them, those the panel's result failed")
    confirmed_share: float | None
    files_with_three_grades: int
    fleiss_kappa: float | None = Field(description="Over the files with three grades, on the four grades")


class ExcellentCase(BaseModel):
    case_number: str
    case_kind: CaseKind
    handler_name: str
    institution_name: str


class IndicatorProblems(BaseModel):
    indicator: str
    name: str
    fail: int
    pass_: int = Field(alias="pass")
    below_good: int


class BulletinView(BaseModel):
    """通报: a round's excellent cases and its most common problems by indicator (R-EVL-7)."""

    round_id: str
    agency_id: str
    period_from: date
    period_to: date
    final: bool = Field(description="The round is closed: the bulletin counts the files' final results, "
                        "the very evaluations the rates count; while open, the latest results so far")
    files: int
    graded: dict[str, int]
    excellent_cases: list[ExcellentCase]
    problems: list[IndicatorProblems] = Field(description="Indicators most often graded below good first")


def _expert_view(row: Row) -> ExpertView:
    return ExpertView.model_validate(dict(row))


async def read_expert(conn: AsyncConnection, reviewer_id: str) -> ExpertView:
    row = (await conn.execute(select(experts).where(experts.c.reviewer_id == reviewer_id))).mappings().first()
    if row is None:
        raise NotFound(f"no expert {reviewer_id} in the pool")
    return _expert_view(row)


async def expert(engine: AsyncEngine, reviewer_id: str) -> ExpertView:
    async with engine.connect() as conn:
        return await read_expert(conn, reviewer_id)


async def experts_list(engine: AsyncEngine, *, district: str | None, active: bool | None, offset: int,
                       limit: int) -> Page[ExpertView]:
    where = [c for c in (experts.c.district == district if district else None,
                         experts.c.active == active if active is not None else None) if c is not None]
    query = select(experts).where(*where).order_by(experts.c.reviewer_id)
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_expert_view)


async def expert_profiles(conn: AsyncConnection) -> dict[str, ExpertProfile]:
    """The whole pool, for the draw and the allocation."""
    rows = (await conn.execute(select(experts))).mappings().all()
    return {r["reviewer_id"]: ExpertProfile(
        name=r["name"], licence_number=r["licence_number"], practising_since=r["practising_since"],
        fields=tuple(r["fields"]), district=r["district"], institution_id=r["institution_id"],
        institution_name=r["institution_name"], assigning_agencies=tuple(r["assigning_agencies"]),
        trained_on=tuple(date.fromisoformat(d) for d in r["trained_on"]),
        disciplined_on=tuple(date.fromisoformat(d) for d in r["disciplined_on"]), active=r["active"],
    ) for r in rows}


def _beijing_day(column: Any) -> Any:
    return func.date(func.timezone("Asia/Shanghai", column))


async def round_candidates(conn: AsyncConnection, agency_id: str, period_from: date, period_to: date
                           ) -> dict[str, DrawnCase]:
    """Step 1 of the draw: the agency's closed cases of the period (Beijing days) without an
    evaluation, in no other round and not given to a reviewer by hand (POST .../reviewers), by case
    id. The rows stay locked until the round's transaction ends, as giving a case by hand locks its
    row (closed_case_for_update): after the lock, the cases given meanwhile are dropped, so a case
    is never both drawn and given."""
    rows = (await conn.execute(select(closed_cases).where(
        closed_cases.c.agency_id == agency_id, closed_cases.c.evaluation_id.is_(None),
        _beijing_day(closed_cases.c.closed_at) >= period_from,
        _beijing_day(closed_cases.c.closed_at) <= period_to,
        ~exists().where(round_files.c.case_id == closed_cases.c.case_id),
        ~exists().where(review_assignments.c.case_id == closed_cases.c.case_id),
    ).with_for_update())).mappings().all()
    given = set((await conn.execute(select(review_assignments.c.case_id).where(
        review_assignments.c.case_id.in_([r["case_id"] for r in rows])))).scalars())
    return {r["case_id"]: DrawnCase(case_id=r["case_id"], case_number=r["case_number"],
                                    case_kind=r["case_kind"],
                                    agency_id=r["agency_id"], district=r["district"], handler=_handler(r),
                                    closed_at=r["closed_at"]) for r in rows if r["case_id"] not in given}


async def round_of_case(conn: AsyncConnection, case_id: str) -> str | None:
    """The evaluation round the case was drawn into, if any."""
    return (await conn.execute(select(round_files.c.round_id).where(round_files.c.case_id == case_id)
                               .limit(1))).scalar()


async def closed_in_year(conn: AsyncConnection, agency_id: str, year: int) -> int:
    """The agency's cases closed in this calendar year (Beijing days), evaluated or not."""
    day = _beijing_day(closed_cases.c.closed_at)
    return int((await conn.execute(select(func.count()).select_from(closed_cases).where(
        closed_cases.c.agency_id == agency_id, day >= date(year, 1, 1), day <= date(year, 12,
                                                                                    31)))).scalar_one())


def _rounds_within(within: AgencyScope) -> list[ColumnElement[bool]]:
    if within.agency_id is not None:
        return [rounds.c.agency_id == within.agency_id]
    if within.district is not None:
        return [exists().where(closed_cases.c.agency_id == rounds.c.agency_id,
                               closed_cases.c.district == within.district)]
    return []


async def agency_in_scope(conn: AsyncConnection, within: AgencyScope, agency_id: str) -> bool:
    if within.agency_id is not None:
        return within.agency_id == agency_id
    if within.district is not None:
        return bool((await conn.execute(select(exists().where(
            closed_cases.c.agency_id == agency_id, closed_cases.c.district == within.district)))).scalar())
    return True


async def _round_row(conn: AsyncConnection, round_id: str, within: AgencyScope = EVERY_AGENCY) -> Row:
    row = (await conn.execute(select(rounds).where(rounds.c.round_id == round_id, *_rounds_within(within))
                              )).mappings().first()
    if row is None:
        raise NotFound(f"no evaluation round {round_id}")
    return row


async def read_round(conn: AsyncConnection, round_id: str) -> RoundView:
    return RoundView.model_validate(dict(await _round_row(conn, round_id)))


async def round_view(engine: AsyncEngine, round_id: str, *, asking: Principal) -> RoundView:
    async with engine.connect() as conn:
        return RoundView.model_validate(dict(await _round_row(conn, round_id, scope(asking))))


async def rounds_list(engine: AsyncEngine, *, asking: Principal, offset: int, limit: int) -> Page[RoundView]:
    query = (select(rounds).where(*_rounds_within(scope(asking)))
             .order_by(rounds.c.opened_at.desc(), rounds.c.round_id))
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit,
                              item=lambda r: RoundView.model_validate(
            dict(r)))


async def _readers_of(conn: AsyncConnection, file_ids: list[str]) -> dict[str, list[ReaderView]]:
    rows = (await conn.execute(select(file_readers).where(file_readers.c.file_id.in_(file_ids))
                               .order_by(file_readers.c.given_at,
                                         file_readers.c.reviewer_id))).mappings().all()
    found: dict[str, list[ReaderView]] = {}
    for r in rows:
        found.setdefault(r["file_id"], []).append(ReaderView.model_validate(dict(r)))
    return found


async def read_round_file(conn: AsyncConnection, file_id: str) -> RoundFileView:
    row = (await conn.execute(select(round_files).where(round_files.c.file_id == file_id))).mappings().first()
    if row is None:
        raise NotFound(f"no file {file_id}")
    readers = await _readers_of(conn, [file_id])
    return RoundFileView.model_validate({**row, "readers": readers.get(file_id, [])})


async def round_files_list(engine: AsyncEngine, round_id: str, *, asking: Principal, offset: int, limit: int
                           ) -> Page[RoundFileView]:
    """A round's files in draw order, with their readers and the panel's latest result."""
    async with engine.connect() as conn:
        await _round_row(conn, round_id, scope(asking))
        query = (select(round_files).where(round_files.c.round_id == round_id)
                 .order_by(round_files.c.draw_order))
        page = await paginate(conn, query, offset=offset, limit=limit, item=dict)
        readers = await _readers_of(conn, [r["file_id"] for r in page.items])
    return Page[RoundFileView](items=[RoundFileView.model_validate({**r,
                                                                    "readers": readers.get(r["file_id"], [])})
                                      for r in page.items], total=page.total, offset=offset, limit=limit)


def _review_file(row: Row) -> ReviewFileView:
    standard = _standard_version({**row, "version": row["standard_version"]})
    return ReviewFileView(file_id=row["file_id"], round_id=row["round_id"], case_id=row["case_id"],
                          case_number=row["case_number"], case_kind=row["case_kind"], standard=standard.code,
                          standard_version=standard.version, indicators=list(standard.indicator_keys),
                          veto_items=sorted(standard.veto_items), rule_version=row["grading_rule"],
                          points_required=GRADING_RULES[row["grading_rule"]].by_points,
                          stage=row["reader_stage"], my_grade=row["my_grade"], read_at=row["read_at"])


def _blind(reviewer_id: str) -> Any:
    """The files given to this reviewer, with their standard version and the round's rule, and
    nothing of the handler."""
    sv = standard_versions.c
    return (select(round_files.c.file_id, round_files.c.round_id, round_files.c.case_id,
                   round_files.c.case_number, round_files.c.case_kind, round_files.c.standard_version,
                   sv.standard_id, sv.number, sv.code, sv.title, sv.case_kinds, sv.effective_from,
                   sv.indicators, rounds.c.grading_rule,
                   file_readers.c.stage.label("reader_stage"),
                   file_readers.c.grade.label("my_grade"), file_readers.c.read_at)
            .join(file_readers, file_readers.c.file_id == round_files.c.file_id)
            .join(standard_versions, sv.version == round_files.c.standard_version)
            .join(rounds, rounds.c.round_id == round_files.c.round_id)
            .where(file_readers.c.reviewer_id == reviewer_id))


async def read_review_file(conn: AsyncConnection, file_id: str, reviewer_id: str) -> ReviewFileView:
    row = (await conn.execute(_blind(reviewer_id).where(round_files.c.file_id == file_id))).mappings().first()
    if row is None:
        raise NotFound(f"no file {file_id} awaits your reading")
    return _review_file(row)


async def review_files(engine: AsyncEngine, *, asking: Principal, unread: bool, offset: int, limit: int
                       ) -> Page[ReviewFileView]:
    """The files given to the calling reviewer, blind, first given first."""
    query = _blind(asking.reviewer_id or "")
    if unread:
        query = query.where(file_readers.c.read_at.is_(None))
    query = query.order_by(file_readers.c.given_at, round_files.c.file_id)
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=_review_file)


async def agreement(engine: AsyncEngine, round_id: str, *, asking: Principal) -> AgreementView:
    """Inter-rater agreement of the round (domain/agreement.py): of the files whose first reading
    failed, the share whose panel (first result) failed too; Fleiss' kappa over the first panels
    read by exactly three, on the four grades."""
    async with engine.connect() as conn:
        await _round_row(conn, round_id, scope(asking))
        files = (await conn.execute(select(round_files).where(round_files.c.round_id == round_id))
                 ).mappings().all()
        readers = (await conn.execute(select(file_readers).where(
            file_readers.c.file_id.in_([f["file_id"] for f in files]), file_readers.c.stage != "re-review",
            file_readers.c.grade.is_not(None)))).mappings().all()
    by_file: dict[str, list[str]] = {}
    for r in readers:
        by_file.setdefault(r["file_id"], []).append(r["grade"])
    re_read = [f for f in files if f["first_grade"] == Grade.fail and f["first_result"] is not None]
    confirmed = [f for f in re_read if f["first_result"] == Grade.fail]
    three = [g for g in by_file.values() if len(g) == 3]
    table = [[g.count(grade) for grade in (Grade.excellent, Grade.good, Grade.pass_,
                                           Grade.fail)] for g in three]
    return AgreementView(round_id=round_id, re_read_fails=len(re_read), confirmed_fails=len(confirmed),
                         confirmed_share=len(confirmed) / len(re_read) if re_read else None,
                         files_with_three_grades=len(three), fleiss_kappa=fleiss_kappa(table))


async def bulletin(engine: AsyncEngine, round_id: str, *, asking: Principal) -> BulletinView:
    """The round's bulletin: its excellent cases, and per indicator how often the results graded it
    fail or pass, most often below good first. A file's final result is read from the evaluations
    (what the rates and the corrections count); a file not yet final counts its latest result."""
    async with engine.connect() as conn:
        r = await _round_row(conn, round_id, scope(asking))
        files = (await conn.execute(select(round_files).where(round_files.c.round_id == round_id)
                                    .order_by(round_files.c.draw_order))).mappings().all()
        finals = {e["evaluation_id"]: e for e in (await conn.execute(
            select(evaluations.c.evaluation_id, evaluations.c.grade, evaluations.c.indicators)
            .where(evaluations.c.evaluation_id.in_([f["file_id"] for f in files])))).mappings()}
    graded = [{**f, **finals.get(f["file_id"], {})} for f in files
              if f["grade"] is not None or f["file_id"] in finals]
    counts: dict[str, dict[str, int]] = {}
    for f in graded:
        for key, grade in (f["indicators"] or {}).items():
            c = counts.setdefault(key, {"fail": 0, "pass": 0})
            if grade in c:
                c[grade] += 1
    problems = sorted((IndicatorProblems.model_validate({
        "indicator": key, "name": INDICATORS[key].name if key in INDICATORS else key, "fail": c["fail"],
        "pass": c["pass"], "below_good": c["fail"] + c["pass"]}) for key, c in counts.items()),
        key=lambda p: (-p.below_good, -p.fail, p.indicator))
    return BulletinView(
        round_id=round_id, agency_id=r["agency_id"], period_from=r["period_from"], period_to=r["period_to"],
        final=r["status"] == "closed", files=len(files),
        graded={g.value: sum(f["grade"] == g for f in graded) for g in Grade},
        excellent_cases=[ExcellentCase(case_number=f["case_number"], case_kind=f["case_kind"],
                                       handler_name=f["handler_name"], institution_name=f["institution_name"])
                         for f in graded if f["grade"] == Grade.excellent],
        problems=[p for p in problems if p.below_good])


def bulletin_csv(view: BulletinView) -> str:
    """The bulletin as CSV for a spreadsheet: UTF-8 with a BOM, one section after the other."""
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out)
    w.writerow(["round", view.round_id, "agency", view.agency_id, "period",
                f"{view.period_from}..{view.period_to}"])
    w.writerow([])
    w.writerow(["excellent cases"])
    w.writerow(["case_number", "case_kind", "handler", "institution"])
    for c in view.excellent_cases:
        w.writerow([c.case_number, c.case_kind, c.handler_name, c.institution_name])
    w.writerow([])
    w.writerow(["common problems"])
    w.writerow(["indicator", "name", "fail", "pass", "below_good"])
    for p in view.problems:
        w.writerow([p.indicator, p.name, p.fail, p.pass_, p.below_good])
    return out.getvalue()
# --- standards and grading rules (R-EVL-1, R-EVL-2) --------------------------------------------


class StandardVersionView(BaseModel):
    """A version of an evaluation standard: its indicators, their second-level items and points."""

    standard_id: str = Field(description="criminal or civil-administrative")
    version: str
    number: int
    code: str
    title: str
    case_kinds: list[CaseKind]
    effective_from: date
    indicators: list[dict[str, Any]] = Field(description="Each indicator: key, members (of the nine "
                                             "first-level indicators), names, max_points, items")
    registered_by: str
    registered_at: datetime


class GradingRuleView(BaseModel):
    version: str
    description: str
    by_points: bool
    excellent_at: int | None
    good_at: int | None
    pass_at: int | None
    late_file_fails: bool


class GradingRuleChoiceView(BaseModel):
    number: int
    rule_version: str
    reason: str
    chosen_by: str
    chosen_at: datetime


class AgencyGradingRuleView(BaseModel):
    agency_id: str
    rule_version: str = Field(description="The rule the agency's cases are graded by now")
    chosen: bool = Field(description="False: the agency chose none, and the city's default grades")
    history: list[GradingRuleChoiceView] = Field(description="Every choice, first first (the audit trail)")


class GradingContext(BaseModel):
    """What grades a case now: the standard version in force, the agency's rule, and whether intake
    found its closing file late (grading.grade_case takes them)."""

    standard: StandardVersion
    rule_version: str
    late_file: bool


def _standard_view(row: Row) -> StandardVersionView:
    return StandardVersionView.model_validate(dict(row))


def _standard_version(row: Row) -> StandardVersion:
    return StandardVersion(standard_id=row["standard_id"], version=row["version"], number=row["number"],
                           case_kinds=row["case_kinds"], terms=StandardTerms(
                               code=row["code"], title=row["title"], effective_from=row["effective_from"],
                               indicators=row["indicators"]))


async def standards(engine: AsyncEngine, *, standard_id: str | None) -> list[StandardVersionView]:
    """Every version of the standards (or of one), by standard and number."""
    where = [standard_versions.c.standard_id == standard_id] if standard_id else []
    async with engine.connect() as conn:
        rows = (await conn.execute(select(standard_versions).where(*where).order_by(
            standard_versions.c.standard_id, standard_versions.c.number))).mappings().all()
    return [_standard_view(r) for r in rows]


async def read_standard_version(conn: AsyncConnection, version: str) -> StandardVersionView:
    row = (await conn.execute(select(standard_versions).where(standard_versions.c.version == version))
           ).mappings().first()
    if row is None:
        raise NotFound(f"no standard version {version}")
    return _standard_view(row)


async def standard_version(engine: AsyncEngine, version: str) -> StandardVersionView:
    async with engine.connect() as conn:
        return await read_standard_version(conn, version)


async def standard_in_force(conn: AsyncConnection, kind: CaseKind, on: date) -> StandardVersion:
    """The version of the kind's standard a result of the Beijing day `on` is graded under: the
    latest applying from that day or before (version 1, seeded, applies from 2021)."""
    row = (await conn.execute(
        select(standard_versions).where(standard_versions.c.standard_id == STANDARD_OF_KIND[kind],
                                        standard_versions.c.effective_from <= on)
        .order_by(standard_versions.c.number.desc()).limit(1))).mappings().first()
    if row is None:
        raise NotFound(f"no version of the {STANDARD_OF_KIND[kind]} standard applies on {on}")
    return _standard_version(row)


async def standard_of_version(conn: AsyncConnection, version: str) -> StandardVersion:
    """A version of a standard as a case is graded under it."""
    row = (await conn.execute(select(standard_versions).where(standard_versions.c.version == version))
           ).mappings().first()
    if row is None:
        raise NotFound(f"no standard version {version}")
    return _standard_version(row)


async def closing_file_late(conn: AsyncConnection, case_id: str) -> bool:
    """Intake's deadline sweep reported the case's closing file late (R-HDL-6)."""
    late = exists().where(late_closing_files.c.case_id == case_id)
    return bool((await conn.execute(select(late))).scalar())


def grading_rules(*, by_points: bool | None = None) -> list[GradingRuleView]:
    """The grading rules an agency may choose (domain.md), by version; only those that grade by
    points (or only those that do not) when `by_points` says."""
    return [GradingRuleView(version=r.version, description=r.description, by_points=r.by_points,
                            excellent_at=r.excellent_at, good_at=r.good_at, pass_at=r.pass_at,
                            late_file_fails=r.late_file_fails) for _, r in sorted(GRADING_RULES.items())
            if by_points is None or r.by_points is by_points]


async def read_agency_grading_rule(conn: AsyncConnection, agency_id: str, default_rule: str
                                   ) -> AgencyGradingRuleView:
    rows = (await conn.execute(
        select(grading_rule_choices).where(grading_rule_choices.c.agency_id == agency_id)
        .order_by(grading_rule_choices.c.number))).mappings().all()
    history = [GradingRuleChoiceView.model_validate(dict(r)) for r in rows]
    return AgencyGradingRuleView(agency_id=agency_id, rule_version=history[-1].rule_version if history
                                 else default_rule, chosen=bool(history), history=history)


async def agency_grading_rule(engine: AsyncEngine, agency_id: str, *, asking: Principal, default_rule: str
                              ) -> AgencyGradingRuleView:
    """The agency's rule and its history, for the agency's own roles, the bureau and the auditor."""
    async with engine.connect() as conn:
        await check_agency_in_scope(conn, agency_id, scope(asking))
        return await read_agency_grading_rule(conn, agency_id, default_rule)


async def check_agency_in_scope(conn: AsyncConnection, agency_id: str, within: AgencyScope) -> None:
    """NotFound unless the scope admits the agency: its own roles, or the bureau of a district where
    the agency closed a case."""
    if within.agency_id is not None and within.agency_id != agency_id:
        raise NotFound(f"no agency {agency_id}")
    if within.district is not None and not (await conn.execute(select(exists().where(
            closed_cases.c.agency_id == agency_id, closed_cases.c.district == within.district)))).scalar():
        raise NotFound(f"no agency {agency_id}")


async def grading_context(conn: AsyncConnection, case: ClosedCase, *, default_rule: str, on: date
                          ) -> GradingContext:
    """What grades this case on the Beijing day `on` (R-EVL-1, R-EVL-2)."""
    rule = (await conn.execute(
        select(grading_rule_choices.c.rule_version).where(grading_rule_choices.c.agency_id == case.agency_id)
        .order_by(grading_rule_choices.c.number.desc()).limit(1))).scalar()
    return GradingContext(standard=await standard_in_force(conn, case.case_kind, on),
                          rule_version=rule or default_rule,
                          late_file=await closing_file_late(conn, case.case_id))


# --- the organs' opinions (R-EVL-5) ---------------------------------------------------------------


async def _opinions_of(conn: AsyncConnection, case_id: str) -> list[OpinionView]:
    rows = (await conn.execute(select(opinions).where(opinions.c.case_id == case_id)
                               .order_by(opinions.c.given_at, opinions.c.organ_id))).mappings().all()
    return [OpinionView.model_validate(dict(r)) for r in rows]


async def opinion_case(conn: AsyncConnection, case_id: str) -> OpinionCase | None:
    """The case as an organ's opinion needs it: its agency and notifying organ (from its
    registration), its number once closed; None when evaluation knows neither."""
    registered = (await conn.execute(select(registered_cases).where(registered_cases.c.case_id == case_id))
                  ).mappings().first()
    closed = (await conn.execute(select(closed_cases).where(closed_cases.c.case_id == case_id))
              ).mappings().first()
    if registered is None and closed is None:
        return None
    agency = closed["agency_id"] if closed is not None else registered["agency_id"]  # type: ignore[index]
    return OpinionCase(case_id=case_id, case_number=closed["case_number"] if closed is not None else None,
                       agency_id=agency,
                       source_system=registered["source_system"] if registered is not None else None)


async def read_opinion(conn: AsyncConnection, case_id: str, organ_id: str) -> OpinionView:
    row = (await conn.execute(select(opinions).where(opinions.c.case_id == case_id,
                                                     opinions.c.organ_id == organ_id))).mappings().first()
    if row is None:
        raise NotFound(f"no opinion of {organ_id} on case {case_id}")
    return OpinionView.model_validate(dict(row))


# --- corrections (R-EVL-7) ----------------------------------------------------------------------


class CorrectionView(BaseModel):
    """整改: what a result found below good, for the handler to correct by the due day."""

    correction_id: str
    evaluation_id: str
    case_id: str
    case_number: str
    agency_id: str
    handler: HandlerRef
    grade: Grade
    indicators: list[str] = Field(description="The indicators to correct (graded below good)")
    findings: str
    due_on: date = Field(description="The Beijing day the correction is due (calendar days)")
    requested_at: datetime
    overdue: bool = Field(description="Not corrected and the due day has passed")
    corrected_at: datetime | None
    note: str | None = Field(description="What the handler corrected")
    on_time: bool | None


def _correction(row: Row, today: date) -> CorrectionView:
    return CorrectionView.model_validate({
        **row, "handler": _handler(row), "overdue": row["corrected_at"] is None and row["due_on"] < today})


def _corrections_seen_by(asking: Principal) -> list[ColumnElement[bool]]:
    if asking.role is Role.case_handler:
        return [corrections.c.handler_id == (asking.handler_id or "")]
    return _of_scope(scope(asking), corrections.c.agency_id, corrections.c.case_id)


async def corrections_list(engine: AsyncEngine, *, asking: Principal, status: str | None, today: date,
                           offset: int, limit: int) -> Page[CorrectionView]:
    """Corrections, soonest due first: `open` (not corrected), `overdue` (not corrected, due before
    `today`: the worklist), `corrected`; every one without a status."""
    where: list[ColumnElement[bool]] = []
    if status in ("open", "overdue"):
        where.append(corrections.c.corrected_at.is_(None))
    if status == "overdue":
        where.append(corrections.c.due_on < today)
    if status == "corrected":
        where.append(corrections.c.corrected_at.is_not(None))
    query = (select(corrections).where(*where, *_corrections_seen_by(asking))
             .order_by(corrections.c.due_on, corrections.c.correction_id))
    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=lambda r: _correction(r, today))


async def read_correction(conn: AsyncConnection, correction_id: str, today: date,
                          seen_by: Sequence[ColumnElement[bool]] = ()) -> CorrectionView:
    row = (await conn.execute(
        select(corrections).where(corrections.c.correction_id == correction_id, *seen_by))).mappings().first()
    if row is None:
        raise NotFound(f"no correction {correction_id}")
    return _correction(row, today)


async def correction(engine: AsyncEngine, correction_id: str, *, asking: Principal, today: date
                     ) -> CorrectionView:
    async with engine.connect() as conn:
        return await read_correction(conn, correction_id, today, _corrections_seen_by(asking))


async def result_to_correct(conn: AsyncConnection, evaluation_id: str) -> Row | None:
    """The result a correction is asked after (its case, handler, grades and findings)."""
    return (await conn.execute(select(evaluations).where(evaluations.c.evaluation_id == evaluation_id))
            ).mappings().first()


# --- excellent-and-good rates against the targets (R-EVL-8, R-EVL-3) ---------------------------


class RateRow(BaseModel):
    key: str = Field(description="The agency's, institution's or handler's id")
    name: str
    institution_name: str | None = Field(default=None, description="A handler's institution")
    evaluated: int
    excellent: int
    good: int
    pass_: int = Field(alias="pass", serialization_alias="pass")
    fail: int
    rate: Decimal | None = Field(description="Excellent and good, in % of those evaluated (one decimal)")
    below_target: bool = Field(description="Under the period's target (compared before rounding)")

    model_config = {"populate_by_name": True}


class RatesView(BaseModel):
    period: str
    by: str = Field(description="agency, institution or handler")
    target: Decimal | None = Field(description="The target rate of the period's year, in %")
    overall: RateRow = Field(description="Every result the caller may read in the period")
    items: list[RateRow] = Field(description="Lowest rate first")


_GROUPS = {"agency": (evaluations.c.agency_id, evaluations.c.agency_id, None),
           "institution": (evaluations.c.institution_id, evaluations.c.institution_name, None),
           "handler": (evaluations.c.handler_id, evaluations.c.handler_name, evaluations.c.institution_name)}


def _rate_row(key: str, name: str, institution: str | None, counts: GradeCounts, target: Decimal | None
              ) -> RateRow:
    return RateRow(key=key, name=name, institution_name=institution, evaluated=counts.evaluated,
                   excellent=counts.excellent, good=counts.good, pass_=counts.pass_, fail=counts.fail,
                   rate=counts.rate, below_target=counts.below(target))


async def rates(engine: AsyncEngine, *, asking: Principal, period: str, by: str, below_target: bool,
                targets: RateTargets) -> RatesView:
    """The excellent-and-good rate of the results completed in the half-year (Beijing dates), per
    agency, institution or handler, against the target of the period's year."""
    starts, ends = period_bounds(period)
    target = targets.for_period(period)
    key_col, name_col, institution_col = _GROUPS[by]
    query = select(evaluations.c.grade, key_col.label("key"), name_col.label("name"),
                   *([institution_col.label("institution_name")] if institution_col is not None else [])
                   ).where(evaluations.c.completed_at >= clock.start_of_day(starts),
                           evaluations.c.completed_at < clock.start_of_day(ends),
                           *_of_scope(scope(asking), evaluations.c.agency_id, evaluations.c.case_id))
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    groups: dict[str, tuple[str, str | None, Counter[str]]] = {}
    total: Counter[str] = Counter()
    for r in rows:
        groups.setdefault(r["key"], (r["name"], r.get("institution_name"), Counter()))[2][r["grade"]] += 1
        total[r["grade"]] += 1

    def counts(c: Counter[str]) -> GradeCounts:
        return GradeCounts(excellent=c[Grade.excellent], good=c[Grade.good], pass_=c[Grade.pass_],
                           fail=c[Grade.fail])

    items = [_rate_row(key, name, institution, counts(c), target)
             for key, (name, institution, c) in groups.items()]
    items = [i for i in items if i.below_target or not below_target]
    items.sort(key=lambda i: (i.rate if i.rate is not None else Decimal(101), i.key))
    return RatesView(period=period, by=by, target=target, items=items,
                     overall=_rate_row("all", "all", None, counts(total), target))
