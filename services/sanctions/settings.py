"""The sanctions service's settings (FAYUAN_* environment variables) and the typed dependency
routers read them through."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.deps import get_settings
from shared.settings import ServiceSettings


class SanctionsSettings(ServiceSettings):
    service_name: str = "sanctions"
    port: int = 8004
    database_name: str = "fayuan_sanctions"


SanctionsSettingsDep = Annotated[SanctionsSettings, Depends(get_settings)]
"""The settings the app was built with, typed as this service's (shared.deps.get_settings)."""
