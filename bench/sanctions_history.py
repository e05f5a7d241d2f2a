"""Sanctions' part of `make bench-growth`: a year of sanctions' own events, for timing the rebuild
of its read models (issue 17: projection rebuild ≥ 20,000 events/s for each service).

The year's closed cases are bench/evaluation_history.py's (the same generator, so the same ids
and the same fails: 1 % of the cases). Sanctions' database of its own gets what the service
itself would have stored, by its own aggregates' commands, in memory:
- per failed evaluation an investigation (`investigation-<id>`, its id derived from the
  evaluation's as the service derives it) opened by the responsible bureau and, for a lawyer, a
  notice to the bar association; assigned, notes and evidence added, findings recorded, decided
  (no violation, or an order to correct, a warning, a suspension from assignment, rarely a
  lawyer's suspension from practice), closed, and the notifying organ informed of a criminal
  case's conclusion;
- the suspensions decided (`suspension-<id>`): by an investigation's decision, or by the agency
  by hand at the fail (one fail in six); each reinstated when its period is over, some earlier by
  decision;
- the bar association's answers to each notice (`bar-notice-<notice_id>`): received, an
  investigation opened, then a discipline or none found; a notice still unanswered after 30 days
  is chased;
- a few complaints (0.2 % of the cases, `complaint-<id>`) lodged and answered, one in four
  opening an investigation that goes the same way.
A step whose moment is still to come at `until` is not taken. The events go in with COPY in
batches, grouped by investigation (each stream in order). Nothing is written into the tables
the consumers keep from other services' events (known_cases, duty_facts): a rebuild leaves them;
the duty facts of this store's sanctions are written into `duty_facts` by the rebuild itself
(once per fact id).

`python -m bench.sanctions_history --size small` seeds one size and times the rebuild.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta

import typer
from rich.console import Console

from bench.evaluation_history import Streams, copy_history, year_cases
from bench.rebuild import seed_and_rebuild
from services.sanctions.app import MIGRATIONS
from services.sanctions.domain import (
    BarNotice,
    Complaint,
    Investigation,
    Measure,
    OutcomeChannel,
    Policy,
    Suspension,
    SuspensionScope,
    investigation_id_for,
    investigation_id_for_complaint,
    suspension_id_for,
)
from services.sanctions.projections import REBUILT_TABLES, projection
from services.sanctions.settings import SanctionsSettings
from shared.clock import BEIJING, local_date, now
from shared.contracts import CaseKind, HandlerKind
from shared.contracts.bar_association import DisciplineKind, OutcomeKind
from shared.migrations import upgrade

COMPLAINTS = 0.002
"""The share of closed cases an aided person complains of."""
INVESTIGATED_COMPLAINTS = 0.25
HAND_SUSPENSIONS = 1 / 6
"""The share of fails after which the agency stops assigning the handler at once, by hand."""
SEED_RANDOM = 29
BAR = "bar-association"
_DESK = "complaints-desk"
_FINDINGS = "未在法定期限内会见受援人；卷宗缺少代理意见书。"
_NOTE = "约谈承办人，听取陈述。"
_EVIDENCE = "案卷副本及会见笔录"
_BUREAU_FINDINGS = "承办人未在法定期限内会见受援人。"
_VIOLATION = "经调查核实，存在违规情形。"
_NO_VIOLATION = "经调查核实，未发现违规情形。"
_REINSTATED = "调查未发现违规，恢复指派。"
_COMPLAINT = "承办律师长期不回复电话，未告知案件进展。"
_ANSWER = "经核查，已督促承办人改进，并向您说明案件进展。"


def sanctions_settings(server_url: str, size: str) -> SanctionsSettings:
    return SanctionsSettings(database_url=server_url, database_name=f"sanctions_growth_{size}",
                             consumers_enabled=False, relay_enabled=False)


def _policy(agencies: int) -> Policy:
    """Every other agency's cases investigated by its district's bureau, the rest by the city's."""
    return Policy(bureaus={f"agency-{a:04d}": f"bureau-{a % 8}" for a in range(0, agencies, 2)})


