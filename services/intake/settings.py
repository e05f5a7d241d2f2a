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
    adverse_party_hash_key: SecretStr = Field(
        default=SecretStr(DEV_HASH_KEY),
        description="Key of the adverse parties' hashes (HMAC-SHA256) that assignment's conflict check "
                    "compares; changing it stops matching parties registered before. From a Secret; the "
                    "default is refused outside dev",
        examples=["<a random key of at least 32 bytes>"])
    assignment_working_days: int = Field(
        default=3, ge=0,
        description="Working days after registration within which a handler is due (R-ASG-7)")
    first_meeting_working_days: int = Field(
        default=3, ge=0, description="Working days after assignment within which the handler first meets "
                                     "the aided person, in the kinds of case below (R-HDL-6)")
    first_meeting_case_kinds: list[CaseKind] = Field(
        default=[CaseKind.criminal],
        description="The kinds of case with a first-meeting time limit (R-HDL-6)")
    mandate_days: int = Field(
        default=5, ge=0, description="Days after assignment within which the mandate is recorded (R-ASG-9)")
    closing_file_days: int = Field(
        default=30, ge=0, description="Days after the end of a case within which the closing file is "
                                      "submitted (R-HDL-6)")
    closing_review_days: int = Field(
        default=30, ge=0, description="Days after a closing file is handed in within which the agency "
                                      "checks it and its quality lead signs it off (R-CHK-2; the review "
                                      "worklist)")
    deadline_sweep_seconds: float = Field(
        default=300.0, ge=0, description="How often, in seconds, the service records missed deadlines by "
                                         "itself; 0: never (run `sweep-deadlines` from a scheduler)")

    def deadline_policy(self) -> DeadlinePolicy:
        return DeadlinePolicy(assignment_working_days=self.assignment_working_days,
                              first_meeting_working_days=self.first_meeting_working_days,
                              first_meeting_case_kinds=frozenset(self.first_meeting_case_kinds),
                              mandate_days=self.mandate_days, closing_file_days=self.closing_file_days)


IntakeSettingsDep = Annotated[IntakeSettings, Depends(get_settings)]
