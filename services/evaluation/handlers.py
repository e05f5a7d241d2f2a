"""Evaluation's command handlers: open a unit of work, load, call one domain method, save, tell
the others, commit. Each retries on a concurrency conflict, and answers with what it did as
read in its own transaction (the read models are folded in it: queries.py)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Collection, Mapping
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from services.evaluation import queries
from services.evaluation.domain import (
    AgencyGradingRule,
    Assessment,
    CaseOpinions,
    CaseReview,
    Correction,
    CorrectionPolicy,
    OrganKind,
    OrganRelation,
    PeerEvaluation,
    Reviewer,
    ReviewPolicy,
    ScheduleTerms,
    SignedOffCase,
    StandardEditions,
    StandardTerms,
    Subsidy,
    SubsidySchedule,
    half_year,
)
from services.evaluation.domain.grading import GRADING_RULES
from services.evaluation.domain.panel import FIRST, PANEL_RULE, DrawnCase, PanelFile, Staff
from services.evaluation.domain.pool import Expert, ExpertProfile
from services.evaluation.domain.round import (
    FIRST_READERS,
    DrawRule,
    EvaluationRound,
    Readers,
    RoundNotOpen,
    RoundPolicy,
    allocate,
)
from services.evaluation.queries import (
    AgencyGradingRuleView,
    CaseReviewers,
    CorrectionView,
    EvaluationView,
    OpinionView,
    ScheduleVersions,
    StandardVersionView,
    SubsidyView,
)
from shared import clock, contracts
from shared.aggregate import Forbidden, NotFound
from shared.auth import EVERY_AGENCY, AgencyScope
from shared.contracts import Grade
from shared.ids import new_id
from shared.uow import UnitOfWork, UnitOfWorkFactory, retry_on_conflict


@retry_on_conflict
async def give_to_reviewer(
    uow_factory: UnitOfWorkFactory, *, case_id: str, reviewer: Reviewer, name: str, years_of_practice: int,
    policy: ReviewPolicy, within: AgencyScope = EVERY_AGENCY,
) -> CaseReviewers:
    """Give a closed case awaiting evaluation to a peer reviewer; the case's reviewers after it.
    `within`: the agencies whose cases the caller gives (any other case is not found)."""
    async with uow_factory() as uow:
        case = await queries.closed_case_for_update(uow.conn, case_id, within)
        if case is None:
            raise NotFound(f"no closed case {case_id} awaits evaluation")
        review = await uow.get(CaseReview, case_id)
        # The case's row is locked (closed_case_for_update), as a round's draw locks its candidates:
        # a case is never both drawn into a round and given by hand.
        review.give(case=case, reviewer=reviewer, name=name, years_of_practice=years_of_practice,
                    policy=policy, at=clock.now(), drawn_into=await queries.round_of_case(uow.conn, case_id))
        await uow.save(review)
        return await queries.read_case_reviewers(uow.conn, case_id)


@retry_on_conflict
async def complete_evaluation(
    uow_factory: UnitOfWorkFactory, *, case_id: str, reviewer_id: str | None, indicators: Mapping[str, Grade],
    findings: str, rule_version: str, grader_institution_id: str | None = None,
    points: Mapping[str, Decimal] | None = None, not_done: Collection[str] = (), late_file: bool = False,
) -> EvaluationView:
    """A reviewer the case was given to grades it; the evaluation as it reads afterwards.
    `grader_institution_id`: the institution the grader's token names (R-EVL-4: never the handler's).
    `rule_version`: the city's default, for an agency that chose no rule; the case is graded under
    the standard version in force today and its agency's rule (queries.grading_context); `late_file`:
    the reviewer found the closing file archived late (intake's report of it counts as well)."""
    async with uow_factory() as uow:
        case = await queries.closed_case_for_update(uow.conn, case_id)
        reviewer = (await uow.get(CaseReview, case_id)).reviewer(reviewer_id)
        # A case not given to this reviewer is answered as if it did not exist (docs/evaluation.md).
        if case is None or reviewer is None:
            raise NotFound(f"no closed case {case_id} awaits your evaluation")
        at = clock.now()
        terms = await queries.grading_context(uow.conn, case, default_rule=rule_version,
                                              on=clock.local_date(at))
        evaluation = PeerEvaluation(str(new_id()))  # time-ordered: shared/ids.py
        evaluation.complete(case=case, reviewer=reviewer, indicators=indicators, findings=findings,
                            rule_version=terms.rule_version, at=at,
                            grader_institution_id=grader_institution_id, standard=terms.standard,
                            points=points, not_done=not_done, late_file=late_file or terms.late_file)
        await uow.save(evaluation)
        r = evaluation.result
        assert r is not None
        uow.emit(contracts.EvaluationCompleted(
            evaluation_id=r.evaluation_id, case_id=r.case_id, case_number=r.case_number,
            case_kind=r.case_kind, agency_id=r.agency_id, handler=r.handler, grade=r.grade,
            reviewer_id=r.reviewer_id, completed_at=r.completed_at,
        ))
        if evaluation.failed:
            # R-SAN-1: a fail is followed up; sanctions opens the investigation from this.
            uow.emit(contracts.EvaluationFailed(
                evaluation_id=r.evaluation_id, case_id=r.case_id, case_number=r.case_number,
                case_kind=r.case_kind, agency_id=r.agency_id, handler=r.handler, findings=r.findings,
                failed_at=r.completed_at,
            ))
        return await queries.read_evaluation(uow.conn, evaluation.id)


# --- subsidies (R-CHK-2, R-CHK-3, R-EVL-7) ----------------------------------------------------


@retry_on_conflict
async def publish_schedule(uow_factory: UnitOfWorkFactory, *, agency_id: str, terms: ScheduleTerms, by: str,
                           by_agency: str | None) -> ScheduleVersions:
    """The agency's finance publishes a new version of its subsidy schedule; its versions after it."""
    async with uow_factory() as uow:
        schedule = await uow.get(SubsidySchedule, agency_id)
        schedule.publish(terms=terms, by=by, by_agency=by_agency, at=clock.now())
        await uow.save(schedule)
        return await queries.read_schedule(uow.conn, agency_id)


async def compute_subsidy(uow: UnitOfWork, signed_off: contracts.ClosingCheckSignedOff) -> None:
    """R-CHK-2, R-CHK-3: at the quality lead's sign-off, the subsidy by the agency's schedule version
    in effect on the sign-off's Beijing day. A case whose registration evaluation never saw is paid
    by its kind's general line (its stage unknown here)."""
    registered = await queries.registered_case(uow.conn, signed_off.case_id)
    case = SignedOffCase(
        case_id=signed_off.case_id, case_number=signed_off.case_number, case_kind=signed_off.case_kind,
        agency_id=signed_off.agency_id, handler=signed_off.handler,
        stage=registered.stage if registered else None,
        group_case=registered.group_case if registered else False,
        signed_off_by=signed_off.signed_off_by, signed_off_at=signed_off.signed_off_at,
    )
    schedule = await uow.get(SubsidySchedule, signed_off.agency_id)
    price = schedule.price(kind=case.case_kind, stage=case.stage, group_case=case.group_case,
                           institution_id=case.handler.institution_id,
                           on=clock.local_date(signed_off.signed_off_at))
    subsidy = await uow.get(Subsidy, signed_off.case_id)
    subsidy.compute(case=case, price=price, at=clock.now())
    await uow.save(subsidy)


async def apply_failed_evaluation(uow: UnitOfWork, failed: contracts.EvaluationFailed) -> None:
    """R-EVL-7: a failed peer evaluation withholds, reduces or recovers the handler's subsidy, as
    the agency's rule of the subsidy's schedule version says."""
    subsidy = await uow.get(Subsidy, failed.case_id)
    subsidy.evaluation_failed(evaluation_id=failed.evaluation_id, at=clock.now())
    await uow.save(subsidy)


@retry_on_conflict
async def approve_subsidy(uow_factory: UnitOfWorkFactory, *, case_id: str, by: str, agency_id: str | None
                          ) -> SubsidyView:
    """The agency's finance approves a computed subsidy (once; again changes nothing)."""
    async with uow_factory() as uow:
        subsidy = await uow.get(Subsidy, case_id)
        approved = subsidy.approve(by=by, agency_id=agency_id, at=clock.now())
        await uow.save(subsidy)
        c = subsidy.computed
        if approved and c is not None and subsidy.approved is not None:
            uow.emit(contracts.SubsidyApproved(
                case_id=c.case_id, case_number=c.case_number, case_kind=c.case_kind, agency_id=c.agency_id,
                handler=c.handler, amount=subsidy.approved.amount, schedule_version=c.schedule_version,
                approved_at=subsidy.approved.approved_at,
            ))
        return await queries.read_subsidy(uow.conn, case_id)


@retry_on_conflict
async def record_payment(uow_factory: UnitOfWorkFactory, *, case_id: str, paid_on: date, reference: str,
                         idempotency_key: str | None, by: str, agency_id: str | None) -> SubsidyView:
    """Record the payment of an approved subsidy, once; the same reference or Idempotency-Key again
    answers what the first recorded."""
    async with uow_factory() as uow:
        subsidy = await uow.get(Subsidy, case_id)
        recorded = subsidy.pay(paid_on=paid_on, reference=reference, idempotency_key=idempotency_key, by=by,
                               agency_id=agency_id, at=clock.now())
        await uow.save(subsidy)
        c, paid = subsidy.computed, subsidy.paid
        if recorded and c is not None and paid is not None:
            h = c.handler
            # Annex 4's columns (R-PUB-1), nothing of the aided person and no payment reference.
            uow.emit(contracts.SubsidyPaid(
                case_id=c.case_id, case_number=c.case_number, case_kind=c.case_kind,
                period=half_year(paid.paid_on), agency_id=c.agency_id, institution_id=h.institution_id,
                institution_name=h.institution_name, handler_id=h.handler_id, handler_name=h.name,
                amount=paid.amount, paid_on=paid.paid_on, schedule_version=c.schedule_version,
            ))
        return await queries.read_subsidy(uow.conn, case_id)


# --- the expert pool, rounds and panels (R-EVL-4, R-EVL-6) --------------------------------------


async def grading_rule_for(conn: AsyncConnection, agency_id: str, default: str) -> str:
    """The one place a round learns the grading rule its files are graded by: the agency's chosen
    rule (PUT /api/v1/grading-rules/agencies/{agency_id}), else the city's default. Recorded on the
    round when it opens, so every reading of its files is graded by the same rule."""
    return (await queries.read_agency_grading_rule(conn, agency_id, default)).rule_version


@retry_on_conflict
async def record_expert(uow_factory: UnitOfWorkFactory, *, reviewer_id: str, profile: ExpertProfile, by: str,
                        new: bool) -> queries.ExpertView:
    """Register an expert in the pool (`new`) or record their profile as it now is."""
    async with uow_factory() as uow:
        expert = await uow.get(Expert, reviewer_id)
        if new:
            expert.register(profile=profile, by=by, at=clock.now())
        else:
            expert.update(profile=profile, by=by, at=clock.now())
        await uow.save(expert)
        return await queries.read_expert(uow.conn, reviewer_id)


def _staffing(round_: EvaluationRound, case: DrawnCase, experts: Mapping[str, ExpertProfile],
              policy: RoundPolicy) -> Staff:
    opened = round_.opened
    assert opened is not None

    def staff(stage: str, count: int, exclude: set[str]) -> list[str]:
        return allocate(case.candidate, experts, seed=opened.seed, stage=stage, count=count,
                        opens_on=opened.opens_on, policy=policy, exclude=exclude)

    return staff


def file_id_of(round_id: str, case_id: str) -> str:
    """A file's id: the same for the same round and case (UUID 5)."""
    return str(uuid.uuid5(uuid.UUID(round_id), case_id))


@retry_on_conflict
async def open_round(uow_factory: UnitOfWorkFactory, *, agency_id: str, period_from: date, period_to: date,
                     opens_on: date, draw_rule: DrawRule, seed: str | None, readers: Readers,
                     default_rule: str,
                     policy: RoundPolicy, by: str) -> queries.RoundView:
    """Open a round of the agency's closed cases of the period, draw its cases by its rule and seed,
    and give each drawn file to its first reader(s), blind and at random among the qualified."""
    async with uow_factory() as uow:
        round_ = EvaluationRound(str(uuid.uuid4()))
        round_.open(agency_id=agency_id, period_from=period_from, period_to=period_to, opens_on=opens_on,
                    draw_rule=draw_rule, sample_share=policy.sample_share, seed=seed or secrets.token_hex(8),
                    readers=readers, panel_rule=PANEL_RULE,
                    grading_rule=await grading_rule_for(uow.conn, agency_id, default_rule),
                    by=by, at=clock.now())
        candidates = await queries.round_candidates(uow.conn, agency_id, period_from, period_to)
        previous = await queries.closed_in_year(uow.conn, agency_id, period_from.year - 1)
        drawn = round_.draw(candidates=list(candidates), previous_year_cases=previous)
        experts = await queries.expert_profiles(uow.conn)
        await uow.save(round_)
        opened = round_.opened
        assert opened is not None
        wanted = FIRST_READERS[readers]
        # Each file is graded under the version of its kind's standard in force on the day the round
        # opens: every reading of a panel under the same version.
        in_force = {kind: (await queries.standard_in_force(uow.conn, kind, opens_on)).version
                    for kind in {candidates[case_id].case_kind for case_id in drawn}}
        for case_id in drawn:
            case = candidates[case_id]
            file = PanelFile(file_id_of(round_.id, case_id))
            first = _staffing(round_, case, experts, policy)(FIRST, wanted, set())
            file.draw(round_id=round_.id, case=case, seed=opened.seed, rule_version=opened.grading_rule,
                      standard_version=in_force[case.case_kind], readers=first, wanted=wanted, at=clock.now())
            await uow.save(file)
        return await queries.read_round(uow.conn, round_.id)


@retry_on_conflict
async def read_file(uow_factory: UnitOfWorkFactory, *, file_id: str, reviewer_id: str | None,
                    indicators: Mapping[str, Grade], findings: str, policy: RoundPolicy,
                    points: Mapping[str, Decimal] | None = None, not_done: Collection[str] = (),
                    late_file: bool = False) -> queries.ReviewFileView:
    """A reader grades a file given to them, under the file's standard version and the round's rule
    (grading.grade_case, as a single reviewer's evaluation); `late_file`: the reader found the closing
    file archived late (intake's report of it counts as well). The panel adds readers or decides
    (domain/panel.py)."""
    async with uow_factory() as uow:
        file = await uow.get(PanelFile, file_id)
        if file.drawn is None or reviewer_id is None or reviewer_id not in file.readers:
            raise NotFound(f"no file {file_id} awaits your reading")
        round_ = await uow.get(EvaluationRound, file.drawn.round_id)
        if round_.closed:
            raise RoundNotOpen(f"round {round_.id} is closed")
        experts = await queries.expert_profiles(uow.conn)
        standard = await queries.standard_of_version(uow.conn, file.standard_version)
        late = late_file or await queries.closing_file_late(uow.conn, file.case.case_id)
        file.read(reviewer_id=reviewer_id, standard=standard, indicators=indicators, findings=findings,
                  at=clock.now(), staff=_staffing(round_, file.case, experts, policy), points=points,
                  not_done=not_done, late_file=late)
        await uow.save(file)
        return await queries.read_review_file(uow.conn, file_id, reviewer_id)


@retry_on_conflict
async def dispute_result(uow_factory: UnitOfWorkFactory, *, file_id: str, reason: str, by: str,
                         policy: RoundPolicy, within: AgencyScope = EVERY_AGENCY) -> queries.RoundFileView:
    """The file's result is re-reviewed by three who have not read it: a new result, never an edit."""
    async with uow_factory() as uow:
        file = await uow.get(PanelFile, file_id)
        if file.drawn is None or not within.admits(file.case.agency_id, file.case.district):
            raise NotFound(f"no file {file_id}")
        round_ = await uow.get(EvaluationRound, file.drawn.round_id)
        if round_.closed:
            raise RoundNotOpen(f"round {round_.id} is closed")
        experts = await queries.expert_profiles(uow.conn)
        file.dispute(reason=reason, by=by, at=clock.now(), staff=_staffing(round_, file.case, experts,
                                                                           policy))
        await uow.save(file)
        return await queries.read_round_file(uow.conn, file_id)


@retry_on_conflict
async def close_round(uow_factory: UnitOfWorkFactory, *, round_id: str, by: str,
                      within: AgencyScope = EVERY_AGENCY) -> queries.RoundView:
    """Close the round: each file's latest result is final, and evaluation tells the others of it
    once (EvaluationCompleted; EvaluationFailed for a fail, which sanctions follows up, R-SAN-1).
    A file still being read, or re-reviewed, keeps the round open (409)."""
    async with uow_factory() as uow:
        round_ = await uow.get(EvaluationRound, round_id)
        if round_.opened is None or not within.admits(round_.opened.agency_id):
            raise NotFound(f"no evaluation round {round_id}")
        files = [await uow.get(PanelFile, file_id_of(round_id, case_id)) for case_id in round_.drawn]
        pending = [f.case.case_number for f in files
                   if f.final is None and f.readers
                   and (not f.results or (f.disputed and len(f.results) < 2))]
        if pending:
            raise RoundNotOpen(f"round {round_id} still has files without a result: "
                               f"{', '.join(pending[:10])}")
        round_.close(by=by, at=clock.now())
        await uow.save(round_)
        for file in files:
            final = file.finalise(at=clock.now())
            await uow.save(file)
            if final is None:
                continue
            c = final.case
            uow.emit(contracts.EvaluationCompleted(
                evaluation_id=final.file_id, case_id=c.case_id, case_number=c.case_number,
                case_kind=c.case_kind, agency_id=c.agency_id, handler=c.handler, grade=final.grade,
                reviewer_id=final.reviewer_id,
                completed_at=final.final_at))
            if final.grade is Grade.fail:
                uow.emit(contracts.EvaluationFailed(
                    evaluation_id=final.file_id, case_id=c.case_id, case_number=c.case_number,
                    case_kind=c.case_kind, agency_id=c.agency_id, handler=c.handler, findings=final.findings,
                    failed_at=final.final_at))
        return await queries.read_round(uow.conn, round_id)
# --- standards and grading rules (R-EVL-1, R-EVL-2) --------------------------------------------


@retry_on_conflict
async def register_standard_version(uow_factory: UnitOfWorkFactory, *, standard_id: str, terms: StandardTerms,
                                    by: str, district: str | None) -> StandardVersionView:
    """The city bureau registers a new edition of a standard; the version as it reads afterwards.
    A district's bureau does not: the standards are the city's."""
    if district is not None:
        raise Forbidden("a district's bureau does not register standards; the city bureau does (a token "
                        "without a district claim)", rule="R-EVL-1")
    async with uow_factory() as uow:
        standard = await uow.get(StandardEditions, standard_id)
        version = standard.register(terms=terms, by=by, at=clock.now())
        await uow.save(standard)
        return await queries.read_standard_version(uow.conn, version.version)


@retry_on_conflict
async def choose_grading_rule(uow_factory: UnitOfWorkFactory, *, agency_id: str, rule_version: str,
                              reason: str, by: str, within: AgencyScope, default_rule: str
                              ) -> AgencyGradingRuleView:
    """The agency's quality lead, or the bureau, chooses the rule the agency's cases are graded by
    from now on; results graded before keep theirs. Every choice is kept."""
    async with uow_factory() as uow:
        await queries.check_agency_in_scope(uow.conn, agency_id, within)
        setting = await uow.get(AgencyGradingRule, agency_id)
        setting.choose(rule_version=rule_version, known=GRADING_RULES, reason=reason, by=by, at=clock.now())
        await uow.save(setting)
        return await queries.read_agency_grading_rule(uow.conn, agency_id, default_rule)


# --- the organs' opinions (R-EVL-5) -------------------------------------------------------------


@retry_on_conflict
async def give_opinion(uow_factory: UnitOfWorkFactory, *, case_id: str, organ_id: str | None,
                       organ_kind: OrganKind, relation: OrganRelation, assessment: Assessment, remarks: str,
                       by: str) -> OpinionView:
    """A court, procuratorate or police organ gives its opinion of the handler's work in a case it
    notified or heard; the organ is its token's `institution_id` (as intake knows notifying organs)."""
    if organ_id is None:
        raise Forbidden("institution_id: a judicial organ's token names its system (institution_id)",
                        rule="R-EVL-5")
    async with uow_factory() as uow:
        case = await queries.opinion_case(uow.conn, case_id)
        if case is None:
            raise NotFound(f"evaluation knows no case {case_id}")
        opinions = await uow.get(CaseOpinions, case_id)
        opinions.give(case=case, organ_id=organ_id, organ_kind=organ_kind, relation=relation,
                      assessment=assessment, remarks=remarks, by=by, at=clock.now())
        await uow.save(opinions)
        return await queries.read_opinion(uow.conn, case_id, organ_id)


# --- corrections (R-EVL-7) ----------------------------------------------------------------------


async def request_correction(uow: UnitOfWork, completed: contracts.EvaluationCompleted,
                             policy: CorrectionPolicy) -> None:
    """R-EVL-7: a result with anything below good sends the findings to the handler with a due day;
    once per result."""
    result = await queries.result_to_correct(uow.conn, completed.evaluation_id)
    if result is None:
        return  # not a result of this service's evaluations table (nothing to read the findings from)
    correction = await uow.get(Correction, completed.evaluation_id)
    if correction.request(case_id=completed.case_id, case_number=completed.case_number,
                          agency_id=completed.agency_id, handler=completed.handler, grade=completed.grade,
                          indicators={k: Grade(v) for k, v in result["indicators"].items()},
                          findings=result["findings"], policy=policy, at=completed.completed_at):
        await uow.save(correction)


@retry_on_conflict
async def record_correction(uow_factory: UnitOfWorkFactory, *, correction_id: str, handler_id: str | None,
                            note: str) -> CorrectionView:
    """The handler records what they corrected; the correction as it reads afterwards."""
    async with uow_factory() as uow:
        correction = await uow.get(Correction, correction_id)
        at = clock.now()
        correction.correct(handler_id=handler_id, note=note, at=at)
        await uow.save(correction)
        return await queries.read_correction(uow.conn, correction_id, clock.local_date(at))