class _Year:
    """The year's sanctions, recorded by the aggregates in memory and saved into `streams`."""

    def __init__(self, streams: Streams, policy: Policy, until: datetime, rng: random.Random):
        self.streams, self.policy, self.until, self.rng = streams, policy, until, rng

    def days(self, low: float, high: float) -> timedelta:
        return timedelta(days=self.rng.uniform(low, high))

    def suspension_over(self, suspension: Suspension, *, early: bool) -> None:
        """Reinstated by decision before its last day (`early`), else when the period is over (the
        sweep, the morning after its last day), if that moment has come."""
        decision = suspension.decision
        assert decision is not None and decision.until is not None
        end = datetime.combine(decision.until + timedelta(days=1), time(0, 5), tzinfo=BEIJING)
        if early:
            at = decision.decided_at + (end - decision.decided_at) * self.rng.uniform(0.2, 0.8)
            if at <= self.until:
                suspension.reinstate(reason="整改到位，恢复指派。", at=at, by="bureau-head")
                self.streams.save(suspension, at)
        elif end <= self.until:
            suspension.end_period(at=end)
            self.streams.save(suspension, end)

    def bar_answers(self, notice_id: str, issued_at: datetime) -> None:
        """The bar association's answers to a notice, chased when unanswered for 30 days."""
        notice = BarNotice(notice_id)
        received = issued_at + self.days(3, 50)
        for reminder in (issued_at + timedelta(days=30), issued_at + timedelta(days=60)):
            if reminder < received and reminder <= self.until:
                notice.remind(issued_at=issued_at, reminder_days=30, at=reminder)
                self.streams.save(notice, reminder)
        opened = received + self.days(5, 20)
        decided = opened + self.days(20, 60)
        disciplined = self.rng.random() < 0.4
        for at, outcome in ((received, OutcomeKind.received), (opened, OutcomeKind.investigation_opened),
                            (decided, OutcomeKind.discipline_decided if disciplined
                             else OutcomeKind.no_violation_found)):
            if at > self.until:
                return
            concludes = outcome.concludes
            discipline = (self.rng.choice([DisciplineKind.admonition, DisciplineKind.warning,
                                           DisciplineKind.circulated_criticism])
                          if outcome == OutcomeKind.discipline_decided else None)
            reference = f"律协处字〔{at.year}〕{self.rng.randrange(1, 999)}号" if concludes else None
            notice.record_outcome(outcome=outcome, discipline=discipline,
                                  decided_on=local_date(at) if concludes else None, reference=reference,
                                  channel=OutcomeChannel.event, reported_by=BAR, at=at)
            self.streams.save(notice, at)

    def investigate(self, investigation: Investigation, at: datetime, *, organ_id: str | None,
                    hand_suspension: Suspension | None) -> None:
        """An open investigation's steps, from its assignment to its closure, as far as `until`."""
        opening = investigation.opening
        assert opening is not None
        steps: list[tuple[datetime, str]] = [(at + self.days(0.5, 3), "assign")]
        steps += [(at + self.days(2, 15), "note") for _ in range(self.rng.randint(1, 3))]
        steps += [(at + self.days(2, 15), "evidence") for _ in range(self.rng.randint(1, 2))]
        findings_at = at + self.days(15, 22)
        steps += [(findings_at, "findings"), (findings_at + self.days(1, 6), "decide")]
        steps.append((steps[-1][0] + self.days(1, 4), "close"))
        bureau = opening.bureau_id or "city"
        by = f"{bureau}-investigator-{self.rng.randrange(5)}"
        for moment, step in sorted(steps):
            if moment > self.until:
                return
            if step == "assign":
                investigation.assign(assignee_id=by, by=f"{bureau}-head", at=moment)
            elif step == "note":
                investigation.add_note(note_id=str(uuid.uuid4()), text=_NOTE, by=by, at=moment)
            elif step == "evidence":
                reference = f"JZ-{moment:%Y%m%d}-{self.rng.randrange(10_000):04d}"
                investigation.add_evidence(evidence_id=str(uuid.uuid4()), reference=reference,
                                           description=_EVIDENCE, by=by, at=moment)
            elif step == "findings":
                investigation.record_findings(findings=_BUREAU_FINDINGS, by=by, at=moment)
            elif step == "decide":
                self._decide(investigation, moment, hand_suspension)
                continue  # saved by _decide, with the suspension it may decide
            else:
                investigation.close(by=f"{bureau}-head", at=moment, organ_id=organ_id)
            self.streams.save(investigation, moment)

    def _decide(self, investigation: Investigation, at: datetime, hand_suspension: Suspension | None) -> None:
        opening = investigation.opening
        assert opening is not None
        lawyer = opening.handler.kind == HandlerKind.lawyer
        draw = self.rng.random()
        scope, months, practice_months = None, None, None
        measures: list[Measure] = []
        if draw < 0.4:
            violation = False
        elif draw < 0.7:
            violation, measures = True, [Measure.order_to_correct]
        elif draw < 0.85:
            violation, measures = True, [Measure.warning, Measure.order_to_correct]
        elif draw < 0.95 or not lawyer:
            violation, measures = True, [Measure.warning, Measure.suspension_from_assignment]
            scope, months = SuspensionScope.agency, self.rng.randint(1, 6)
        else:
            violation, measures = True, [Measure.practice_suspension]
            practice_months = self.rng.randint(1, 3)
        head = f"{opening.bureau_id}-head"
        investigation.decide(violation=violation, measures=measures, by=head, at=at,
                             reasoning=_VIOLATION if violation else _NO_VIOLATION, suspension_scope=scope,
                             suspension_months=months, practice_suspension_months=practice_months)
        self.streams.save(investigation, at)
        if hand_suspension is not None and hand_suspension.reinstatement is None and not violation:
            hand_suspension.reinstate(reason=_REINSTATED, at=at, by=head)
            self.streams.save(hand_suspension, at)
        planned = investigation.planned_suspension
        if planned is not None:
            suspension = Suspension(suspension_id_for(investigation.id))
            suspension.decide(
                handler_id=opening.handler.handler_id, agency_id=opening.agency_id,
                investigation_id=investigation.id, case_id=opening.case_id, scope=planned.scope,
                months=planned.months, until=None, decided_by=head, at=at,
                reason=f"Investigation {investigation.id} of case {opening.case_number} found a violation: "
                       f"no case for {planned.months} month(s) (R-SAN-2, R-ASG-6).")
            self.streams.save(suspension, at)
            self.suspension_over(suspension, early=self.rng.random() < 0.2)


