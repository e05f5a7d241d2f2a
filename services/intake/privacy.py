"""The aided person's personal data through the vault (docs/privacy.md): sealed at registration
before anything is recorded, unsealed only to be shown (unmasked and audited, or masked), and
erased by crypto-shredding with the erasure recorded as a fact of its own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.erasure import PersonRecord
from services.intake.people import AIDED_PERSON_FIELDS, AdverseParty, AidedPerson, SealedPerson
from shared import context
from shared.aggregate import NotFound
from shared.masking import mask_address, mask_id_number, mask_name, mask_phone
from shared.personal_data import Erased, Erasure, PersonalDataVault
from shared.uow import UnitOfWorkFactory, retry_on_conflict


def get_vault(request: Request) -> PersonalDataVault:
    return request.app.state.vault


VaultDep = Annotated[PersonalDataVault, Depends(get_vault)]

MASKS = {"name": mask_name, "id_number": mask_id_number, "phone": mask_phone, "address": mask_address}


def party_ref(vault: PersonalDataVault, case_id: str, n: int, party: AdverseParty) -> str:
    """An adverse party is a person of their own: by their ID number (or credit code) when known,
    so one erasure covers them in every case; else a ref of this case and place in the list."""
    return vault.person_ref(party.id_number if party.id_number else f"case:{case_id}:party:{n}")


async def seal_people(conn: AsyncConnection, vault: PersonalDataVault, case_id: str, aided: AidedPerson,
                      parties: Sequence[AdverseParty]) -> tuple[SealedPerson, list[SealedPerson]]:
    """The aided person and the adverse parties as tokens, each under their own data key."""
    ref = vault.person_ref(aided.id_number)
    person = SealedPerson(person_ref=ref, sealed=await vault.seal(conn, ref, aided.model_dump()))
    sealed_parties = []
    for n, party in enumerate(parties):
        pref = party_ref(vault, case_id, n, party)
        sealed_parties.append(SealedPerson(person_ref=pref, sealed=await vault.seal(conn, pref, party.model_dump())))
    return person, sealed_parties


async def unseal(conn: AsyncConnection, vault: PersonalDataVault, person: SealedPerson) -> dict[str, str] | Erased:
    return await vault.unseal(conn, person.person_ref, person.sealed)


def masked(values: dict[str, str]) -> dict[str, str]:
    """What a role that may know the person exists, but not who they are, sees (shared/masking.py)."""
    return {f: MASKS[f](v) for f, v in values.items() if f in AIDED_PERSON_FIELDS}


@retry_on_conflict
async def erase_person(uow_factory: UnitOfWorkFactory, vault: PersonalDataVault, *, id_number: str,
                       reason: str) -> Erasure:
    """Crypto-shred the person's data keys and record the erasure on their own stream, in one
    transaction. The same order sent again changes nothing and answers the erasure in effect."""
    ref = vault.person_ref(id_number)
    async with uow_factory() as uow:
        erasure = await vault.erase(uow.conn, ref, actor=context.actor.get(), reason=reason)
        if erasure is None:
            raise NotFound("intake holds no personal data of this person")
        record = await uow.get(PersonRecord, ref)
        if record.record_erasure(erased_at=erasure.erased_at, reason=erasure.reason,
                                 key_versions=erasure.key_versions):
            await uow.save(record)
        return erasure
