"""Intake's REST API for the aided person's personal data (docs/privacy.md): shown unmasked to
the agency and the case's own handler (each look recorded for auditors), masked to the agency's
checkers, the bureau and auditors; and erased (crypto-shredding) at the agency's order."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from services.intake import access, handlers, privacy
from services.intake.api import CaseId
from services.intake.people import AIDED_PERSON_FIELDS
from services.intake.privacy import VaultDep
from shared import audit
from shared.auth import Principal, Role, allow
from shared.deps import EngineDep, UowFactoryDep
from shared.personal_data import Erased
from shared.validation import ResidentIdNumber

router = APIRouter(prefix="/api/v1/cases", tags=["aided person"])
persons = APIRouter(prefix="/api/v1/aided-persons", tags=["aided person"])

# Who sees the values themselves; every other reader of the case sees masks.
UNMASKED = (Role.agency_staff, Role.case_handler)


class AidedPersonView(BaseModel):
    """受援人 of a case: the values (agency staff, the case's handler), masks (checkers, the quality
    lead, the bureau, auditors), or nothing once the person's data was erased."""

    case_id: str
    masked: bool = Field(description="True when the values are masked (110101********1234, 138****5678, 张*)")
    erased: bool = Field(description="True when the person's data was erased (crypto-shredding): no values")
    erased_at: datetime | None = None
    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None


class EraseAidedPerson(BaseModel):
    """An order to erase an aided person's personal data in every case (the right to erasure)."""

    model_config = ConfigDict(extra="forbid")

    id_number: ResidentIdNumber = Field(description="The person's resident ID number: it finds their data key")
    reason: str = Field(min_length=1, max_length=500, description="Why: the request or decision it follows "
                                                                   "(no personal data)")


class ErasureView(BaseModel):
    person_ref: str = Field(description="The person's pseudonym: its stream aided-person-<ref> records the erasure")
    erased_at: datetime
    erased_by: str
    reason: str
    key_versions: int = Field(description="How many data keys of the person were erased")


@router.get("/{case_id}/aided-person", summary="The aided person of a case (受援人)", response_model=AidedPersonView)
async def aided_person(*, case_id: CaseId, engine: EngineDep, uow: UowFactoryDep, vault: VaultDep,
                       principal: Annotated[Principal, allow(*access.CASE_READERS)]) -> AidedPersonView:
    """The aided person's name, ID number, phone and address. Agency staff and the case's own
    handler see them as they are, and each such answer is recorded for auditors (GET
    /api/v1/audit/personal-data-reads); the checkers, the quality lead, the bureau and auditors
    see masks. After an erasure the case stays readable and this answers `erased`."""
    await access.visible_case(engine, case_id, principal)
    unmasked = principal.role in UNMASKED
    async with uow() as u:
        case = await handlers.load_case(u, case_id)
        assert case.registration is not None
        person = case.registration.aided_person
        values = await privacy.unseal(u.conn, vault, person)
        if isinstance(values, Erased):
            return AidedPersonView(case_id=case_id, masked=not unmasked, erased=True, erased_at=values.erased_at)
        if unmasked:
            # In the transaction that read them: the look is recorded if and only if it is shown.
            await audit.record_read(u.conn, case_id=case_id, person_ref=person.person_ref,
                                    fields=[f for f in AIDED_PERSON_FIELDS if values.get(f)], purpose="case")
        shown = values if unmasked else privacy.masked(values)
    return AidedPersonView(case_id=case_id, masked=not unmasked, erased=False, **shown)


@persons.post("/erasure", summary="Erase an aided person's personal data (crypto-shredding)",
              response_model=ErasureView, dependencies=[allow(Role.agency_staff)])
async def erase_aided_person(*, body: EraseAidedPerson, uow: UowFactoryDep, vault: VaultDep) -> ErasureView:
    """Erase the person's data keys: their name, ID number, phone and address become unreadable in
    every case and every copy of the store, while the cases and their histories stay whole. The
    erasure is recorded with who ordered it and why (stream `aided-person-<person_ref>`). Sent
    again, it changes nothing and answers the erasure in effect; 404 when intake holds no data
    of the person."""
    erasure = await privacy.erase_person(uow, vault, id_number=body.id_number, reason=body.reason)
    return ErasureView(person_ref=erasure.person_ref, erased_at=erasure.erased_at, erased_by=erasure.erased_by,
                       reason=erasure.reason, key_versions=erasure.key_versions)
