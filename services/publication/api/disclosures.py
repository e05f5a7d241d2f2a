"""The published disclosures (/api/v1/disclosures). Public: anyone reads them, without a token
(design.md §4); nothing here reads a draft or a fact not yet published (docs/publication.md).

A published disclosure's JSON is answered exactly as it was frozen at publication, byte for byte;
its other forms (CSV per table, XLSX, the web page) are rendered from that frozen document. The
index of published disclosures is also a web page (`format=html`) and an Atom feed (`/feed`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from services.publication.adapters import (
    MEDIA_TYPES,
    Form,
    disclosure_response,
    feed_response,
    index_response,
)
from services.publication.domain import PERIOD_PATTERN, Disclosure, Period, PublishedEntry, Tables, scope_of
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
FormatParam = Annotated[Form, Query(
    alias="format", description="json; csv (one table, see `table`; UTF-8 with BOM); xlsx (a summary sheet, "
                                "then one sheet per annex); html (the public web page, no external assets)")]
# Every field of `Tables`: a new annex is a new choice without touching this module.
TableParam = Annotated[str, Query(
    pattern="^(" + "|".join(Tables.model_fields) + ")$", examples=["evaluation_results"],
    description="With format=csv, the table: " + ", ".join(Tables.model_fields))]
FORMS = {200: {
    "content": {
        MEDIA_TYPES["csv"].split(";")[0]: {"schema": {"type": "string"}},
        MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
        MEDIA_TYPES["html"].split(";")[0]: {"schema": {"type": "string"}},
    },
    "description": "The disclosure as JSON, or in the form `format` names",
}}


def answer(document: str, form: Form, table: str) -> Response:
    """A stored document in `form`: its JSON as stored, any other form rendered from it."""
    if form == "json":
        return Response(document, media_type="application/json")
    return disclosure_response(Disclosure.model_validate_json(document), form, table=table)


@router.get("", response_model=Page[PublishedEntry], summary="The published disclosures",
            dependencies=[allow(Role.public)],
            responses={200: {"content": {"text/html": {"schema": {"type": "string"}}},
                             "description": "The list; with format=html, the public index page"}})
async def list_published(*, engine: EngineDep, level: LevelParam = None, id: IdParam = None,
                         period: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
                         offset: Offset = 0, limit: Limit = 50,
                         format_: Annotated[Literal["json", "html"], Query(
                             alias="format", description="html: the index page people read")] = "json",
                         ) -> Page[PublishedEntry] | Response:
    """Every published version, newest first: a correction is listed beside the version it replaces."""
    page = await queries.published_entries(engine, level=level, scope_id=id, period=period, offset=offset,
                                           limit=limit)
    return index_response(page.items) if format_ == "html" else page


@router.get("/feed", summary="The Atom feed of published disclosures", dependencies=[allow(Role.public)],
            response_class=Response,
            responses={200: {"content": {"application/atom+xml": {"schema": {"type": "string"}}},
                             "description": "The newest published disclosures, for websites and WeChat "
                                            "accounts that republish them (RFC 4287)"}})
async def feed(*, request: Request, engine: EngineDep, level: LevelParam = None, id: IdParam = None,
               ) -> Response:
    """The 50 newest published versions (of one scope's, with `level` and `id`: a district's website
    republishes its own), corrections saying what they correct."""
    page = await queries.published_entries(engine, level=level, scope_id=id, period=None, offset=0, limit=50)
    return feed_response(page.items, str(request.base_url), query=request.url.query)


@router.get("/published/{number}", response_model=Disclosure, responses=FORMS,
            summary="One published disclosure, by its number", dependencies=[allow(Role.public)])
async def get_published(*, number: NumberParam, engine: EngineDep, format_: FormatParam = "json",
                        table: TableParam = "evaluation_results") -> Response:
    """The disclosure exactly as published (a correction is another number)."""
    document = await queries.published(engine, number)
    if document is None:
        raise NotFound(f"no published disclosure {number}")
    return answer(document, format_, table)


# Declared last: `/{period}` would otherwise also match the single-segment paths above.
@router.get("/{period}", response_model=Disclosure, responses=FORMS,
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
    return answer(document, format_, table)
