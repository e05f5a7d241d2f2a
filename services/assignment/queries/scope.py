"""Whose records of assignment a caller sees and acts on (docs/security.md "Scoping"): an agency
role its own agency's pool, cases, rules and reports; a district's bureau the agencies of its
district, which here are the agencies that recruited an institution of that district (the
institutions' `district`, the data assignment holds); the city bureau and auditors every agency.
Another agency's record is "not found", never "forbidden"."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from services.assignment.projections import institutions
from shared.aggregate import NotFound
from shared.auth import AgencyScope


async def agencies(conn: AsyncConnection, scope: AgencyScope) -> frozenset[str] | None:
    """The agencies within `scope`; None: every agency."""
    if scope.agency_id is not None:
        return frozenset({scope.agency_id})
    if scope.district is not None:
        rows = await conn.execute(select(institutions.c.agency_id).distinct()
                                  .where(institutions.c.district == scope.district))
        return frozenset(r[0] for r in rows)
    return None


def of_agencies(column: ColumnElement[str], within: frozenset[str] | None) -> ColumnElement[bool]:
    """The rows of `column`'s agency within the scope's agencies."""
    return true() if within is None else column.in_(sorted(within))


async def check_agency(conn: AsyncConnection, scope: AgencyScope, agency_id: str, missing: str) -> None:
    """NotFound(`missing`) unless `agency_id` is within the scope."""
    if scope.unlimited:
        return
    within = await agencies(conn, scope)
    if within is not None and agency_id not in within:
        raise NotFound(missing)
