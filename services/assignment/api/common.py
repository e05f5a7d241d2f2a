"""What assignment's routers share: their path and query parameters, and the answer to a
refusal that names one field."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Path, Query
from fastapi.exceptions import RequestValidationError

from services.assignment.domain import InvalidField

Id = Annotated[str, Path(max_length=64)]
AgencyFilter = Annotated[str | None, Query(max_length=64)]


@contextmanager
def reported_as_field_error() -> Iterator[None]:
    """The domain's field-level refusals answer like any other invalid field."""
    try:
        yield
    except InvalidField as exc:
        raise RequestValidationError([{"loc": ("body", exc.field), "msg": exc.message,
                                       "type": "value_error"}]) from exc
