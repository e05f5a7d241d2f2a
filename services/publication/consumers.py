"""What publication does with other services' events: keep the rows it publishes
(projections/), one small function per contract class, routed by class.

The consumer runner records each event id in the inbox in the same transaction, so a
redelivered message changes nothing; the rows themselves are one per case as well, so even the
same fact published twice under two ids is counted once.
"""

from __future__ import annotations

from services.publication.projections import assignment_rules, disclosures, providers, recruitment_calls
from shared.contracts import CaseClosed, EvaluationCompleted
from shared.contracts.assignment import (
    AssignmentRulesPublished,
    InstitutionRecruited,
    RecruitmentCallAnnounced,
    VolunteerRegistered,
)
from shared.uow import UnitOfWork


async def on_evaluation_completed(event: EvaluationCompleted, uow: UnitOfWork) -> None:
    await disclosures.record_evaluation(uow.conn, event)


async def on_case_closed(event: CaseClosed, uow: UnitOfWork) -> None:
    await disclosures.record_closure(uow.conn, event)


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
    "assignments": {AssignmentRulesPublished: on_rules_published},
    "providers": {
        InstitutionRecruited: on_institution_recruited,
        VolunteerRegistered: on_volunteer_registered,
        RecruitmentCallAnnounced: on_recruitment_call_announced,
    },
}
