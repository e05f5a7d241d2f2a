"""Words every contract uses (domain.md glossary)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class CaseKind(StrEnum):
    criminal = "criminal"
    civil = "civil"
    administrative = "administrative"
    non_litigation = "non_litigation"


class HandlerKind(StrEnum):
    lawyer = "lawyer"
    grassroots_legal_worker = "grassroots_legal_worker"
    volunteer = "volunteer"


class Grade(StrEnum):
    """R-EVL-2: the result of a peer evaluation."""

    excellent = "excellent"
    good = "good"
    pass_ = "pass"  # noqa: S105 - the grade, not a password
    fail = "fail"


class HandlerRef(BaseModel):
    """Who handles a case, as other services need to name them (public facts, never the aided
    person's)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    handler_id: str
    name: str = Field(max_length=100)
    kind: HandlerKind
    licence_number: str | None = None
    institution_id: str
    institution_name: str
