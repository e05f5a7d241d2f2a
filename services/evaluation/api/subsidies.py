"""Case subsidies (办案补贴, R-CHK-2, R-CHK-3, R-EVL-7): a case's subsidy, computed at the quality
lead's sign-off of its closing check (/api/v1/subsidies), its approval and payment by the
agency's finance, and the agencies' versioned subsidy schedules (/api/v1/subsidy-schedules).

Finance acts for the agency of its token (`agency_id`): another agency's subsidy is a 404, and a
schedule is published only by its own agency's finance (403). The agency's roles read their own
agency's subsidies and schedule only, a district's bureau those of the cases closed in its
district (docs/security.md "Scoping"). Who acts is the token's subject."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from services.evaluation import handlers, queries
from services.evaluation.domain import ScheduleTerms, SubsidyStatus
from services.evaluation.queries import ScheduleVersions, SubsidyView
from shared.auth import Principal, Role, allow
from shared.deps import EngineDep, UowFactoryDep
from shared.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/subsidies", tags=["subsidies"])
schedules_router = APIRouter(prefix="/api/v1/subsidy-schedules", tags=["subsidies"])

CaseId = Annotated[str, Path(description="The case's id", min_length=1, max_length=64)]
AgencyId = Annotated[str, Path(description="The agency's id", min_length=1, max_length=64)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=100,
                                               description="A retried request with the same key answers "
                                                           "what the first recorded")]

# The unscoped readers first, finance (scoped to its agency) last.
READERS = (Role.agency_staff, Role.quality_lead, Role.bureau_investigator, Role.auditor, Role.finance)
SubsidyReader = Annotated[Principal, allow(*READERS)]
Finance = Annotated[Principal, allow(Role.finance)]

# ScheduleTerms is the domain's value object: its example is told here, where it is a request body.
PUBLISHED_SCHEDULE = Body(openapi_examples={"chaoyang-2026": {
    "summary": "An agency's 2026 schedule: a line per kind, a procurement contract, a fail halves it",
    "value": {
        "effective_from": "2026-07-01",
        "lines": [
            {"case_kind": "criminal", "amount": "1500.00", "description": "刑事案件每件（未单列的诉讼阶段）"},
            {"case_kind": "criminal", "stage": "death_penalty_review", "amount": "3000.00",
             "description": "死刑复核案件每件"},
            {"case_kind": "civil", "amount": "1800.00", "description": "民事诉讼每件"},
            {"case_kind": "civil", "stage": "mediation", "amount": "600.00", "description": "调解每件"},
            {"case_kind": "administrative", "amount": "1800.00", "description": "行政诉讼、行政复议每件"},
            {"case_kind": "non_litigation", "amount": "800.00", "description": "非诉讼事项每件"},
        ],
        "group_case_multiplier": "1.50",
        "contract_prices": [
            {"institution_id": "daaa3e0a-e345-45ad-a66e-d4095252ffa5",
             "contract_reference": "朝司采〔2026〕12号", "case_kind": "criminal", "amount": "1600.00",
             "valid_from": "2026-07-01", "valid_to": "2027-06-30"},
        ],
        "failed_evaluation": {"action": "reduce", "percent": "50"},
        "note": "依据《北京市朝阳区法律援助办案补贴标准（2026年）》",
    },
}})


class RecordPayment(BaseModel):
    """办案补贴发放: the payment of an approved subsidy, as the bank records it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"paid_on": "2026-11-20", "payment_reference": "GK-2026-112000137"},
    ]})

    paid_on: date = Field(description="The day the money was paid (its Beijing half-year is the "
                                      "disclosure's period)")
    payment_reference: str = Field(min_length=1, max_length=64,
                                   description="The payment's reference (bank or treasury); the same "
                                               "reference again answers the first result")


@router.post("/{case_id}/approval", summary="Approve a case's subsidy", response_model=SubsidyView)
async def approve_subsidy(*, case_id: CaseId, principal: Finance, uow: UowFactoryDep) -> SubsidyView:
    """The agency's finance approves the subsidy computed at the quality lead's sign-off of a
    passed closing check; before that sign-off there is nothing to approve (409, R-CHK-2), and a
    subsidy withheld after a failed evaluation is not approved (409, R-EVL-7). Approving again
    changes nothing."""
    return await handlers.approve_subsidy(uow, case_id=case_id, by=principal.sub,
                                          agency_id=principal.agency_id)


@router.post("/{case_id}/payment", summary="Record the payment of a case's subsidy",
             response_model=SubsidyView)
async def record_payment(*, case_id: CaseId, body: RecordPayment, principal: Finance, uow: UowFactoryDep,
                         idempotency_key: IdempotencyKey = None) -> SubsidyView:
    """Finance records that an approved subsidy was paid, once: the same payment reference (or
    Idempotency-Key) again answers the first result; another reference after payment is a 409.
    SubsidyPaid tells publication (the disclosure's subsidy table)."""
    return await handlers.record_payment(uow, case_id=case_id, paid_on=body.paid_on,
                                         reference=body.payment_reference, idempotency_key=idempotency_key,
                                         by=principal.sub, agency_id=principal.agency_id)


@router.get("/{case_id}", summary="A case's subsidy", response_model=SubsidyView)
async def get_subsidy(*, case_id: CaseId, principal: SubsidyReader, engine: EngineDep) -> SubsidyView:
    """A case's subsidy: the schedule version and lines that made the amount, its approval and
    payment, and what a failed evaluation did to it. The agency's roles (finance, staff, quality
    lead) read only their agency's, a district's bureau those of the cases closed in its district."""
    return await queries.subsidy(engine, case_id, asking=principal)


@router.get("", summary="List subsidies", response_model=Page[SubsidyView])
async def list_subsidies(
    *, principal: SubsidyReader, engine: EngineDep,
    agency_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    status: SubsidyStatus | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[SubsidyView]:
    """Subsidies, newest computed first (filters `agency_id`, `status`). The agency's roles see only
    their agency's, a district's bureau those of the cases closed in its district, whatever they ask."""
    return await queries.subsidies_list(engine, asking=principal, agency_id=agency_id, status=status,
                                        offset=offset, limit=limit)


@schedules_router.get("/{agency_id}", summary="An agency's subsidy schedule versions",
                      response_model=ScheduleVersions)
async def get_schedule(*, agency_id: AgencyId, engine: EngineDep,
                       principal: SubsidyReader) -> ScheduleVersions:
    """The agency's subsidy schedule versions (R-CHK-3): the seed (the Beijing examples, amounts to
    confirm), then each version it published, with its lines, group multiplier, contract prices
    and rule for a failed evaluation. The agency's roles read their own agency's (another agency's
    is a 404), a district's bureau those of the agencies that closed a case in its district."""
    return await queries.schedule(engine, agency_id, asking=principal)


@schedules_router.post("/{agency_id}/versions", summary="Publish a subsidy schedule version",
                       status_code=201, response_model=ScheduleVersions)
async def publish_schedule(*, agency_id: AgencyId, body: Annotated[ScheduleTerms, PUBLISHED_SCHEDULE],
                           principal: Finance, uow: UowFactoryDep) -> ScheduleVersions:
    """The agency's finance publishes a new version of its subsidy schedule, in effect from its
    `effective_from` day; subsidies computed by earlier versions keep them. Every case kind needs
    a general line (422). Only the agency's own finance publishes (403)."""
    return await handlers.publish_schedule(uow, agency_id=agency_id, terms=body, by=principal.sub,
                                           by_agency=principal.agency_id)
