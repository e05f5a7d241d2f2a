"""The half-yearly public disclosures (/api/v1/disclosures). Public: disclosures are for anyone
to read (design.md §4)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from services.publication.adapters import MEDIA_TYPES, Form, disclosure_response
from services.publication.domain import PERIOD_PATTERN, Disclosure, Period, Tables
from services.publication.queries import disclosures as queries
from shared.auth import Role, allow
from shared.deps import EngineDep

router = APIRouter(prefix="/api/v1/disclosures", tags=["disclosures"])

PeriodParam = Annotated[str, Path(
    pattern=PERIOD_PATTERN, examples=["2026-H1"],
    description="Half-year: 2026-H1 is January to June, 2026-H2 July to December")]
AgencyParam = Annotated[str | None, Query(max_length=64, description="Only this legal-aid agency's cases")]
FormatParam = Annotated[Form, Query(
    alias="format", description="json; csv (one table, see `table`; UTF-8 with BOM); xlsx (a summary sheet, "
                                "then one sheet per annex); html (the public web page, no external assets)")]
# Every field of `Tables`: a new annex is a new choice without touching this module.
TableParam = Annotated[str, Query(
    pattern="^(" + "|".join(Tables.model_fields) + ")$", examples=["evaluation_results"],
    description="With format=csv, the table: " + ", ".join(Tables.model_fields))]


@router.get(
    "/{period}",
    response_model=Disclosure,
    summary="The half-year's public disclosure",
    dependencies=[allow(Role.public)],
    responses={200: {
        "content": {
            MEDIA_TYPES["csv"].split(";")[0]: {"schema": {"type": "string"}},
            MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
            MEDIA_TYPES["html"].split(";")[0]: {"schema": {"type": "string"}},
        },
        "description": "The disclosure as JSON, or in the form `format` names",
    }},
)
async def get_disclosure(
    *, period: PeriodParam, engine: EngineDep, agency_id: AgencyParam = None,
    format_: FormatParam = "json", table: TableParam = "evaluation_results",
) -> Disclosure | Response:
    """The half-year's disclosure: summary figures and the annexes' tables, as JSON, as CSV (one
    table), as an Excel workbook or as the public web page."""
    disclosure = await queries.disclosure(engine, Period.parse(period), agency_id=agency_id)
    return disclosure_response(disclosure, format_, table=table)
