"""Words every contract uses (domain.md glossary)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

# The contract's examples (docs/asyncapi.yaml shows one per message) are about one made-up
# criminal case, each example on its own (a case is closed or terminated, not both). Every id is
# invented; the names are a made-up lawyer's and firm's (public facts of the provider pool);
# nothing is, or may ever be, an aided person's: a contract carries only keyed hashes of them.
EXAMPLE_CASE_ID = "5fc59ab4-d874-4130-a084-d33e32c719a1"
EXAMPLE_CASE_NUMBER = "FY-2026-000137"
EXAMPLE_AGENCY_ID = "chaoyang-centre"
EXAMPLE_EVALUATION_ID = "98bf2ada-4a98-4f4a-8dfc-df88822b050f"
EXAMPLE_DISTRICT = "朝阳区"
EXAMPLE_LAWYER: JsonDict = {
    "handler_id": "4b9e96a3-77b4-4aaf-93fa-a3317ab423c8",
    "name": "李文博",
    "kind": "lawyer",
    "licence_number": "11101201810234567",
    "institution_id": "daaa3e0a-e345-45ad-a66e-d4095252ffa5",
    "institution_name": "北京金诚律师事务所",
}


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

    model_config = ConfigDict(extra="ignore", frozen=True, json_schema_extra={"examples": [EXAMPLE_LAWYER]})

    handler_id: str
    name: str = Field(max_length=100)
    kind: HandlerKind
    licence_number: str | None = None
    institution_id: str
    institution_name: str
