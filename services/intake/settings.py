"""Intake's settings (environment variables prefixed FAYUAN_, shared.settings) and their typed
dependency: the time limits of its deadline policy and the key of the adverse parties' hashes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from pydantic import Field, SecretStr

from services.intake.domain.deadlines import DeadlinePolicy
from shared.contracts import CaseKind
from shared.deps import get_settings
from shared.settings import ServiceSettings

DEV_HASH_KEY = "fayuan-development-key-change-me"  # noqa: S105 - the known value refused outside dev


class IntakeSettings(ServiceSettings):
    service_name: str = "intake"
    port: int = 8001
    database_name: str = "fayuan_intake"
    # The key of the adverse parties' hashes (HMAC-SHA256). Changing it changes every hash, so
    # assignment's conflict check would stop matching parties registered before.
    # Production sets FAYUAN_ADVERSE_PARTY_HASH_KEY (a Secret); the default is refused outside dev.
    adverse_party_hash_key: SecretStr = SecretStr(DEV_HASH_KEY)
    # Time limits (domain.md R-ASG-7, R-HDL-6, R-ASG-9), configurable per deployment.
    assignment_working_days: int = Field(default=3, ge=0)
    first_meeting_working_days: int = Field(default=3, ge=0)
    first_meeting_case_kinds: list[CaseKind] = [CaseKind.criminal]
    mandate_days: int = Field(default=5, ge=0)
    closing_file_days: int = Field(default=30, ge=0)
    # R-CHK-2: the agency reviews a closing file within N days of receipt (the review worklist).
    closing_review_days: int = Field(default=30, ge=0)
    # How often the service records missed deadlines by itself (0: never; run `sweep-deadlines`).
    deadline_sweep_seconds: float = Field(default=300.0, ge=0)

    def deadline_policy(self) -> DeadlinePolicy:
        return DeadlinePolicy(assignment_working_days=self.assignment_working_days,
                              first_meeting_working_days=self.first_meeting_working_days,
                              first_meeting_case_kinds=frozenset(self.first_meeting_case_kinds),
                              mandate_days=self.mandate_days, closing_file_days=self.closing_file_days)


IntakeSettingsDep = Annotated[IntakeSettings, Depends(get_settings)]
