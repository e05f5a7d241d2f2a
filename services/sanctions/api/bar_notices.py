"""The bureau's notices to the bar association about lawyers whose case failed, and the bar
association's answers (/api/v1/bar-notices): R-SAN-4."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Path, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from services.sanctions import handlers, queries
from services.sanctions.domain import InvalidOutcomeField
from services.sanctions.queries import BarNoticeDetail, BarNoticeView
from services.sanctions.settings import SanctionsSettingsDep
from shared.auth import Principal, Role, allow
from shared.contracts import DisciplineKind, OutcomeKind
from shared.deps import ClockDep, EngineDep, UowFactoryDep
from shared.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/bar-notices", tags=["bar notices"])

NoticeId = Annotated[str, Path(description="The notice's id (BarNoticeIssued.notice_id)", max_length=64)]
READERS = (Role.bar_association, Role.bureau_investigator, Role.auditor)
# The bar association reads every notice; a district's bureau those of its district's cases.
Reader = Annotated[Principal, allow(*READERS)]


class ReportOutcome(BaseModel):
    """The bar association's answer to a notice: the same fields as BarOutcomeReported on
    legalaid.bar-association.outcomes (docs/asyncapi.yaml), less the notice and case ids."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"outcome": "received"},
        {"outcome": "discipline_decided", "discipline": "circulated_criticism", "decided_on": "2026-11-20",
         "reference": "京律协纪字〔2026〕第37号"},
    ]})

    outcome: OutcomeKind
    discipline: DisciplineKind | None = Field(default=None, description="Only with discipline_decided")
    decided_on: date | None = Field(default=None, description="Required with discipline_decided and "
                                                              "no_violation_found")
    reference: str | None = Field(default=None, min_length=1, max_length=200,
                                  description="The bar association's file number (文号)")


@router.get("", response_model=Page[BarNoticeView], summary="Notices to the bar association")
async def list_bar_notices(*, engine: EngineDep, principal: Reader, offset: Offset = 0,
                           limit: Limit = 50) -> Page[BarNoticeView]:
    """List the notices sent to the bar association, newest first, each with where the bar
    association's handling stands (a district's bureau: those of its district's cases)."""
    return await queries.list_bar_notices(engine, principal, offset=offset, limit=limit)


@router.get("/unanswered", response_model=Page[BarNoticeView], summary="Notices left unanswered")
async def list_unanswered(*, engine: EngineDep, settings: SanctionsSettingsDep, clock: ClockDep,
                          principal: Reader, offset: Offset = 0, limit: Limit = 50) -> Page[BarNoticeView]:
    """Notices the bar association has not answered within `bar_notice_reminder_days` of their
    issue, oldest first, with how often each was chased (BarNoticeReminded)."""
    return await queries.list_unanswered_notices(engine, principal,
                                                 reminder_days=settings.bar_notice_reminder_days,
                                                 at=clock(), offset=offset, limit=limit)


@router.get("/{notice_id}", response_model=BarNoticeDetail, summary="One notice and its answers")
async def get_bar_notice(*, notice_id: NoticeId, engine: EngineDep, principal: Reader) -> BarNoticeDetail:
    """One notice with every answer of the bar association, oldest first."""
    return await queries.bar_notice(engine, principal, notice_id)


@router.post("/{notice_id}/outcomes", response_model=BarNoticeDetail, status_code=status.HTTP_201_CREATED,
             summary="Answer a notice (the bar association)",
             responses={200: {"description": "Answered before: the same outcome kind or Idempotency-Key; "
                                             "nothing recorded", "model": BarNoticeDetail}})
async def report_outcome(
    *, notice_id: NoticeId, body: ReportOutcome, uow: UowFactoryDep, response: Response,
    principal: Annotated[Principal, allow(Role.bar_association)],
    idempotency_key: Annotated[str | None, Header(max_length=200, description="A client's key for this "
                                                                              "answer")] = None,
) -> BarNoticeDetail:
    """Record the bar association's answer to a notice, as it could send on
    legalaid.bar-association.outcomes: received, investigation opened, discipline decided (with
    the kind of discipline) or no violation found (R-SAN-4, R-SAN-5). Idempotent per notice and
    outcome kind, and per Idempotency-Key: a retry answers 200 and records nothing. After a
    decision, another answer is refused (409)."""
    try:
        notice, new = await handlers.report_bar_outcome(uow, notice_id, reported_by=principal.sub,
                                                        idempotency_key=idempotency_key, **body.model_dump())
    except InvalidOutcomeField as exc:  # the domain's rule on one field: answered like any invalid field
        error = {"loc": ("body", exc.field), "msg": str(exc), "type": "value_error"}
        raise RequestValidationError([error]) from exc
    if not new:
        response.status_code = status.HTTP_200_OK
    return notice
