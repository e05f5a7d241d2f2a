"""The legal-aid duty record of each lawyer and law firm per year (/api/v1/duty-records):
R-SAN-5. For the bar association's annual assessment, as JSON, CSV or XLSX."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from services.sanctions import adapters, handlers, queries
from services.sanctions.queries import DutyRecordReport
from shared.auth import Role, allow
from shared.deps import ClockDep, EngineDep, UowFactoryDep

router = APIRouter(prefix="/api/v1/duty-records", tags=["duty records"])

Year = Annotated[int, Path(ge=2000, le=2999, description="Calendar year, Beijing time", examples=[2026])]
Format = Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")]
SubjectId = Annotated[str | None, Query(max_length=64, description="One lawyer's or firm's id")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

READERS = (Role.bar_association, Role.bureau_investigator)


@router.get("/{year}", response_model=DutyRecordReport, summary="The duty record of a year",
            responses={200: {"content": {"text/csv": {}, XLSX: {}}}}, dependencies=[allow(*READERS)])
async def get_duty_record(*, year: Year, engine: EngineDep, format_: Format = "json",
                          subject_id: SubjectId = None) -> DutyRecordReport | Response:
    """Each lawyer's and each law firm's legal-aid duty in the year: cases assigned, declined,
    released, completed, their peer-evaluation grades and fails, and the sanctions decided
    (suspensions and the bar association's disciplines). Counted from the events as they have
    arrived; `published_at` says whether the bureau has published the year."""
    record = await queries.duty_record(engine, year, subject_id=subject_id)
    if format_ == "csv":
        return Response(adapters.duty_record_csv(record), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="duty-record-{year}.csv"'})
    if format_ == "xlsx":
        return Response(adapters.duty_record_xlsx(record), media_type=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="duty-record-{year}.xlsx"'})
    return record


@router.post("/{year}/publication", response_model=DutyRecordReport, status_code=status.HTTP_201_CREATED,
             summary="Publish a finished year's duty records", dependencies=[allow(Role.bureau_investigator)])
async def publish(*, year: Year, uow: UowFactoryDep, clock: ClockDep) -> DutyRecordReport:
    """The bureau publishes a finished year (422 while it lasts; 409 a second time): each
    lawyer's and firm's record goes to the bar association as a DutyRecordPublished event on
    legalaid.bar-association.notices."""
    return await handlers.publish_duty_year(uow, year, at=clock())
