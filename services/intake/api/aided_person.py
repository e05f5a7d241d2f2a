"""The aided person's personal data (docs/privacy.md): shown unmasked to
the agency and the case's own handler (each look recorded for auditors), masked to the agency's
checkers, the bureau and auditors; and erased (crypto-shredding) at the agency's order."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.intake import handlers
from services.intake.adapters import VaultDep
from services.intake.api.cases import CaseId
from services.intake.queries import access
from services.intake.queries.views import AidedPersonView
from shared.auth import Principal, Role, allow
from shared.deps import UowFactoryDep
from shared.validation import ResidentIdNumber

router = APIRouter(prefix="/api/v1/cases", tags=["aided person"])
persons = APIRouter(prefix="/api/v1/aided-persons", tags=["aided person"])

# Who sees the values themselves; every other reader of the case sees masks.
UNMASKED = (Role.agency_staff, Role.case_handler)


class EraseAidedPerson(BaseModel):
    """An order to erase an aided person's personal data in every case (the right to erasure)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"id_number": "110105198503121234",
         "reason": "受援人书面申请删除个人信息（朝援删〔2026〕3号），所涉案件均已结案归档"},
    ]})

    id_number: ResidentIdNumber = Field(description="The person's resident ID number: it finds their data "
                                                    "key")
    reason: str = Field(min_length=1, max_length=500, description="Why: the request or decision it follows "
                                                                   "(no personal data)")


class ErasureView(BaseModel):
    person_ref: str = Field(description="The person's pseudonym: its stream aided-person-<ref> records the "
                                        "erasure")
    erased_at: datetime
    erased_by: str
    reason: str
    key_versions: int = Field(description="How many data keys of the person were erased")


@router.get("/{case_id}/aided-person", summary="The aided person of a case (受援人)",
            response_model=AidedPersonView)
async def aided_person(*, case_id: CaseId, uow: UowFactoryDep, vault: VaultDep,
                       principal: Annotated[Principal, allow(*access.CASE_READERS)]) -> AidedPersonView:
    """The aided person's name, ID number, phone and address. Agency staff and the case's own
    handler see them as they are, and each such answer is recorded for auditors (GET
    /api/v1/audit/personal-data-reads); the checkers, the quality lead, the bureau and auditors
    see masks. After an erasure the case stays readable and this answers `erased`."""
    return await handlers.show_aided_person(uow, vault, case_id, principal=principal,
                                            unmasked=principal.role in UNMASKED)


@persons.post("/erasure", summary="Erase an aided person's personal data (crypto-shredding)",
              response_model=ErasureView, dependencies=[allow(Role.agency_staff)])
async def erase_aided_person(*, body: EraseAidedPerson, uow: UowFactoryDep, vault: VaultDep) -> ErasureView:
    """Erase the person's data keys: their name, ID number, phone and address become unreadable in
    every case and every copy of the store, while the cases and their histories stay whole. The
    erasure is recorded with who ordered it and why (stream `aided-person-<person_ref>`). Sent
    again, it changes nothing and answers the erasure in effect; 404 when intake holds no data
    of the person."""
    erasure = await handlers.erase_person(uow, vault, id_number=body.id_number, reason=body.reason)
    return ErasureView(person_ref=erasure.person_ref, erased_at=erasure.erased_at,
                       erased_by=erasure.erased_by, reason=erasure.reason, key_versions=erasure.key_versions)