def history(cases: int, agencies: int, *, until: datetime, on_batch: Callable[[list[tuple]], None]) -> int:
    """The year's events of sanctions' own streams, as COPY records handed to `on_batch` in
    batches. Returns how many."""
    rng = random.Random(SEED_RANDOM)
    streams = Streams(on_batch)
    policy = _policy(agencies)
    year = _Year(streams, policy, until, rng)
    for case in year_cases(cases, agencies, until=until):
        organ_id = f"court-{case.district}" if case.case_kind == CaseKind.criminal else None
        if case.failed and case.evaluation_id is not None:
            failed_at = case.completed_at + timedelta(minutes=rng.uniform(1, 10))
            if failed_at > until:
                continue
            hand = None
            if rng.random() < HAND_SUSPENSIONS:
                hand = Suspension(str(uuid.uuid4()))
                hand.decide(
                    handler_id=case.handler.handler_id, agency_id=case.agency_id, investigation_id=None,
                    case_id=case.case_id, scope=SuspensionScope.agency, months=rng.randint(1, 3), until=None,
                    decided_by=f"{case.agency_id}-director", at=failed_at,
                    reason=f"Case {case.case_number} failed peer evaluation: no case from this agency until "
                           "the investigation concludes (R-SAN-2).")
                streams.save(hand, failed_at)
            investigation = Investigation(investigation_id_for(case.evaluation_id))
            investigation.open(evaluation_id=case.evaluation_id, case_id=case.case_id,
                               case_number=case.case_number, case_kind=case.case_kind,
                               agency_id=case.agency_id, handler=case.handler, findings=_FINDINGS,
                               at=failed_at, bureau_id=policy.bureau_of(case.agency_id),
                               due_on=policy.investigation_due(failed_at))
            if investigation.handler_is_lawyer:
                investigation.notify_bar_association(notice_id=str(uuid.uuid4()), at=failed_at)
            streams.save(investigation, failed_at)
            year.investigate(investigation, failed_at, organ_id=organ_id, hand_suspension=hand)
            if hand is not None and hand.reinstatement is None:
                year.suspension_over(hand, early=False)
            if investigation.bar_notice is not None:
                year.bar_answers(investigation.bar_notice.notice_id, failed_at)
        if rng.random() < COMPLAINTS:
            lodged_at = case.closed_at - year.days(0, 60)
            complaint = Complaint(str(uuid.uuid4()))
            complaint.lodge(case_id=case.case_id, case_number=case.case_number, agency_id=case.agency_id,
                            bureau_id=policy.bureau_of(case.agency_id), handler_id=case.handler.handler_id,
                            text=_COMPLAINT,
                            received_on=local_date(lodged_at - year.days(0, 3)),
                            answer_days=policy.complaint_answer_days, by=_DESK, at=lodged_at)
            streams.save(complaint, lodged_at)
            if rng.random() < INVESTIGATED_COMPLAINTS:
                at = lodged_at + year.days(1, 10)
                if at <= until:
                    investigation = Investigation(investigation_id_for_complaint(complaint.id))
                    complaint.refer_to_investigation(investigation_id=investigation.id, by=_DESK, at=at)
                    investigation.open(evaluation_id=None, complaint_id=complaint.id, case_id=case.case_id,
                                       case_number=case.case_number, case_kind=case.case_kind,
                                       agency_id=case.agency_id, handler=case.handler,
                                       findings=f"Opened on complaint {complaint.id}.", at=at,
                                       bureau_id=policy.bureau_of(case.agency_id),
                                       due_on=policy.investigation_due(at))
                    streams.save(complaint, at)
                    streams.save(investigation, at)
                    year.investigate(investigation, at, organ_id=organ_id, hand_suspension=None)
            answered_at = lodged_at + year.days(5, 30)
            if answered_at <= until:
                complaint.answer_it(answer=_ANSWER, by=_DESK, at=answered_at)
                streams.save(complaint, answered_at)
    return streams.close()


def seed(server_url: str, size: str, cases: int, agencies: int,
         console: Console) -> tuple[SanctionsSettings, int]:
    """Sanctions' database for `size`, migrated and seeded with a year of its own events (its read
    models not rebuilt: bench.growth's `rebuild` times that); the events written."""
    settings = sanctions_settings(server_url, size)
    upgrade(settings, MIGRATIONS)
    until = now()
    # Some 12 events per failed case (1 %), a few more for the complaints.
    written = asyncio.run(copy_history(
        settings, f"sanctions: {cases:,} closed cases' investigations, suspensions, complaints (COPY)",
        max(int(cases * 0.13), 1), lambda on_batch: history(cases, agencies, until=until, on_batch=on_batch),
        console))
    return settings, written


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
    """Seed sanctions' store with a year of its own events and time the rebuild of its read models."""
    seed_and_rebuild("sanctions", seed, projection, REBUILT_TABLES, size=size, cases=cases,
                     agencies=agencies, database_url=database_url or None, check=check)


if __name__ == "__main__":
    cli()
