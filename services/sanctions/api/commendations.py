"""The commendation priority list of a period (/api/v1/commendations): R-SAN-6. Handlers and
institutions with excellent cases, in the order of a stated rule, a draft until the bureau
confirms it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from services.sanctions import handlers, queries
from services.sanctions.domain import Period
from services.sanctions.domain.commendation import PERIOD
from services.sanctions.queries import CommendationListView
from shared.auth import Principal, Role, allow
from shared.deps import ClockDep, EngineDep, UowFactoryDep

router = APIRouter(prefix="/api/v1/commendations", tags=["commendations"])

PeriodText = Annotated[str, Path(pattern=PERIOD.pattern, examples=["2026", "2026-H2"],
                                 description="A calendar year or half-year, Beijing time")]


@router.get("/{period}", response_model=CommendationListView, summary="The commendation list of a period",
            dependencies=[allow(Role.bureau_investigator, Role.agency_staff)])
async def get_commendation_list(*, period: PeriodText, engine: EngineDep) -> CommendationListView:
    """Handlers, and institutions, with at least one case graded excellent in the period's peer
    evaluations, ordered by: more excellent cases; then a higher excellent-and-good rate; then
    fewer fails; then name. A draft from the evaluations received so far until the bureau
    confirms it; then as confirmed."""
    return await queries.commendation_list(engine, Period.parse(period))


@router.post("/{period}/confirmation", response_model=CommendationListView,
             status_code=status.HTTP_201_CREATED, summary="Confirm a period's commendation list")
async def confirm(*, period: PeriodText, uow: UowFactoryDep, clock: ClockDep,
                  principal: Annotated[Principal, allow(Role.bureau_investigator)]) -> CommendationListView:
    """The bureau confirms the list of an ended period as it now reads (422 before the period
    ends, 409 a second time); CommendationListConfirmed tells the others."""
    return await handlers.confirm_commendation_list(uow, Period.parse(period), confirmed_by=principal.sub,
                                                    at=clock())
