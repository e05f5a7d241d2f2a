"""A disclosure's tables as CSV, the form the bureau pastes into its website (design.md §4).

CSV opens in Excel as published: Chinese headers, Chinese words for the case kind, grade and
kind of handler, money with two decimals, and a byte-order mark, without which Excel reads UTF-8
as the local code page and garbles every Chinese character.
"""

from __future__ import annotations

import csv
import io

from services.publication.adapters.cells import tables, text, total_lines
from services.publication.domain import Disclosure, Table

BOM = "\ufeff"


def table_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.title for c in table.columns])
    for row in table.rows:
        writer.writerow([text(c.name, getattr(row, c.name)) for c in table.columns])
    for line in total_lines(table):  # Annex 4's totals, below the rows
        writer.writerow([text(c.name, raw) for c, raw in zip(table.columns, line, strict=True)])
    return (BOM + out.getvalue()).encode("utf-8")


def disclosure_csv(disclosure: Disclosure, table: str = "evaluation_results") -> bytes:
    """One of the disclosure's tables, named by its field in `Tables` (KeyError for another name)."""
    chosen = dict(tables(disclosure))
    return table_csv(chosen[table])
