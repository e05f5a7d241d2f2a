"""The sanctions service's settings (FAYUAN_* environment variables) and the typed dependency
routers read them through."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from pydantic import Field

from services.sanctions.domain import Policy
from shared.deps import get_settings
from shared.settings import ServiceSettings


class SanctionsSettings(ServiceSettings):
    service_name: str = "sanctions"
    port: int = 8004
    database_name: str = "fayuan_sanctions"
    responsible_bureaus: dict[str, str] = Field(
        default={},
        description="Which justice bureau investigates the failed cases and complaints of each agency "
                    "(R-SAN-3), as JSON: agency id -> the district bureau's id, e.g. "
                    '{"chaoyang-centre": "chaoyang-bureau"}; an agency not named here is the city '
                    "bureau's (`city`)")
    investigation_days: int = Field(
        default=30, ge=1, description="Days after an investigation opens within which the bureau is due to "
                                      "close it (R-SAN-3 \"in time\"; to confirm)")
    complaint_answer_days: int = Field(
        default=30, ge=1, description="Days after a complaint is received within which it is due an answer "
                                      "(Legal Aid Law arts. 55-57; to confirm)")
    reinstatement_sweep_seconds: float = Field(
        default=300.0, ge=0, description="How often, in seconds, the service reinstates handlers whose "
                                         "suspension's period has ended (R-SAN-2); 0: never by itself "
                                         "(operators then run `reinstate-due` from a scheduler)")

    def policy(self) -> Policy:
        return Policy(bureaus=dict(self.responsible_bureaus), investigation_days=self.investigation_days,
                      complaint_answer_days=self.complaint_answer_days)
    bar_notice_reminder_days: int = Field(
        default=30, ge=1, description="Days a notice to the bar association may stay unanswered before the "
                                      "bureau chases it, and between two reminders (R-SAN-4)")
    bar_notice_reminder_check_seconds: float = Field(
        default=3600.0, ge=0, description="How often, in seconds, the service looks for notices to chase; "
                                          "0: never (run `chase-bar-notices` from a scheduler)")


SanctionsSettingsDep = Annotated[SanctionsSettings, Depends(get_settings)]
"""The settings the app was built with, typed as this service's (shared.deps.get_settings)."""
