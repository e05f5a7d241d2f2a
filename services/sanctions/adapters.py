"""The files the bar association opens in Excel: a year's legal-aid duty record (R-SAN-5) as CSV
and as XLSX. Text is stripped of control characters (which XLSX cannot hold and which could
break a CSV reader), and a cell that would start a formula is prefixed with an apostrophe."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from services.sanctions.domain import COUNTED
from services.sanctions.queries import DutyLine, DutyRecordReport

BOM = "\ufeff"  # without it Excel reads UTF-8 as the local code page
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
FORMULA_START = ("=", "+", "-", "@")

LAWYER_COLUMNS = [("subject_id", "律师编号"), ("name", "律师"), ("licence_number", "执业证号"),
                  ("institution_name", "律师事务所")]
FIRM_COLUMNS = [("subject_id", "律师事务所编号"), ("name", "律师事务所")]
COUNT_TITLES = {"assigned": "指派案件", "declined": "拒绝承办", "released": "更换或终止",
                "completed": "办结", "excellent": "优秀", "good": "良好", "passed": "合格",
                "failed": "不合格", "sanctions": "处理处分"}


def clean(value: Any) -> Any:
    """A cell's value, safe for CSV and XLSX."""
    if not isinstance(value, str):
        return value
    value = CONTROL.sub("", value)
    return "'" + value if value.startswith(FORMULA_START) else value


def _rows(lines: list[DutyLine], columns: list[tuple[str, str]]) -> list[list[Any]]:
    return [[clean(getattr(line, c)) for c, _ in columns] + [getattr(line.counts, c) for c in COUNTED]
            for line in lines]


def _titles(columns: list[tuple[str, str]]) -> list[str]:
    return [title for _, title in columns] + [COUNT_TITLES[c] for c in COUNTED]


def duty_record_csv(record: DutyRecordReport) -> bytes:
    """Lawyers, then a blank line, then firms, each under its own header."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_titles(LAWYER_COLUMNS))
    writer.writerows(_rows(record.lawyers, LAWYER_COLUMNS))
    writer.writerow([])
    writer.writerow(_titles(FIRM_COLUMNS))
    writer.writerows(_rows(record.firms, FIRM_COLUMNS))
    return (BOM + out.getvalue()).encode("utf-8")


def _cells(row: list[Any]) -> list[Any]:
    """A row as a worksheet may hold it: control characters (which XML 1.0 cannot carry) left out
    of texts, so a name recorded before they were refused (shared.input_guard) cannot break the
    whole file."""
    return [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row]


def duty_record_xlsx(record: DutyRecordReport) -> bytes:
    book = Workbook()
    lawyers = book.active
    lawyers.title = f"律师 {record.year}"
    lawyers.append(_titles(LAWYER_COLUMNS))
    for row in _rows(record.lawyers, LAWYER_COLUMNS):
        lawyers.append(_cells(row))
    firms = book.create_sheet(f"律师事务所 {record.year}")
    firms.append(_titles(FIRM_COLUMNS))
    for row in _rows(record.firms, FIRM_COLUMNS):
        firms.append(_cells(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
