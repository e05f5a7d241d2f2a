"""A disclosure as an Excel workbook: the summary first, the excellent-and-good rate of each agency
and institution, then one sheet per annex in the order of `Tables`' fields (Annex 4's totals in bold
below its rows). Each sheet has a bold, filled header row frozen above the rows, columns as wide as
their content, numbers as numbers, money with two decimals and dates as dates, so the
bureau can sort, filter and sum without retyping anything. Text is cleaned of the control
characters XML cannot carry (cells.py says why)."""

from __future__ import annotations

import io
import unicodedata
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from services.publication.adapters.cells import (
    RATE_HEADERS,
    rate_lines,
    summary_rows,
    tables,
    total_lines,
    value,
)
from services.publication.domain import Disclosure

HEADER_FONT = Font(bold=True, color="FFFFFF")
TOTAL_FONT = Font(bold=True)
HEADER_FILL = PatternFill(fill_type="solid", start_color="1F4E79", end_color="1F4E79")
MONEY = "#,##0.00"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm:ss"
PERCENT = "0.0"
MAX_WIDTH = 60
RATES_SHEET = "优良率"
# Excel's limit on a sheet's name, and the characters it forbids in one.
MAX_SHEET_TITLE = 31
_FORBIDDEN_IN_TITLE = str.maketrans({c: " " for c in "[]:*?/\\"})


def sheet_title(text: str) -> str:
    return text.translate(_FORBIDDEN_IN_TITLE)[:MAX_SHEET_TITLE]


def _width(text: object) -> int:
    """Display width: a Chinese character takes two columns."""
    shown = f"{text:.2f}" if isinstance(text, Decimal) else str(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in shown)


def _header(sheet: Worksheet, titles: list[str]) -> None:
    sheet.append(titles)
    for cell in sheet[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=False)
    sheet.freeze_panes = "A2"


def _typed(sheet: Worksheet, row: int, col: int, typed: object, *, percent: bool = False) -> None:
    cell = sheet.cell(row=row, column=col, value=typed)
    if isinstance(typed, Decimal):
        cell.number_format = MONEY
    elif isinstance(typed, datetime):
        cell.number_format = DATETIME
    elif isinstance(typed, date):
        cell.number_format = DATE
    elif percent and isinstance(typed, float):
        cell.number_format = PERCENT


def _fit(sheet: Worksheet, widths: list[int]) -> None:
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = min(max(width, 6) + 2, MAX_WIDTH)


def disclosure_xlsx(disclosure: Disclosure) -> bytes:
    """The summary sheet (摘要), the rates of each agency and institution (优良率), then the annexes."""
    book = Workbook()
    summary = book.active
    assert summary is not None  # a new workbook has one sheet
    summary.title = "摘要"
    _header(summary, ["项目", "内容"])
    widths = [4, 4]
    for r, (label, raw) in enumerate(summary_rows(disclosure), start=2):
        summary.cell(row=r, column=1, value=label)
        _typed(summary, r, 2, raw, percent="%" in label)
        widths = [max(widths[0], _width(label)), max(widths[1], _width(raw if raw is not None else ""))]
    _fit(summary, widths)
    summary.column_dimensions["B"].width = MAX_WIDTH
    for cell in summary["B"]:
        cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="left")

    rates = book.create_sheet(RATES_SHEET)
    _header(rates, RATE_HEADERS)
    widths = [_width(h) for h in RATE_HEADERS]
    for r, line in enumerate(rate_lines(disclosure), start=2):
        for i, raw in enumerate(line):
            _typed(rates, r, i + 1, raw, percent="%" in RATE_HEADERS[i])
            widths[i] = max(widths[i], _width(raw if raw is not None else ""))
    _fit(rates, widths)

    for _, table in tables(disclosure):
        sheet = book.create_sheet(sheet_title(f"附件{table.annex} {table.title}"))
        _header(sheet, [c.title for c in table.columns])
        widths = [_width(c.title) for c in table.columns]
        for r, row in enumerate(table.rows, start=2):
            for i, column in enumerate(table.columns):
                typed = value(column.name, getattr(row, column.name))
                _typed(sheet, r, i + 1, typed)
                widths[i] = max(widths[i], _width(typed))
        if table.rows:
            sheet.auto_filter.ref = sheet.dimensions
        # Annex 4's totals, in bold below the rows (and outside the filter, which would hide them).
        for r, line in enumerate(total_lines(table), start=len(table.rows) + 2):
            for i, (column, raw) in enumerate(zip(table.columns, line, strict=True)):
                typed = value(column.name, raw)
                _typed(sheet, r, i + 1, typed)
                sheet.cell(row=r, column=i + 1).font = TOTAL_FONT
                widths[i] = max(widths[i], _width(typed if typed is not None else ""))
        _fit(sheet, widths)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
