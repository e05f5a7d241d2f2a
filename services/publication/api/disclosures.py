"""The published disclosures (/api/v1/disclosures). Public: anyone reads them, without a token
(design.md §4); nothing here reads a draft or a fact not yet published (docs/publication.md).

A published disclosure is answered exactly as it was frozen at publication, byte for byte."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from services.publication.adapters import table_csv
from services.publication.domain import PERIOD_PATTERN, Disclosure, Period, PublishedEntry, Table, scope_of
from services.publication.queries import disclosures as queries
from shared.aggregate import NotFound
from shared.auth import Role, allow
from shared.deps import EngineDep
from shared.paging import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/disclosures", tags=["disclosures"])

Level = Literal["city", "district", "agency"]
PeriodParam = Annotated[str, Path(
    pattern=PERIOD_PATTERN, examples=["2026-H1"],
    description="A half-year (2026-H1: January to June, 2026-H2: July to December) or a quarter (2026-Q3)")]
NumberParam = Annotated[str, Path(max_length=120, examples=["FY-2026H1-CITY-01"],
                                  description="The published disclosure's number")]
LevelParam = Annotated[Level | None, Query(
    description="Whose disclosure: the city's, a district's, an agency's")]
IdParam = Annotated[str | None, Query(max_length=64, description="The district's name or the agency's id")]
AgencyParam = Annotated[str | None, Query(
    max_length=64, description="The agency's disclosure (the same as level=agency&id=…)")]
FormatParam = Annotated[Literal["json", "csv"], Query(alias="format", description="csv: one table (`table`)")]
TableName = Literal["subsidy_payments", "cases_per_institution", "cases_per_person", "evaluation_results"]
TableParam = Annotated[TableName, Query(description="With format=csv: which annex's table")]
CSV = {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
             "description": "The disclosure; with format=csv, one of its tables (UTF-8, byte-order mark)"}}


def csv_response(table: Table[Any], filename: str) -> Response:
    return Response(table_csv(table), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _answer(document: str, format_: str, table: TableName, name: str) -> Response:
    if format_ == "csv":
        disclosure = Disclosure.model_validate_json(document)
        return csv_response(getattr(disclosure.tables, table), f"{table.replace('_', '-')}-{name}.csv")
    return Response(document, media_type="application/json")


@router.get("", response_model=Page[PublishedEntry], summary="The published disclosures",
            dependencies=[allow(Role.public)])
async def list_published(*, engine: EngineDep, level: LevelParam = None, id: IdParam = None,
                         period: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
                         offset: Offset = 0, limit: Limit = 50) -> Page[PublishedEntry]:
    """Every published version, newest first: a correction is listed beside the version it replaces."""
    return await queries.published_entries(engine, level=level, scope_id=id, period=period, offset=offset,
                                           limit=limit)


@router.get("/published/{number}", response_model=Disclosure, responses=CSV,
            summary="One published disclosure, by its number", dependencies=[allow(Role.public)])
async def get_published(*, number: NumberParam, engine: EngineDep, format_: FormatParam = "json",
                        table: TableParam = "evaluation_results") -> Response:
    """The disclosure exactly as published (a correction is another number)."""
    document = await queries.published(engine, number)
    if document is None:
        raise NotFound(f"no published disclosure {number}")
    return _answer(document, format_, table, number)


# Declared last: `/{period}` would otherwise also match the single-segment paths above.
@router.get("/{period}", response_model=Disclosure, responses=CSV,
            summary="The latest published disclosure of a period", dependencies=[allow(Role.public)])
async def get_disclosure(
    *, period: PeriodParam, engine: EngineDep, level: LevelParam = None, id: IdParam = None,
    agency_id: AgencyParam = None, format_: FormatParam = "json", table: TableParam = "evaluation_results",
) -> Response:
    """The latest published version of the scope's disclosure of the period (the city's, if no scope is
    named): 404 until one is published. Drafts are staff's (/api/v1/disclosures/drafts/{period})."""
    scope = scope_of("agency", agency_id) if agency_id and level is None else scope_of(level or "city", id)
    document = await queries.latest_published(engine, scope, Period.parse(period))
    if document is None:
        raise NotFound(f"no disclosure of {period} for {scope.name} is published yet")
    return _answer(document, format_, table, period)

