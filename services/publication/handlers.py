"""Publication's commands: the facts it records from other services' events, the bureau's texts, and
the publishing workflow of disclosures (R-PUB-1): submit, return, approve (which publishes).

Approving locks the event store against writers for the moment it takes: every fact recorded before
the cut-off has then committed, so the document frozen now is the one the events rebuild later
(docs/publication.md "Rebuilding")."""

from __future__ import annotations

from datetime import datetime

from services.publication.domain import (
    CaseClosure,
    CaseGrade,
    CaseSubsidy,
    ClosureNoted,
    Disclosure,
    DisclosureTexts,
    DisclosureWorkflow,
    GradeNoted,
    Period,
    Scope,
    SubsidyPaymentNoted,
    Texts,
    as_published,
    changes_between,
    scope_key,
)
from services.publication.projections.disclosures import record_published
from services.publication.queries import disclosures as queries
from shared.aggregate import NotFound
from shared.contracts import CaseClosed, EvaluationCompleted, SubsidyPaid
from shared.uow import UnitOfWork, UnitOfWorkFactory, retry_on_conflict

# --- the facts (from consumers.py) -----------------------------------------------------------------


async def note_closure(uow: UnitOfWork, event: CaseClosed) -> None:
    h = event.handler
    facts = await uow.get(CaseClosure, event.case_id)
    facts.note(ClosureNoted(
        case_id=event.case_id, case_number=event.case_number, case_kind=event.case_kind,
        district=event.district, agency_id=event.agency_id, institution_id=h.institution_id,
        institution_name=h.institution_name,
        handler_id=h.handler_id, handler_name=h.name, handler_kind=h.kind.value, group_case=event.group_case,
        ended_on=event.ended_on, closed_at=event.closed_at,
        criminal_role=event.criminal_role.value if event.criminal_role else None))
    await uow.save(facts)


async def note_grade(uow: UnitOfWork, event: EvaluationCompleted) -> None:
    h = event.handler
    facts = await uow.get(CaseGrade, event.case_id)
    facts.note(GradeNoted(
        evaluation_id=event.evaluation_id, case_id=event.case_id, case_number=event.case_number,
        case_kind=event.case_kind, agency_id=event.agency_id, institution_id=h.institution_id,
        institution_name=h.institution_name, handler_id=h.handler_id, handler_name=h.name,
        handler_kind=h.kind.value, grade=event.grade, completed_at=event.completed_at))
    await uow.save(facts)


async def note_payment(uow: UnitOfWork, event: SubsidyPaid) -> None:
    facts = await uow.get(CaseSubsidy, event.case_id)
    facts.note(SubsidyPaymentNoted(
        case_id=event.case_id, case_number=event.case_number, case_kind=event.case_kind,
        agency_id=event.agency_id, institution_id=event.institution_id,
        institution_name=event.institution_name, handler_id=event.handler_id, handler_name=event.handler_name,
        amount=event.amount,
        paid_on=event.paid_on))
    await uow.save(facts)


# --- the texts ----------------------------------------------------------------------------------


@retry_on_conflict
async def edit_texts(uow_factory: UnitOfWorkFactory, *, scope: Scope, legal_basis: str, procedure: str,
                     by: str, at: datetime) -> Texts:
    async with uow_factory() as uow:
        texts = await uow.get(DisclosureTexts, scope_key(scope))
        texts.edit(scope=scope, legal_basis=legal_basis, procedure=procedure, by=by, at=at)
        await uow.save(texts)
        return texts.texts


# --- the workflow ---------------------------------------------------------------------------------


@retry_on_conflict
async def submit(uow_factory: UnitOfWorkFactory, *, scope: Scope, period: Period, cut_off: datetime | None,
                 target: float | None, by: str, at: datetime) -> Disclosure:
    """Submit the scope's disclosure of the period as of `cut_off` (now, if not stated): the document
    the bureau will approve, as it will read."""
    async with uow_factory() as uow:
        workflow = await uow.get(DisclosureWorkflow, DisclosureWorkflow.id_of(scope, period))
        texts = await queries.texts_of(uow.conn, scope)
        workflow.submit(scope=scope, period=period, cut_off=cut_off or at, texts=texts, target=target, by=by,
                        at=at)
        await uow.save(workflow)
        return await submitted(uow, workflow)


async def submitted(uow: UnitOfWork, workflow: DisclosureWorkflow) -> Disclosure:
    s = workflow.submission
    assert s is not None
    return await queries.composed_as_of(uow.conn, workflow, cut_off=s.cut_off, texts=s.texts, target=s.target)


@retry_on_conflict
async def return_submission(uow_factory: UnitOfWorkFactory, *, scope: Scope, period: Period, reason: str,
                            by: str, at: datetime) -> None:
    async with uow_factory() as uow:
        workflow = await uow.get(DisclosureWorkflow, DisclosureWorkflow.id_of(scope, period))
        workflow.return_(by=by, reason=reason, at=at)
        await uow.save(workflow)


@retry_on_conflict
async def approve(uow_factory: UnitOfWorkFactory, *, scope: Scope, period: Period, by: str,
                  at: datetime) -> Disclosure:
    """The bureau approves the submission: it is published, numbered, frozen as of its cut-off; a
    version after the first is a correction stating what it changed from the one before."""
    async with uow_factory() as uow:
        # Writers of facts wait until this commits, and this waits for those that started before.
        await uow.conn.exec_driver_sql("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE")
        workflow = await uow.get(DisclosureWorkflow, DisclosureWorkflow.id_of(scope, period))
        if workflow.submission is None:
            raise NotFound(f"no disclosure of {period} for {scope.name} awaits approval")
        document = await submitted(uow, workflow)
        changes: list[str] = []
        if workflow.latest is not None:
            before = await queries.published_version(uow.conn, workflow.latest.number)
            changes = changes_between(before, document)
        version = workflow.approve(by=by, at=at, changes=changes)
        await uow.save(workflow)
        published = as_published(document, version)
        await record_published(uow.conn, published)
        return published
