"""The closing check's reads: a kind's checklist as an agency has it (its current version or an
earlier one; the seed when the agency filed none), and the review worklist (R-CHK-2): every
closing file handed in and not yet signed off, due for review `closing_review_days` after it was
received, overdue from the day after (Beijing days, as every time limit of intake)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Date, cast, func, literal, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from services.intake.domain.checklists import CHECKLIST_BY_KIND, SEED_VERSION, CheckItem, Checklist
from services.intake.projections import cases, checklist_versions
from shared.aggregate import NotFound
from shared.clock import BEIJING, end_of_day, local_date
from shared.contracts import CaseKind
from shared.paging import Page, paginate


async def checklist_of(engine: AsyncEngine, case_kind: CaseKind, *, agency_id: str | None = None,
                       version: int | None = None) -> Checklist:
    """The agency's current checklist of the kind (the seed when it filed none, or when no agency
    is named), or the version asked for (404 when there is none)."""
    if agency_id is None or version == SEED_VERSION:
        if version not in (None, SEED_VERSION):
            raise NotFound(f"no version {version} of the seed {case_kind} checklist: name the agency")
        return CHECKLIST_BY_KIND[case_kind]
    c = checklist_versions.c
    query = select(checklist_versions).where(c.agency_id == agency_id, c.case_kind == str(case_kind))
    query = query.where(c.version == version) if version is not None else query
    async with engine.connect() as conn:
        row = (await conn.execute(query.order_by(c.version.desc()).limit(1))).mappings().first()
    if row is None:
        if version is not None:
            raise NotFound(f"agency {agency_id} has no version {version} of its {case_kind} checklist")
        return CHECKLIST_BY_KIND[case_kind]
    return Checklist(case_kind=case_kind, standard=row["standard"], version=row["version"],
                     items=tuple(CheckItem.model_validate(i) for i in row["items"]),
                     agency_id=row["agency_id"],
                     filed_by=row["filed_by"], filed_at=row["filed_at"])


class ReviewItem(BaseModel):
    """A closing file awaiting the agency's review and the quality lead's sign-off (R-CHK-2)."""

    case_id: str
    case_number: str
    case_kind: str
    agency_id: str
    handler_id: str | None
    handler_name: str | None
    received_at: datetime = Field(description="When the closing file was handed in")
    due_at: datetime = Field(description="The end of the last day of the review (Beijing time)")
    overdue: bool = Field(description="Not signed off by its due moment")
    days_overdue: int = Field(description="Whole days past the due moment (0 when not overdue)")
    closing_check_passed: bool | None = Field(description="The last check's result; null: not checked yet")


def review_due(received_at: datetime, days: int) -> datetime:
    """The end of the `days`-th day after the file was received (Beijing days)."""
    return end_of_day(local_date(received_at) + timedelta(days=days))


def _received_on() -> ColumnElement[date]:
    return cast(func.timezone(str(BEIJING), cases.c.closing_file_at), Date)


async def review_worklist(engine: AsyncEngine, *, agency_id: str | None, overdue: bool | None, days: int,
                          now: datetime, offset: int, limit: int) -> Page[ReviewItem]:
    """Files handed in and not signed off, the longest waiting first; `overdue` keeps only those
    past due at `now` (or only those not yet). A file is overdue once its received day plus
    `days` has ended in Beijing, the same arithmetic as `review_due`, in SQL so that it pages."""
    c = cases.c
    where = [c.closing_file_at.is_not(None), c.signed_off_at.is_(None), c.status != "archived"]
    if agency_id is not None:
        where.append(c.agency_id == agency_id)
    if overdue is not None:
        last_day_not_over: date = local_date(now) - timedelta(days=days)
        received = _received_on()
        where.append(received < literal(last_day_not_over, Date) if overdue
                     else received >= literal(last_day_not_over, Date))
    query = select(cases).where(*where).order_by(c.closing_file_at, c.case_id)

    def item(row: RowMapping) -> ReviewItem:
        due = review_due(row["closing_file_at"], days)
        late = now > due
        return ReviewItem(case_id=row["case_id"], case_number=row["case_number"], case_kind=row["case_kind"],
                          agency_id=row["agency_id"], handler_id=row["handler_id"],
                          handler_name=row["handler_name"], received_at=row["closing_file_at"], due_at=due,
                          overdue=late, days_overdue=(now - due).days + 1 if late else 0,
                          closing_check_passed=row["closing_check_passed"])

    async with engine.connect() as conn:
        return await paginate(conn, query, offset=offset, limit=limit, item=item)
