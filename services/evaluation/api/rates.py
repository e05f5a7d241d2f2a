"""The excellent-and-good rate (优良率) per agency, institution or handler and half-year, against
the year's target (R-EVL-8); those below it flagged, the list agencies push handlers with (R-EVL-3)
(/api/v1/quality-rates)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query

from services.evaluation import queries
from services.evaluation.domain.rates import PERIOD_PATTERN
from services.evaluation.queries import RatesView
from services.evaluation.settings import EvaluationSettingsDep
from shared.auth import Principal, Role, allow
from shared.deps import EngineDep

router = APIRouter(prefix="/api/v1/quality-rates", tags=["rates"])


class RateGroup(StrEnum):
    agency = "agency"
    institution = "institution"
    handler = "handler"


@router.get("", summary="Excellent-and-good rates against the target", response_model=RatesView)
async def quality_rates(
    *, engine: EngineDep, settings: EvaluationSettingsDep,
    principal: Annotated[Principal, allow(Role.agency_staff, Role.quality_lead, Role.bureau_investigator,
                                          Role.auditor)],
    period: Annotated[str, Query(pattern=PERIOD_PATTERN, description="A half-year: 2026-H1, 2026-H2")],
    by: RateGroup = RateGroup.handler,
    below_target: Annotated[bool, Query(description="Only those below the target (the push list)")] = False,
) -> RatesView:
    """The share of results graded excellent or good among the results completed in the half-year
    (Beijing dates), per agency, institution or handler, lowest first, each flagged when below the
    target of the period's year (FAYUAN_EXCELLENT_GOOD_TARGETS; Beijing: 70% in 2026, 80% in 2027).
    The agency's roles see their own agency's results, a district's bureau its district's."""
    return await queries.rates(engine, asking=principal, period=period, by=by.value,
                               below_target=below_target, targets=settings.rate_targets)
