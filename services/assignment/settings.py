"""Assignment's settings (FAYUAN_...) and the dependency routers read them with."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from pydantic import Field

from services.assignment.domain import DEFAULT_MONTHLY_CAP, DEFAULT_SENIOR_YEARS
from shared.deps import get_settings
from shared.settings import ServiceSettings


class AssignmentSettings(ServiceSettings):
    service_name: str = "assignment"
    port: int = 8002
    database_name: str = "fayuan_assignment"
    monthly_case_cap: int = Field(
        default=DEFAULT_MONTHLY_CAP, ge=1, le=100,
        description="Most non-group cases one handler may take in a calendar month (R-ASG-4)")
    senior_years_of_practice: int = Field(
        default=DEFAULT_SENIOR_YEARS, ge=0, le=50,
        description="Least years of practice of the handler of a case with a possible death penalty or "
                    "life imprisonment (R-ASG-8)")
    institution_arrangement_hours: float = Field(
        default=24.0, ge=0, le=720,
        description="Hours an institution given a case has to arrange a person, from the moment it was "
                    "given (round the clock); later, the case is overdue on the institution's and the "
                    "agency's worklists (R-PRV-4)")


AssignmentSettingsDep = Annotated[AssignmentSettings, Depends(get_settings)]
