"""Evaluation's part of `make bench-growth`: a year of evaluation's own events, for timing the
rebuild of its read models (issue 17: projection rebuild ≥ 20,000 events/s for each service).

For `cases` cases closed over the year before now across `agencies` agencies (a pool of 20
handlers of one institution each, as bench/publication_history.py spreads them), evaluation's
database of its own gets what the service itself would have stored, by its own aggregates'
commands, in memory (so every refusal of the domain applies and every stream's versions follow
one another):
- each agency's subsidy schedule, published once at the start of the year (half the agencies
  withhold a failed case's subsidy, the others reduce it by 30 %);
- each case's subsidy: computed at the quality lead's sign-off, approved by finance, paid once
  (`subsidy-<case_id>`), or withheld, reduced or ordered recovered after a fail;
- one case in ten given to a peer reviewer (`review-<case_id>`) and graded (`evaluation-<id>`);
  one in ten of those fails (1 % of the cases: bench/sanctions_history.py investigates the same
  ones); a result with anything below good asks the handler to correct the file, and most
  handlers record the correction (`correction-<evaluation_id>`).
A step whose moment is still to come at `until` is not taken (the last weeks' subsidies are not
yet paid, their evaluations not yet made). The events go in with COPY in batches, grouped by case
(each stream in order; the global order is by case, not by moment: no fold reads another
stream's rows). Nothing is written into the tables evaluation's consumers keep from intake's
events (closed_cases and the like): a rebuild leaves them, and the only fold that touches one
(a result marking its case evaluated in `closed_cases`) is an UPDATE that finds no row.

`python -m bench.evaluation_history --size small` seeds one size and times the rebuild.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import asyncpg  # type: ignore[import-untyped]
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bench.rebuild import seed_and_rebuild
from bench.seed import Batches, copy_into_events, raw_dsn
from services.evaluation.app import MIGRATIONS
from services.evaluation.domain import (
    DEFAULT_RULE,
    SEED,
    CaseReview,
    ClosedCase,
    Correction,
    CorrectionPolicy,
    FailedEvaluationAction,
    FailedEvaluationRule,
    PeerEvaluation,
    Reviewer,
    ReviewPolicy,
    SignedOffCase,
    Subsidy,
    SubsidySchedule,
    SubsidyStatus,
    seed_for,
)
from services.evaluation.projections import REBUILT_TABLES, projection
from services.evaluation.settings import EvaluationSettings
from shared.aggregate import Aggregate
from shared.clock import local_date, now
from shared.contracts import CaseKind, Grade, HandlerKind, HandlerRef
from shared.contracts.intake import CriminalStage, Matter
from shared.migrations import upgrade
from shared.settings import ServiceSettings

POOL = 20
LAWYERS = 18
"""Of each pool of 20 handlers, the first 18 are lawyers, the last two grassroots legal workers."""
EVALUATED = 0.10
"""The share of closed cases given to a peer reviewer and graded."""
FAILING = 0.10
"""The share of graded cases that fail: 1 % of the closed cases."""
CORRECTED = 0.8
"""The share of corrections asked that the handler records."""
REVIEWERS = 60
SEED_RANDOM = 17

_DISTRICTS = ["朝阳区", "海淀区", "东城区", "西城区", "丰台区", "通州区", "昌平区", "大兴区"]
_KINDS = [CaseKind.criminal, CaseKind.criminal, CaseKind.civil, CaseKind.civil, CaseKind.administrative,
          CaseKind.non_litigation]
_STAGES: dict[CaseKind, list[str | None]] = {
    CaseKind.criminal: [s.value for s in CriminalStage],
    CaseKind.civil: [Matter.civil_litigation.value, Matter.enforcement.value, Matter.labour_arbitration.value,
                     Matter.mediation.value],
    CaseKind.administrative: [Matter.administrative_lawsuit.value, Matter.administrative_review.value],
    CaseKind.non_litigation: [None],
}
_FINDINGS_FAIL = "未在法定期限内会见受援人；卷宗缺少代理意见书。"
_FINDINGS = "办案过程规范，卷宗材料齐全。"


@dataclass(frozen=True)
class YearCase:
    """A case closed in the seeded year and what befell it (the same for every service's seed: the
    cases, their ids and their fails are drawn from one seeded generator)."""

    n: int
    case_id: str
    case_number: str
    case_kind: CaseKind
    stage: str | None
    group_case: bool
    agency_id: str
    district: str
    handler: HandlerRef
    closed_at: datetime
    evaluation_id: str | None
    """Given to a peer reviewer and graded: the evaluation's id; None when not sampled."""
    given_at: datetime
    completed_at: datetime
    failed: bool


