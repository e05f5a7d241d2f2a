"""Publication's settings: the kernel's, with this service's name, port and database."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.deps import get_settings
from shared.settings import ServiceSettings


class PublicationSettings(ServiceSettings):
    service_name: str = "publication"
    port: int = 8005
    database_name: str = "fayuan_publication"


PublicationSettingsDep = Annotated[PublicationSettings, Depends(get_settings)]
