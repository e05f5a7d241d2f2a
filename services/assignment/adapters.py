"""The files the agency opens in Excel: the monthly report (R-ASG-4) as CSV and as XLSX."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from services.assignment.queries import MonthlyReport

BOM = "\ufeff"  # without it Excel reads UTF-8 as the local code page

HANDLER_COLUMNS = [("handler_id", "承办人编号"), ("handler_name", "承办人"),
                   ("institution_name", "法律服务机构"), ("cases", "本月案件数"), ("cap", "每月上限"),
                   ("remaining", "剩余")]


def _rows(report: MonthlyReport) -> list[list[Any]]:
    return [[getattr(h, c) for c, _ in HANDLER_COLUMNS] for h in report.handlers]


def monthly_csv(report: MonthlyReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([title for _, title in HANDLER_COLUMNS])
    writer.writerows(_rows(report))
    return (BOM + out.getvalue()).encode("utf-8")


def _cells(row: list[Any]) -> list[Any]:
    """A row as a worksheet may hold it: control characters (which XML 1.0 cannot carry) left out
    of texts, so a name recorded before they were refused (shared.input_guard) cannot break the
    whole file."""
    return [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row]


def monthly_xlsx(report: MonthlyReport) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = f"承办人 {report.month}"
    sheet.append([title for _, title in HANDLER_COLUMNS])
    for row in _rows(report):
        sheet.append(_cells(row))
    institutions = book.create_sheet(f"机构 {report.month}")
    institutions.append(["机构编号", "法律服务机构", "承办人数", "本月案件数"])
    for i in report.institutions:
        institutions.append(_cells([i.institution_id, i.institution_name, i.handlers, i.cases]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
