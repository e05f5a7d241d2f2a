"""Publication's handlers. It takes no commands yet (publishing a disclosure as a recorded fact
comes later), so its one handler answers a query: read the period's rows, one domain call."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from services.publication import projections
from services.publication.domain import Disclosure, Period


async def disclosure(engine: AsyncEngine, period: Period, *, agency_id: str | None = None) -> Disclosure:
    # One snapshot for the three reads, so the summary and the tables agree with each other.
    async with engine.connect() as conn, conn.begin():
        await conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        evaluations = await projections.read_evaluations(conn, period, agency_id)
        institutions = await projections.read_cases_per_institution(conn, period, agency_id)
        persons = await projections.read_cases_per_person(conn, period, agency_id)
    return Disclosure.of(period, evaluations=evaluations, institutions=institutions, persons=persons)
