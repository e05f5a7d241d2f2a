"""Publication's settings: the kernel's, with this service's name, port and database, and the
targets its disclosures state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from pydantic import Field

from shared.deps import get_settings
from shared.settings import ServiceSettings


class PublicationSettings(ServiceSettings):
    service_name: str = "publication"
    port: int = 8005
    database_name: str = "fayuan_publication"
    excellent_and_good_targets: dict[str, float] = Field(
        default={"2026": 70.0, "2027": 80.0},
        description="The excellent-and-good rate each year's disclosures state as the target (R-EVL-8), "
                    'in %, as JSON: year -> rate, e.g. {"2026": 70, "2027": 80} (the Beijing 2025-2027 '
                    "action plan); a year not named states none")

    def target_for(self, year: int) -> float | None:
        return self.excellent_and_good_targets.get(str(year))


PublicationSettingsDep = Annotated[PublicationSettings, Depends(get_settings)]
