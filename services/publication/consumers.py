"""What publication does with other services' events, one small function per contract class, routed
by class: a disclosure's facts (closures, final evaluation results, subsidies paid) are recorded as
publication's own events (handlers.py), which the projection folds into the rows of the drafts;
assignment rules and providers are kept as rows (projections/).

The consumer runner records each event id in the inbox in the same transaction, so a
redelivered message changes nothing; the rows themselves are one per case as well, so even the
same fact published twice under two ids is counted once.
"""

from __future__ import annotations

from services.publication import handlers
from services.publication.projections import assignment_rules, providers, recruitment_calls
from shared.contracts import CaseClosed, EvaluationCompleted, SubsidyPaid
from shared.contracts.assignment import (
    AssignmentRulesPublished,
    InstitutionRecruited,
    RecruitmentCallAnnounced,
    VolunteerRegistered,
)
from shared.uow import UnitOfWork


async def on_evaluation_completed(event: EvaluationCompleted, uow: UnitOfWork) -> None:
    """Evaluation's final result of a case (a panel's result, when the case was re-read)."""
    await handlers.note_grade(uow, event)


async def on_case_closed(event: CaseClosed, uow: UnitOfWork) -> None:
    await handlers.note_closure(uow, event)


async def on_subsidy_paid(event: SubsidyPaid, uow: UnitOfWork) -> None:
    await handlers.note_payment(uow, event)


async def on_rules_published(event: AssignmentRulesPublished, uow: UnitOfWork) -> None:
    await assignment_rules.record_rules(uow.conn, event)


async def on_institution_recruited(event: InstitutionRecruited, uow: UnitOfWork) -> None:
    await providers.record_institution(uow.conn, event)


async def on_volunteer_registered(event: VolunteerRegistered, uow: UnitOfWork) -> None:
    await providers.record_volunteer(uow.conn, event)


async def on_recruitment_call_announced(event: RecruitmentCallAnnounced, uow: UnitOfWork) -> None:
    await recruitment_calls.record_call(uow.conn, event)


CONSUMERS = {
    "evaluations": {EvaluationCompleted: on_evaluation_completed},
    "cases": {CaseClosed: on_case_closed},
    "subsidies": {SubsidyPaid: on_subsidy_paid},
    "assignments": {AssignmentRulesPublished: on_rules_published},
    "providers": {
        InstitutionRecruited: on_institution_recruited,
        VolunteerRegistered: on_volunteer_registered,
        RecruitmentCallAnnounced: on_recruitment_call_announced,
    },
}
