"""Assignment's reports: cases per handler and per institution in a month against the cap
(R-ASG-4), and how fair the rotation was (R-ASG-1). Pure functions over rows, plus the CSV and
XLSX the agency opens in Excel."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from pydantic import BaseModel

BOM = "\ufeff"  # without it Excel reads UTF-8 as the local code page


class HandlerMonth(BaseModel):
    handler_id: str
    handler_name: str
    institution_id: str
    institution_name: str
    cases: int
    cap: int
    remaining: int


class InstitutionMonth(BaseModel):
    institution_id: str
    institution_name: str
    handlers: int
    cases: int


class MonthlyReport(BaseModel):
    month: str
    agency_id: str | None
    cap: int
    handlers: list[HandlerMonth]
    institutions: list[InstitutionMonth]


def monthly(month: str, agency_id: str | None, cap: int, rows: Iterable[Mapping[str, Any]]) -> MonthlyReport:
    """`rows`: one per handler of the pool with their non-group cases of the month (0 if none)."""
    handlers = [HandlerMonth(handler_id=r["handler_id"], handler_name=r["name"], institution_id=r["institution_id"],
                             institution_name=r["institution_name"], cases=r["cases"] or 0, cap=cap,
                             remaining=max(cap - (r["cases"] or 0), 0)) for r in rows]
    per: dict[str, InstitutionMonth] = {}
    for h in handlers:
        row = per.setdefault(h.institution_id, InstitutionMonth(institution_id=h.institution_id,
                                                                institution_name=h.institution_name, handlers=0,
                                                                cases=0))
        row.handlers += 1
        row.cases += h.cases
    return MonthlyReport(month=month, agency_id=agency_id, cap=cap, handlers=handlers, institutions=list(per.values()))


class FairnessRow(BaseModel):
    handler_id: str
    eligible_turns: int
    actual: int
    expected: float
    deviation: float


class FairnessReport(BaseModel):
    month: str
    agency_id: str | None
    decisions: int
    handlers: list[FairnessRow]


def fairness(month: str, agency_id: str | None, decisions: Sequence[Mapping[str, Any]]) -> FairnessReport:
    """Strict rotation shares each rotation decision equally among those eligible for it: a
    handler's expected cases are the sum of 1/|eligible| over the decisions they were eligible
    for. Deviation = actual - expected; a fair rotation keeps it within about one case."""
    eligible_turns: dict[str, int] = defaultdict(int)
    expected: dict[str, float] = defaultdict(float)
    actual: dict[str, int] = defaultdict(int)
    for d in decisions:
        eligible = [c["handler_id"] for c in d["candidates"] if c.get("eligible")]
        for h in eligible:
            eligible_turns[h] += 1
            expected[h] += 1 / len(eligible)
        actual[d["handler_id"]] += 1
    ids = sorted(set(eligible_turns) | set(actual))
    return FairnessReport(month=month, agency_id=agency_id, decisions=len(decisions), handlers=[
        FairnessRow(handler_id=h, eligible_turns=eligible_turns[h], actual=actual[h], expected=round(expected[h], 3),
                    deviation=round(actual[h] - expected[h], 3)) for h in ids])


HANDLER_COLUMNS = [("handler_id", "承办人编号"), ("handler_name", "承办人"), ("institution_name", "法律服务机构"),
                   ("cases", "本月案件数"), ("cap", "每月上限"), ("remaining", "剩余")]


def _rows(report: MonthlyReport) -> list[list[Any]]:
    return [[getattr(h, c) for c, _ in HANDLER_COLUMNS] for h in report.handlers]


def monthly_csv(report: MonthlyReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([title for _, title in HANDLER_COLUMNS])
    writer.writerows(_rows(report))
    return (BOM + out.getvalue()).encode("utf-8")


def monthly_xlsx(report: MonthlyReport) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = f"承办人 {report.month}"
    sheet.append([title for _, title in HANDLER_COLUMNS])
    for row in _rows(report):
        sheet.append(row)
    institutions = book.create_sheet(f"机构 {report.month}")
    institutions.append(["机构编号", "法律服务机构", "承办人数", "本月案件数"])
    for i in report.institutions:
        institutions.append([i.institution_id, i.institution_name, i.handlers, i.cases])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
