"""The time intake reads "now" from for deadlines, as a dependency: tests and operators replace
it (`app.dependency_overrides[get_clock]`) instead of waiting for days to pass."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def get_clock() -> Clock:
    return system_clock


ClockDep = Annotated[Clock, Depends(get_clock)]
