"""A disclosure's tables in the formats the bureau pastes into its website (design.md §4).

CSV opens in Excel as published: Chinese headers, Chinese words for the case kind and grade,
and a byte-order mark, without which Excel reads UTF-8 as the local code page and garbles
every Chinese character.
"""

from __future__ import annotations

import csv
import io

from services.publication.domain import CASE_KIND_TITLES, GRADE_TITLES, Table

BOM = "\ufeff"


# Codes become the words readers know; only in these columns, so a name is never translated.
WORDS = {"case_kind": CASE_KIND_TITLES, "grade": GRADE_TITLES}


def _cell(column: str, value: object) -> object:
    words = WORDS.get(column)
    return words[value] if words else value  # type: ignore[index]


def table_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.title for c in table.columns])
    for row in table.rows:
        writer.writerow([_cell(c.name, getattr(row, c.name)) for c in table.columns])
    return (BOM + out.getvalue()).encode("utf-8")
