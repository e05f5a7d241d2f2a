"""Wiring of the intake service."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from pydantic import Field, SecretStr

from services.intake import api, api_end, api_privacy, api_record
from services.intake.consumers import CONSUMERS
from services.intake.deadlines import DeadlinePolicy
from services.intake.projections import project
from services.intake.queries import sweep_periodically
from shared.contracts import CaseKind
from shared.personal_data import PersonalDataVault
from shared.service import ServiceSpec, build_app
from shared.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "migrations"
DEV_HASH_KEY = "fayuan-development-key-change-me"  # noqa: S105 - the known value refused outside dev


class ConfigurationError(RuntimeError):
    """A setting intake must not run with (the message names it, never its value)."""


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
    # How often the service records missed deadlines by itself (0: never; run `sweep-deadlines`).
    deadline_sweep_seconds: float = Field(default=300.0, ge=0)

    def deadline_policy(self) -> DeadlinePolicy:
        return DeadlinePolicy(assignment_working_days=self.assignment_working_days,
                              first_meeting_working_days=self.first_meeting_working_days,
                              first_meeting_case_kinds=frozenset(self.first_meeting_case_kinds),
                              mandate_days=self.mandate_days, closing_file_days=self.closing_file_days)


SPEC = ServiceSpec(
    title="Fayuan intake",
    description="Legal-aid cases: registration (by agencies and by notifying courts, procuratorates and police), "
                "the case's state and handler, the handling record and its timeline, deadlines and the overdue "
                "worklist, closure, the closing file, its check and sign-off, archive, follow-ups, and the next "
                "stage of a criminal case.",
    routers=[api.router, api_record.router, api_end.router, api_end.checklists, api_record.worklist,
             api_privacy.router, api_privacy.persons],
    migrations=MIGRATIONS,
    consumers=CONSUMERS,
    projector=project,
    background=[sweep_periodically],
)


def check_keys(settings: ServiceSettings) -> PersonalDataVault:
    """Refuse to start without the keys that protect the people of a case: the vault's (a missing
    or malformed key raises VaultConfigError naming its setting) and, outside dev, a hash key of
    one's own (the default is public, so its hashes could be reversed by trying names)."""
    hash_key = getattr(settings, "adverse_party_hash_key", SecretStr(DEV_HASH_KEY)).get_secret_value()
    if settings.environment != "dev" and hash_key == DEV_HASH_KEY:
        raise ConfigurationError("FAYUAN_ADVERSE_PARTY_HASH_KEY is the development default; set a random key of "
                                 "at least 32 bytes from a Secret (docs/intake.md, Keys), or FAYUAN_ENVIRONMENT=dev")
    return PersonalDataVault.from_settings(settings)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    vault = check_keys(settings)
    app = build_app(SPEC, settings)
    app.state.vault = vault
    return app
