"""One page of a list, the same on every endpoint that lists: `items`, `total`, `offset`,
`limit`, counted and read in one place (`paginate`), with one pair of bounds for the query
parameters (`Offset`, `Limit`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")

MAX_OFFSET = 1_000_000
MAX_LIMIT = 200

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many items to skip")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many items at most")]


class Page(BaseModel, Generic[T]):
    """One page of a list, and how many items the whole list has."""

    items: list[T]
    total: int = Field(description="Items in the whole list, not only this page")
    offset: int
    limit: int


async def paginate(
    conn: AsyncConnection,
    query: Select[Any],
    *,
    offset: int,
    limit: int,
    item: Callable[[RowMapping], T],
) -> Page[T]:
    """Count the rows `query` selects, read the page of them it orders, and turn each row into
    an item. `query` carries its own ORDER BY (a page of an unordered list means nothing)."""
    total = (
        await conn.execute(select(func.count()).select_from(query.order_by(None).subquery()))
    ).scalar_one()
    rows: Sequence[RowMapping] = (await conn.execute(query.offset(offset).limit(limit))).mappings().all()
    return Page[T](items=[item(row) for row in rows], total=total, offset=offset, limit=limit)
