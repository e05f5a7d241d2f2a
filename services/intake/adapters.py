"""The aided person's personal data through the vault (docs/privacy.md): sealed at registration
before anything is recorded, unsealed only to be shown (unmasked and audited, or masked). The
vault itself is the kernel's (shared.personal_data); this is what intake does with it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake.domain.people import AIDED_PERSON_FIELDS, AdverseParty, AidedPerson, SealedPerson
from shared.masking import mask_address, mask_id_number, mask_name, mask_phone
from shared.personal_data import Erased, PersonalDataVault


async def get_vault(request: Request) -> PersonalDataVault:
    vault: PersonalDataVault = request.app.state.vault
    return vault


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
        sealed = await vault.seal(conn, pref, party.model_dump())
        sealed_parties.append(SealedPerson(person_ref=pref, sealed=sealed))
    return person, sealed_parties


async def unseal(conn: AsyncConnection, vault: PersonalDataVault,
                 person: SealedPerson) -> dict[str, str] | Erased:
    return await vault.unseal(conn, person.person_ref, person.sealed)


def masked(values: dict[str, str]) -> dict[str, str]:
    """What a role that may know the person exists, but not who they are, sees (shared/masking.py)."""
    return {f: MASKS[f](v) for f, v in values.items() if f in AIDED_PERSON_FIELDS}
