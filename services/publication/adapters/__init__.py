"""Publication's outside forms of a disclosure, each a plain function of the disclosure (or of
the list of published ones): CSV per table, an XLSX workbook, the public web page and the index,
the Atom feed; `responses` turns them into HTTP responses."""

from __future__ import annotations

from services.publication.adapters.atom import atom_feed
from services.publication.adapters.csv import BOM, disclosure_csv, table_csv
from services.publication.adapters.html import disclosure_html, index_html, page_csp
from services.publication.adapters.responses import (
    MEDIA_TYPES,
    Form,
    disclosure_response,
    feed_response,
    index_response,
    page_response,
)
from services.publication.adapters.xlsx import disclosure_xlsx

__all__ = ["BOM", "MEDIA_TYPES", "Form", "atom_feed", "disclosure_csv", "disclosure_html",
           "disclosure_response", "disclosure_xlsx", "feed_response", "index_html", "index_response",
           "page_csp", "page_response", "table_csv"]
