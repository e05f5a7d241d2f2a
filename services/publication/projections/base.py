"""The base of publication's tables, and the projector of its events."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from services.publication.domain import (
    CaseClosure,
    CaseGrade,
    CaseSubsidy,
    DisclosureTexts,
    DisclosureWorkflow,
)
from shared.projection import Projection, Recorded


class PublicationTable(SQLModel, registry=registry()):
    """The base of this service's tables: their own metadata, so that no other service's
    table of the same name can collide with them when both are imported in one process."""


METADATA = PublicationTable.metadata

# The folds of publication's own events, each registered in the module of its concept.
projection = Projection(CaseClosure, CaseGrade, CaseSubsidy, DisclosureWorkflow, DisclosureTexts)

__all__ = ["METADATA", "PublicationTable", "Recorded", "projection"]
