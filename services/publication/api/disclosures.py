"""The half-yearly public disclosures (/api/v1/disclosures). Public: disclosures are for anyone
to read (design.md §4)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response

from services.publication.adapters import table_csv
from services.publication.domain import PERIOD_PATTERN, Disclosure, Period
from services.publication.queries import disclosures as queries
from shared.auth import Role, allow
from shared.deps import EngineDep

router = APIRouter(prefix="/api/v1/disclosures", tags=["disclosures"])

PeriodParam = Annotated[str, Path(
    pattern=PERIOD_PATTERN, examples=["2026-H1"],
    description="Half-year: 2026-H1 is January to June, 2026-H2 July to December")]
AgencyParam = Annotated[str | None, Query(max_length=64, description="Only this legal-aid agency's cases")]
FormatParam = Annotated[Literal["json", "csv"],
                        Query(alias="format", description="csv: the evaluation results only")]


@router.get(
    "/{period}",
    response_model=Disclosure,
    summary="The half-year's public disclosure",
    dependencies=[allow(Role.public)],
    responses={200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "The disclosure; with format=csv, the evaluation-results table (Annex 7)",
    }},
)
async def get_disclosure(
    *, period: PeriodParam, engine: EngineDep, agency_id: AgencyParam = None,
    format_: FormatParam = "json",
) -> Disclosure | Response:
    """The half-year's disclosure: summary figures and the annexes' tables."""
    disclosure = await queries.disclosure(engine, Period.parse(period), agency_id=agency_id)
    if format_ == "csv":
        filename = f"evaluation-results-{period}.csv"
        return Response(table_csv(disclosure.tables.evaluation_results), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    return disclosure