def agency_of(a: int) -> str:
    return f"agency-{a:04d}"


def handler_of(a: int, h: int) -> HandlerRef:
    lawyer = h < LAWYERS
    return HandlerRef(handler_id=f"handler-{a:04d}-{h:02d}",
                      name=f"律师{a}-{h}" if lawyer else f"法律工作者{a}-{h}",
                      kind=HandlerKind.lawyer if lawyer else HandlerKind.grassroots_legal_worker,
                      licence_number=f"11{a:05d}{h:08d}" if lawyer else None,
                      institution_id=f"firm-{a:04d}", institution_name=f"法援律师事务所{a}")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def year_cases(cases: int, agencies: int, *, until: datetime) -> Iterator[YearCase]:
    """The cases closed in the year before `until`, one after the other, evenly spread."""
    rng = random.Random(SEED_RANDOM)
    handlers = {(a, h): handler_of(a, h) for a in range(agencies) for h in range(POOL)}
    step = timedelta(days=365) / max(cases, 1)
    start = until - timedelta(days=365)
    for n in range(cases):
        a, h = n % agencies, (n // agencies) % POOL
        closed_at = start + step * n
        kind = _KINDS[rng.randrange(len(_KINDS))]
        stages = _STAGES[kind]
        case_id, evaluation_id = _uuid(rng), _uuid(rng)
        evaluated = rng.random() < EVALUATED
        failed = evaluated and rng.random() < FAILING
        given_at = closed_at + timedelta(days=rng.uniform(7, 30))
        yield YearCase(
            n=n, case_id=case_id, case_number=f"FY-{closed_at.year}-{n:07d}", case_kind=kind,
            stage=stages[rng.randrange(len(stages))], group_case=rng.random() < 0.03, agency_id=agency_of(a),
            district=_DISTRICTS[a % len(_DISTRICTS)], handler=handlers[a, h], closed_at=closed_at,
            evaluation_id=evaluation_id if evaluated else None, given_at=given_at,
            completed_at=given_at + timedelta(days=rng.uniform(3, 20)), failed=failed)


class Streams:
    """What in-memory aggregates recorded, as COPY records: each event at its moment, its stream's
    versions one after the other."""

    def __init__(self, on_batch: Callable[[list[tuple]], None]):
        self.batches = Batches(on_batch)

    def save(self, aggregate: Aggregate, at: datetime) -> None:
        stream_id = type(aggregate).stream_id(aggregate.id)
        for event in aggregate.pending:
            aggregate.version += 1
            self.batches.add(stream_id, aggregate.version, event, at)
        aggregate.pending.clear()

    def close(self) -> int:
        return self.batches.close()


def _indicators(rng: random.Random, kind: CaseKind, failed: bool) -> dict[str, Grade]:
    keys = seed_for(kind).indicator_keys
    grades = dict(zip(keys, rng.choices([Grade.excellent, Grade.good, Grade.pass_], weights=[3, 5, 2],
                                        k=len(keys)), strict=True))
    if failed:
        grades[keys[rng.randrange(len(keys))]] = Grade.fail
    return grades


def history(cases: int, agencies: int, *, until: datetime, on_batch: Callable[[list[tuple]], None]) -> int:
    """The year's events of evaluation's own streams, as COPY records handed to `on_batch` in
    batches. Returns how many."""
    rng = random.Random(SEED_RANDOM + 1)
    streams = Streams(on_batch)
    start = until - timedelta(days=365)
    schedules = {}
    for a in range(agencies):
        agency = agency_of(a)
        rule = (FailedEvaluationRule() if a % 2 == 0 else
                FailedEvaluationRule(action=FailedEvaluationAction.reduce, percent=Decimal("30")))
        schedule = schedules[agency] = SubsidySchedule(agency)
        terms = SEED.model_copy(update={"effective_from": local_date(start) - timedelta(days=1),
                                        "failed_evaluation": rule})
        schedule.publish(terms=terms,
                         by=f"finance-{a:04d}", by_agency=agency, at=start - timedelta(days=2))
        streams.save(schedule, start - timedelta(days=2))
    policy, corrections = ReviewPolicy(), CorrectionPolicy()
    for case in year_cases(cases, agencies, until=until):
        finance = f"finance-{case.agency_id}"
        # The subsidy: computed at the sign-off (intake's ClosingCheckSignedOff), approved, paid.
        signed_off_at = case.closed_at + timedelta(days=rng.uniform(1, 5))
        subsidy = Subsidy(case.case_id)
        signed = SignedOffCase(case_id=case.case_id, case_number=case.case_number, case_kind=case.case_kind,
                               agency_id=case.agency_id, handler=case.handler, stage=case.stage,
                               group_case=case.group_case, signed_off_by=f"quality-lead-{case.agency_id}",
                               signed_off_at=signed_off_at)
        price = schedules[case.agency_id].price(kind=case.case_kind, stage=case.stage,
                                                group_case=case.group_case,
                                                institution_id=case.handler.institution_id,
                                                on=local_date(signed_off_at))
        at = signed_off_at + timedelta(seconds=rng.uniform(1, 60))
        if at > until:
            continue
        subsidy.compute(case=signed, price=price, at=at)
        streams.save(subsidy, at)
        approved_at = at + timedelta(days=rng.uniform(3, 12))
        paid_at = approved_at + timedelta(days=rng.uniform(5, 30))
        fail_at = case.completed_at + timedelta(seconds=rng.uniform(1, 60))
        steps: list[tuple[datetime, str]] = [(approved_at, "approve"), (paid_at, "pay")]
        if case.failed:
            steps.append((fail_at, "fail"))
        for at, step in sorted(steps):
            if at > until:
                break
            if step == "approve" and subsidy.status is not SubsidyStatus.withheld:
                subsidy.approve(by=finance, agency_id=case.agency_id, at=at)
            elif (step == "pay" and subsidy.approved is not None
                  and subsidy.status is not SubsidyStatus.withheld):
                subsidy.pay(paid_on=local_date(at), reference=f"CZ-{case.n:08d}", idempotency_key=None,
                            by=finance, agency_id=case.agency_id, at=at)
            elif step == "fail":
                assert case.evaluation_id is not None
                subsidy.evaluation_failed(evaluation_id=case.evaluation_id, at=at)
            streams.save(subsidy, at)
        # The peer evaluation of one case in ten, and the correction a result below good asks.
        if case.evaluation_id is None or case.given_at > until:
            continue
        k = rng.randrange(REVIEWERS)
        reviewer = Reviewer(reviewer_id=f"expert-{k:03d}", institution_id=f"review-firm-{k:03d}")
        closed = ClosedCase(case_id=case.case_id, case_number=case.case_number, case_kind=case.case_kind,
                            agency_id=case.agency_id, handler=case.handler, closed_at=case.closed_at)
        review = CaseReview(case.case_id)
        review.give(case=closed, reviewer=reviewer, name=f"评查专家{k}", years_of_practice=5 + k % 20,
                    policy=policy, at=case.given_at)
        streams.save(review, case.given_at)
        if case.completed_at > until:
            continue
        evaluation = PeerEvaluation(case.evaluation_id)
        evaluation.complete(case=closed, reviewer=reviewer,
                            indicators=_indicators(rng, case.case_kind, case.failed),
                            findings=_FINDINGS_FAIL if case.failed else _FINDINGS, rule_version=DEFAULT_RULE,
                            at=case.completed_at, grader_institution_id=reviewer.institution_id)
        streams.save(evaluation, case.completed_at)
        result = evaluation.result
        assert result is not None and (result.grade == Grade.fail) == case.failed
        correction = Correction(case.evaluation_id)
        asked_at = case.completed_at + timedelta(seconds=rng.uniform(1, 60))
        if not correction.request(case_id=case.case_id, case_number=case.case_number,
                                  agency_id=case.agency_id, handler=case.handler, grade=result.grade,
                                  indicators=result.indicators,
                                  findings=result.findings, policy=corrections, at=case.completed_at):
            continue
        streams.save(correction, asked_at)
        corrected_at = case.completed_at + timedelta(days=rng.uniform(2, 20))
        if rng.random() < CORRECTED and corrected_at <= until:
            correction.correct(handler_id=case.handler.handler_id, note="已补充会见笔录并重新整理卷宗。",
                               at=corrected_at)
            streams.save(correction, corrected_at)
    return streams.close()


def evaluation_settings(server_url: str, size: str) -> EvaluationSettings:
    return EvaluationSettings(database_url=server_url, database_name=f"evaluation_growth_{size}",
                              consumers_enabled=False, relay_enabled=False)


async def copy_history(settings: ServiceSettings, label: str, expected: int,
                       history: Callable[[Callable[[list[tuple]], None]], int], console: Console) -> int:
    """Stream `history`'s records into the store with COPY, with a progress bar (its total a
    guess: `expected`), then VACUUM ANALYZE the store, as autovacuum would have long since a year's
    events went in (the rebuild then reads settled pages). Returns the events written."""
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(label, total=expected)
        written = await copy_into_events(raw_dsn(settings), history, progress, task)
        progress.update(task, total=written, completed=written)
    db = await asyncpg.connect(raw_dsn(settings))
    try:
        await db.execute("VACUUM (ANALYZE) events")
    finally:
        await db.close()
    return written


def seed(server_url: str, size: str, cases: int, agencies: int,
         console: Console) -> tuple[EvaluationSettings, int]:
    """Evaluation's database for `size`, migrated and seeded with a year of its own events (its
    read models not rebuilt: bench.growth's `rebuild` times that); the events written."""
    settings = evaluation_settings(server_url, size)
    upgrade(settings, MIGRATIONS)
    until = now()
    # Some 3.4 events a case: the subsidy's three, a tenth's review, result and correction.
    written = asyncio.run(copy_history(
        settings, f"evaluation: {cases:,} closed cases' subsidies and evaluations (COPY)", int(cases * 3.4),
        lambda on_batch: history(cases, agencies, until=until, on_batch=on_batch), console))
    return settings, written


# --- the command line (shared with bench.sanctions_history) ----------------------------------


cli = typer.Typer(add_completion=False)


@cli.command()
def main(
    size: str = typer.Option("small", help="small, medium or national."),
    cases: int = typer.Option(0, help="Cases in the year (default: the size's)."),
    agencies: int = typer.Option(0, help="Agencies (default: the size's)."),
    database_url: str = typer.Option("", envvar="DATABASE_URL",
                                     help="The PostgreSQL server (default: an embedded one, removed after)."),
    check: bool = typer.Option(False, help="Also rebuild one event at a time and compare the tables."),
) -> None:
    """Seed evaluation's store with a year of its own events and time the rebuild of its read models."""
    seed_and_rebuild("evaluation", seed, projection, REBUILT_TABLES, size=size, cases=cases,
                     agencies=agencies, database_url=database_url or None, check=check)


if __name__ == "__main__":
    cli()
