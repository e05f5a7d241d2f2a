import asyncio
import base64
import os

from pydantic import SecretStr
from typer.testing import CliRunner

from shared.personal_data import Erased, PersonalDataVault, new_master_key
from shared.privacy_cli import cli

ID_NUMBER = "11010519491231002X"


async def test_the_erase_command_asks_for_the_id_number_hidden_and_shreds_the_person(kernel_db):
    engine, settings = kernel_db
    master, ref_key = new_master_key("k1"), base64.b64encode(os.urandom(32)).decode()
    vault = PersonalDataVault.from_settings(
        settings.model_copy(
            update={
                "personal_data_master_keys": SecretStr(master),
                "personal_data_ref_key": SecretStr(ref_key),
            }
        )
    )
    ref = vault.person_ref(ID_NUMBER)
    async with engine.begin() as conn:
        sealed = await vault.seal(conn, ref, {"name": "张三丰"})
    env = {
        "FAYUAN_DATABASE_URL": settings.database_url,
        "FAYUAN_DATABASE_NAME": settings.database_name,
        "FAYUAN_PERSONAL_DATA_MASTER_KEYS": master,
        "FAYUAN_PERSONAL_DATA_REF_KEY": ref_key,
    }

    def run(*args: str, input: str | None = None):
        # The command runs its own event loop, as it does in a shell.
        return asyncio.to_thread(CliRunner().invoke, cli, list(args), input=input, env=env)

    result = await run(
        "erase", "--actor", "ops-1", "--reason", "court order 2026-17", input=ID_NUMBER.lower() + "\n"
    )
    assert result.exit_code == 0, result.output
    assert f"erased {ref}" in result.output and "by ops-1" in result.output
    assert ID_NUMBER not in result.output.upper()

    again = await run("erase", "--actor", "ops-2", "--reason", "again", "--person-ref", ref)
    assert again.exit_code == 0 and "by ops-1" in again.output
    assert (await run("erase", "--actor", "o", "--reason", "r", "--person-ref", "nobody")).exit_code == 1

    async with engine.connect() as conn:
        assert isinstance(await vault.unseal(conn, ref, sealed), Erased)


async def test_rewrap_moves_every_live_key_to_the_first_master_key(kernel_db):
    engine, settings = kernel_db
    old, new, ref_key = (
        new_master_key("old"),
        new_master_key("new"),
        base64.b64encode(os.urandom(32)).decode(),
    )

    def vault(masters: str) -> PersonalDataVault:
        return PersonalDataVault.from_settings(
            settings.model_copy(
                update={
                    "personal_data_master_keys": SecretStr(masters),
                    "personal_data_ref_key": SecretStr(ref_key),
                }
            )
        )

    async with engine.begin() as conn:
        sealed = [await vault(old).seal(conn, f"p{n}", {"name": f"n{n}"}) for n in range(5)]
    env = {
        "FAYUAN_DATABASE_URL": settings.database_url,
        "FAYUAN_DATABASE_NAME": settings.database_name,
        "FAYUAN_PERSONAL_DATA_MASTER_KEYS": f"{new},{old}",
        "FAYUAN_PERSONAL_DATA_REF_KEY": ref_key,
    }
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["rewrap", "--batch", "2"], env=env)
    assert result.exit_code == 0, result.output
    assert "re-wrapped 5 data keys" in result.output
    async with engine.connect() as conn:
        for n, tokens in enumerate(sealed):
            assert await vault(new).unseal(conn, f"p{n}", tokens) == {"name": f"n{n}"}
