"""A disclosure (or the index, or the feed) as the HTTP response of its form: the media type, a
file name the reader's browser saves it under, and for web pages their own Content-Security-Policy
(shared/http.py keeps a policy the response sets; every other response gets the API's)."""

from __future__ import annotations

import re
from typing import Literal

from fastapi import Response
from fastapi.responses import JSONResponse

from services.publication.adapters.atom import atom_feed
from services.publication.adapters.csv import disclosure_csv
from services.publication.adapters.html import disclosure_html, index_html, page_csp
from services.publication.adapters.xlsx import disclosure_xlsx
from services.publication.domain import Disclosure, PublishedEntry

Form = Literal["json", "csv", "xlsx", "html"]

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HTML = "text/html; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
MEDIA_TYPES: dict[str, str] = {"json": "application/json", "csv": CSV, "xlsx": XLSX, "html": HTML}


def file_stem(disclosure: Disclosure) -> str:
    """ASCII only (a header carries it): the period, the scope's id and, after the first, the version."""
    parts = ["disclosure", disclosure.period]
    if disclosure.scope.id:
        parts.append(re.sub(r"[^A-Za-z0-9-]+", "-", disclosure.scope.id).strip("-") or "scope")
    if disclosure.version > 1:
        parts.append(f"v{disclosure.version}")
    return "-".join(parts)


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def page_response(html: str) -> Response:
    return Response(html, media_type=HTML, headers={"Content-Security-Policy": page_csp(html)})


def disclosure_response(disclosure: Disclosure, form: Form, *, table: str = "evaluation_results") -> Response:
    """The disclosure in `form`; `table` (a `Tables` field) chooses the CSV's table."""
    stem = file_stem(disclosure)
    if form == "csv":
        name = table.replace("_", "-") + stem.removeprefix("disclosure")
        return Response(disclosure_csv(disclosure, table), media_type=CSV, headers=_attachment(f"{name}.csv"))
    if form == "xlsx":
        return Response(disclosure_xlsx(disclosure), media_type=XLSX, headers=_attachment(f"{stem}.xlsx"))
    if form == "html":
        return page_response(disclosure_html(disclosure))
    return JSONResponse(disclosure.model_dump(mode="json"))


def index_response(entries: list[PublishedEntry]) -> Response:
    return page_response(index_html(entries))


def feed_response(entries: list[PublishedEntry], base_url: str, *, query: str = "") -> Response:
    return Response(atom_feed(entries, base_url, query=query), media_type=ATOM)
