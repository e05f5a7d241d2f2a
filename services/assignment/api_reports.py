"""Assignment's reports (/api/v1/assignments/reports/...): cases per handler and institution in
a month against the cap (R-ASG-4), as JSON, CSV or XLSX; and the fairness of the rotation
against strict rotation (R-ASG-1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from services.assignment import handlers, projections, reports
from services.assignment.domain import SHANGHAI, month_of
from shared.auth import Role, allow
from shared.deps import EngineDep, UowFactoryDep

router = APIRouter(prefix="/api/v1/assignments/reports", tags=["reports"])

Month = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", examples=["2026-11"],
                                    description="Calendar month in Beijing time; default: this month")]
Agency = Annotated[str | None, Query(max_length=64)]
Format = Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")]

# Figures about handlers and institutions, no case record: for the agency, its quality lead, the
# bureau and the auditor.
READERS = (Role.agency_staff, Role.quality_lead, Role.bureau_investigator, Role.auditor)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _bounds(month: str) -> tuple[datetime, datetime]:
    year, m = map(int, month.split("-"))
    start = datetime(year, m, 1, tzinfo=SHANGHAI)
    end = datetime(year + (m == 12), m % 12 + 1, 1, tzinfo=SHANGHAI)
    return start, end


@router.get("/monthly", response_model=reports.MonthlyReport, summary="Cases per handler and institution in a month",
            responses={200: {"content": {"text/csv": {}, XLSX: {}}}}, dependencies=[allow(*READERS)])
async def monthly(*, engine: EngineDep, uow: UowFactoryDep, month: Month = None, agency_id: Agency = None,
                  format_: Format = "json") -> reports.MonthlyReport | Response:
    """Each handler's non-group cases in the month against the monthly cap (R-ASG-4), and each
    institution's total; the cap is the agency's rules in force, else the service's default."""
    month = month or month_of(handlers.now())
    async with uow() as u:
        cap = (await handlers.rules(u, agency_id or ""))["monthly_cap"]
    async with engine.connect() as conn:
        report = reports.monthly(month, agency_id, cap, await projections.month_rows(conn, month, agency_id))
    if format_ == "csv":
        return Response(reports.monthly_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="cases-{month}.csv"'})
    if format_ == "xlsx":
        return Response(reports.monthly_xlsx(report), media_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="cases-{month}.xlsx"'})
    return report


@router.get("/fairness", response_model=reports.FairnessReport, summary="How fair the rotation was in a month",
            dependencies=[allow(*READERS)])
async def fairness(*, engine: EngineDep, month: Month = None, agency_id: Agency = None) -> reports.FairnessReport:
    """Per handler: the rotation decisions they were eligible for, the cases they got, what
    strict rotation would have given (each decision shared equally among the eligible), and the
    deviation (R-ASG-1)."""
    month = month or month_of(handlers.now())
    start, end = _bounds(month)
    async with engine.connect() as conn:
        decisions = await projections.rotation_decisions(conn, start, end, agency_id)
    return reports.fairness(month, agency_id, decisions)
