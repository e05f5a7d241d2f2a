"""The sanctions service's settings (FAYUAN_* environment variables) and the typed dependency
routers read them through."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from pydantic import Field

from shared.deps import get_settings
from shared.settings import ServiceSettings


class SanctionsSettings(ServiceSettings):
    service_name: str = "sanctions"
    port: int = 8004
    database_name: str = "fayuan_sanctions"
    bar_notice_reminder_days: int = Field(
        default=30, ge=1, description="Days a notice to the bar association may stay unanswered before the "
                                      "bureau chases it, and between two reminders (R-SAN-4)")
    bar_notice_reminder_check_seconds: float = Field(
        default=3600.0, ge=0, description="How often, in seconds, the service looks for notices to chase; "
                                          "0: never (run `chase-bar-notices` from a scheduler)")


SanctionsSettingsDep = Annotated[SanctionsSettings, Depends(get_settings)]
"""The settings the app was built with, typed as this service's (shared.deps.get_settings)."""
