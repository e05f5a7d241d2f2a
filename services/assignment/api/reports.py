"""Assignment's reports (/api/v1/assignments/reports/...): cases per handler and institution in
a month against the cap (R-ASG-4), as JSON, CSV or XLSX; and the fairness of the rotation
against strict rotation (R-ASG-1)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from services.assignment import adapters, queries
from services.assignment.queries import FairnessReport, MonthlyReport
from services.assignment.settings import AssignmentSettingsDep
from shared.auth import Principal, Role, agency_scope, allow
from shared.deps import ClockDep, EngineDep

router = APIRouter(prefix="/api/v1/assignments/reports", tags=["reports"])

# A year with a calendar (19xx to 21xx, as shared.input_guard's dates): 0000-01 or 9999-12 has
# no month bounds to compute.
Month = Annotated[str | None, Query(pattern=r"^(19|20|21)\d{2}-(0[1-9]|1[0-2])$", examples=["2026-11"],
                                    description="Calendar month in Beijing time; default: this month")]
Agency = Annotated[str | None, Query(max_length=64)]
Format = Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")]

# Figures about handlers and institutions, no case record: for the agency, its quality lead, the
# bureau and the auditor.
READERS = (Role.agency_staff, Role.quality_lead, Role.bureau_investigator, Role.auditor)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/monthly", response_model=MonthlyReport, summary="Cases per handler and institution in a month",
            responses={200: {"content": {"text/csv": {}, XLSX: {}}}})
async def monthly(*, engine: EngineDep, settings: AssignmentSettingsDep, clock: ClockDep,
                  principal: Annotated[Principal, allow(*READERS)], month: Month = None,
                  agency_id: Agency = None, format_: Format = "json") -> MonthlyReport | Response:
    """Each handler's non-group cases in the month against the monthly cap (R-ASG-4), and each
    institution's total; the cap is the agency's rules in force, else the service's default."""
    report = await queries.monthly_report(engine, month=month, agency_id=agency_id, at=clock(),
                                          default_cap=settings.monthly_case_cap,
                                          within=agency_scope(principal))
    if format_ == "csv":
        return Response(adapters.monthly_csv(report), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="cases-{report.month}.csv"'})
    if format_ == "xlsx":
        return Response(adapters.monthly_xlsx(report), media_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="cases-{report.month}.xlsx"'})
    return report


@router.get("/fairness", response_model=FairnessReport, summary="How fair the rotation was in a month")
async def fairness(*, engine: EngineDep, clock: ClockDep, principal: Annotated[Principal, allow(*READERS)],
                   month: Month = None, agency_id: Agency = None) -> FairnessReport:
    """Per handler: the rotation decisions they were eligible for, the cases they got, what
    strict rotation would have given (each decision shared equally among the eligible), and the
    deviation (R-ASG-1)."""
    return await queries.fairness_report(engine, month=month, agency_id=agency_id, at=clock(),
                                         within=agency_scope(principal))
