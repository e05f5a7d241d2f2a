"""Operators' verbs for personal data: `python -m shared.privacy_cli keygen | erase | rewrap`.

Run with the service's own settings (FAYUAN_DATABASE_NAME, FAYUAN_PERSONAL_DATA_*), e.g. in the
intake pod. `erase` asks for the ID number on the terminal, hidden, so that it never lands in a
shell history or a process list; the erasure row records who and why (docs/privacy.md).
"""

from __future__ import annotations

import asyncio
import base64
import os

import typer

from shared.db import create_engine
from shared.personal_data import Erasure, PersonalDataVault, new_master_key
from shared.settings import ServiceSettings
from shared.validation import resident_id_number

cli = typer.Typer(add_completion=False, no_args_is_help=True)


@cli.command()
def keygen(key_id: str = typer.Option(..., help="Id of the new master key, e.g. the date: 2026-11.")) -> None:
    """Print a new master-key entry and a reference key (the latter only for a new deployment)."""
    typer.echo(f"FAYUAN_PERSONAL_DATA_MASTER_KEYS entry: {new_master_key(key_id)}")
    typer.echo(
        f"FAYUAN_PERSONAL_DATA_REF_KEY (new deployments only): {base64.b64encode(os.urandom(32)).decode()}"
    )


async def _erase(settings: ServiceSettings, person_ref: str, actor: str, reason: str) -> Erasure | None:
    vault = PersonalDataVault.from_settings(settings)
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            return await vault.erase(conn, person_ref, actor=actor, reason=reason)
    finally:
        await engine.dispose()


@cli.command()
def erase(
    actor: str = typer.Option(..., help="Who orders the erasure (the operator's user id)."),
    reason: str = typer.Option(..., help="Why: the request or decision it follows."),
    person_ref: str = typer.Option(
        "", help="The person's ref, if known; otherwise the ID number is asked for."
    ),
) -> None:
    """Crypto-shred an aided person: every sealed value of theirs becomes unreadable."""
    settings = ServiceSettings()
    if not person_ref:
        id_number = resident_id_number(typer.prompt("Resident ID number", hide_input=True).strip())
        person_ref = PersonalDataVault.from_settings(settings).person_ref(id_number)
    erasure = asyncio.run(_erase(settings, person_ref, actor, reason))
    if erasure is None:
        typer.echo(f"no personal data held for {person_ref}")
        raise typer.Exit(1)
    typer.echo(f"erased {person_ref} at {erasure.erased_at:%Y-%m-%d %H:%M:%S%z} by {erasure.erased_by}")


async def _rewrap(settings: ServiceSettings, batch: int) -> int:
    vault = PersonalDataVault.from_settings(settings)
    engine = create_engine(settings)
    total = 0
    try:
        while True:
            async with engine.begin() as conn:
                done = await vault.rewrap(conn, limit=batch)
            total += done
            if done < batch:
                return total
    finally:
        await engine.dispose()


@cli.command()
def rewrap(batch: int = typer.Option(500, min=1, max=10_000)) -> None:
    """Re-wrap every live data key under the first master key (rotation, docs/privacy.md)."""
    typer.echo(f"re-wrapped {asyncio.run(_rewrap(ServiceSettings(), batch))} data keys")


if __name__ == "__main__":
    cli()
