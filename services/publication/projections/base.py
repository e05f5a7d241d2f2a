"""The base of publication's tables."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import SQLModel


class PublicationTable(SQLModel, registry=registry()):
    """The base of this service's tables: their own metadata, so that no other service's
    table of the same name can collide with them when both are imported in one process."""


METADATA = PublicationTable.metadata
