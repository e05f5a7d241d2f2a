"""Corrections after a peer evaluation (R-EVL-7): the findings of a result below good sent to the
handler with a due day, the handler's correction, and the overdue ones on the agency's worklist
(/api/v1/corrections). The agency's roles read their own agency's, a district's bureau those of
its district's cases, a handler their own."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from services.evaluation import handlers, queries
from services.evaluation.queries import CorrectionView
from shared import clock as kernel_clock
from shared.auth import Principal, Role, allow
from shared.deps import ClockDep, EngineDep, UowFactoryDep
from shared.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/corrections", tags=["corrections"])

CorrectionId = Annotated[str, Path(description="The correction's id (its result's evaluation id)",
                                   min_length=1, max_length=64)]
READERS = (Role.agency_staff, Role.quality_lead, Role.bureau_investigator, Role.auditor, Role.case_handler)


class CorrectionStatus(StrEnum):
    open = "open"
    overdue = "overdue"
    corrected = "corrected"


class RecordCorrection(BaseModel):
    """整改情况: what the handler corrected in the file."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"note": "已补充会见笔录两份，并将辩护意见书归入结案卷宗。"},
    ]})

    note: str = Field(min_length=1, max_length=5000, description="What was corrected")


@router.get("", summary="Corrections, and the overdue worklist", response_model=Page[CorrectionView])
async def list_corrections(*, engine: EngineDep, clock: ClockDep,
                           principal: Annotated[Principal, allow(*READERS)],
                           status: CorrectionStatus | None = None, offset: Offset = 0,
                           limit: Limit = 50) -> Page[CorrectionView]:
    """Corrections asked of handlers, soonest due first. `status=overdue` is the worklist: not
    corrected, and the due day (Beijing) has passed. The agency's roles see their own agency's, a
    district's bureau its district's cases', a handler their own."""
    return await queries.corrections_list(engine, asking=principal, status=status,
                                          today=kernel_clock.local_date(clock()), offset=offset, limit=limit)


@router.get("/{correction_id}", summary="One correction", response_model=CorrectionView)
async def get_correction(*, correction_id: CorrectionId, engine: EngineDep, clock: ClockDep,
                         principal: Annotated[Principal, allow(*READERS)]) -> CorrectionView:
    """One correction: the indicators and findings to correct, the due day and, once recorded, what
    the handler corrected and whether on time. Outside the caller's scope it is a 404."""
    return await queries.correction(engine, correction_id, asking=principal,
                                    today=kernel_clock.local_date(clock()))


@router.post("/{correction_id}/correction", summary="Record the correction", response_model=CorrectionView)
async def record_correction(*, correction_id: CorrectionId, body: RecordCorrection, uow: UowFactoryDep,
                            principal: Annotated[Principal, allow(Role.case_handler)]) -> CorrectionView:
    """The case's handler (their token's handler_id) records what they corrected, once (again is a
    409); after the due day it is recorded as late. Another handler's correction is a 404."""
    return await handlers.record_correction(uow, correction_id=correction_id, handler_id=principal.handler_id,
                                            note=body.note)
