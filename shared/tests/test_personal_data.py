import asyncio
import base64
import os

import pytest
from pydantic import SecretStr

from shared import store
from shared.aggregate import Aggregate, DomainEvent
from shared.personal_data import (
    Erased,
    PersonalDataError,
    PersonalDataVault,
    VaultConfigError,
    new_master_key,
    parse_master_keys,
)
from shared.store import driver
from shared.uow import unit_of_work

REF_KEY = base64.b64encode(os.urandom(32)).decode()
ZHANG = {
    "name": "张三丰",
    "id_number": "11010519491231002X",
    "phone": "13812345678",
    "address": "北京市朝阳区建国路1号",
}
LI = {"name": "李四", "id_number": "110101199003071234", "phone": "13987654321", "address": None}


def vault_of(*master_keys: str, ref_key: str = REF_KEY) -> PersonalDataVault:
    from shared.settings import ServiceSettings

    settings = ServiceSettings(
        personal_data_master_keys=SecretStr(",".join(master_keys)), personal_data_ref_key=SecretStr(ref_key)
    )
    return PersonalDataVault.from_settings(settings)


MASTER = new_master_key("k1")


@pytest.fixture
def vault():
    return vault_of(MASTER)


async def seal(engine, vault, person):
    ref = vault.person_ref(person["id_number"])
    async with engine.begin() as conn:
        return ref, await vault.seal(conn, ref, person)


async def unseal(engine, vault, ref, sealed):
    async with engine.connect() as conn:
        return await vault.unseal(conn, ref, sealed)


async def test_sealed_values_read_back_and_hold_no_plaintext(kernel_db, vault):
    engine, _ = kernel_db
    ref, sealed = await seal(engine, vault, ZHANG)
    assert set(sealed) == set(ZHANG)
    assert all(t.startswith("pd1:1:") for t in sealed.values())
    assert not any(v in t for v in ZHANG.values() for t in sealed.values())
    assert await unseal(engine, vault, ref, sealed) == ZHANG


async def test_the_same_person_shares_one_data_key_across_cases_and_none_is_not_sealed(kernel_db, vault):
    engine, _ = kernel_db
    ref, first = await seal(engine, vault, LI)
    _, second = await seal(engine, vault, {**LI, "id_number": LI["id_number"].lower()})
    assert "address" not in first
    assert first["name"] != second["name"]  # a fresh nonce every time
    async with engine.connect() as conn:
        assert await (await driver(conn)).fetchval("SELECT count(*) FROM personal_data_keys") == 1
    assert (await unseal(engine, vault, ref, second))["name"] == "李四"


async def test_a_token_altered_or_moved_to_another_field_or_person_does_not_open(kernel_db, vault):
    engine, _ = kernel_db
    ref, sealed = await seal(engine, vault, ZHANG)
    li_ref, li_sealed = await seal(engine, vault, LI)
    token = sealed["name"]
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for ref_, bad in [
        (ref, {"name": flipped}),
        (ref, {"phone": sealed["name"]}),
        (li_ref, {"name": sealed["name"]}),
        (ref, {"name": li_sealed["name"]}),
        (ref, {"name": "张三丰"}),
        (ref, {"name": token.replace("pd1:1:", "pd1:2:")}),
    ]:
        with pytest.raises(PersonalDataError):
            await unseal(engine, vault, ref_, bad)


async def test_erasure_makes_every_sealed_value_of_the_person_unreadable_and_spares_others(kernel_db, vault):
    engine, _ = kernel_db
    ref, sealed = await seal(engine, vault, ZHANG)
    _, again = await seal(engine, vault, ZHANG)
    li_ref, li_sealed = await seal(engine, vault, LI)
    async with engine.begin() as conn:
        erasure = await vault.erase(conn, ref, actor="auditor-7", reason="aided person's request (art. 47)")
    assert (erasure.erased_by, erasure.reason, erasure.key_versions) == (
        "auditor-7",
        "aided person's request (art. 47)",
        1,
    )

    for tokens in (sealed, again):
        result = await unseal(engine, vault, ref, tokens)
        assert isinstance(result, Erased) and result.erased_at == erasure.erased_at
    # A new process, fresh from settings, has no key cached either; the wrapped key is gone.
    fresh = vault_of(MASTER)
    assert isinstance(await unseal(engine, fresh, ref, sealed), Erased)
    async with engine.connect() as conn:
        row = await (await driver(conn)).fetchrow(
            "SELECT * FROM personal_data_keys WHERE person_ref = $1", ref
        )
    assert row["wrapped_key"] is None and row["erased_by"] == "auditor-7"
    assert (await unseal(engine, vault, li_ref, li_sealed))["name"] == "李四"


async def test_erasure_is_idempotent_and_keeps_the_first_record(kernel_db, vault):
    engine, _ = kernel_db
    ref, _ = await seal(engine, vault, ZHANG)
    async with engine.begin() as conn:
        first = await vault.erase(conn, ref, actor="a1", reason="request")
    async with engine.begin() as conn:
        second = await vault.erase(conn, ref, actor="a2", reason="again")
        assert await vault.erase(conn, "never-seen", actor="a2", reason="again") is None
    assert second == first
    with pytest.raises(ValueError):
        async with engine.begin() as conn:
            await vault.erase(conn, ref, actor="a1", reason=" ")


async def test_an_erased_person_who_applies_again_gets_a_new_key_version(kernel_db, vault):
    engine, _ = kernel_db
    ref, old = await seal(engine, vault, ZHANG)
    async with engine.begin() as conn:
        await vault.erase(conn, ref, actor="a1", reason="request")
    _, new = await seal(engine, vault, ZHANG)
    assert new["name"].startswith("pd1:2:")
    assert await unseal(engine, vault, ref, new) == ZHANG
    assert isinstance(await unseal(engine, vault, ref, old), Erased)
    async with engine.begin() as conn:
        erasure = await vault.erase(conn, ref, actor="a2", reason="second request")
    assert (erasure.erased_by, erasure.reason, erasure.key_versions) == ("a2", "second request", 2)
    assert isinstance(await unseal(engine, vault, ref, new), Erased)


async def test_sealing_nothing_creates_no_key(kernel_db, vault):
    engine, _ = kernel_db
    async with engine.begin() as conn:
        assert await vault.seal(conn, "p", {"address": None}) == {}
        assert await vault.unseal(conn, "p", {}) == {}
        assert await vault.erase(conn, "p", actor="a", reason="r") is None


async def test_erasure_rolls_back_with_the_callers_transaction(kernel_db, vault):
    engine, _ = kernel_db
    ref, sealed = await seal(engine, vault, ZHANG)
    with pytest.raises(RuntimeError):
        async with engine.begin() as conn:
            await vault.erase(conn, ref, actor="a1", reason="request")
            raise RuntimeError("the command failed after the erasure")
    assert await unseal(engine, vault, ref, sealed) == ZHANG


async def test_sealed_values_in_the_event_store_become_erased_without_touching_the_history(kernel_db, vault):
    engine, _ = kernel_db
    ref = vault.person_ref(ZHANG["id_number"])
    async with engine.begin() as conn:
        sealed = await vault.seal(conn, ref, ZHANG)
        await store.append(
            conn, "case-1", 0, [store.NewEvent("CaseRegistered", {"applicant": sealed, "ref": ref})]
        )
    async with engine.begin() as conn:
        await vault.erase(conn, ref, actor="a1", reason="request")
    async with engine.connect() as conn:
        (event,) = await store.load(conn, "case-1")
        assert event.data["applicant"] == sealed
        assert isinstance(await vault.unseal(conn, ref, event.data["applicant"]), Erased)


async def test_concurrent_first_seals_of_one_person_agree_on_one_key(kernel_db, vault):
    engine, _ = kernel_db
    results = await asyncio.gather(*(seal(engine, vault, ZHANG) for _ in range(6)))
    for ref, sealed in results:
        assert await unseal(engine, vault, ref, sealed) == ZHANG


async def test_a_first_seal_waiting_on_anothers_uncommitted_first_key_seals_with_that_key(kernel_db, vault):
    # The race the one-statement path cannot settle alone: its insert waits on the other's
    # uncommitted key, adds nothing when that commits, and reads the committed key instead.
    engine, _ = kernel_db
    ref = vault.person_ref(ZHANG["id_number"])
    async with engine.begin() as first:
        sealed_first = await vault.seal(first, ref, ZHANG)
        second = asyncio.create_task(seal(engine, vault, ZHANG))
        async with engine.connect() as watcher:
            db = await driver(watcher)
            for _ in range(200):
                if await db.fetchval("SELECT count(*) FROM pg_stat_activity "
                                     "WHERE datname = current_database() AND wait_event_type = 'Lock'"):
                    break
                await asyncio.sleep(0.02)
            else:
                pytest.fail("the second seal never waited on the first's key")
    _, sealed_second = await second
    assert await unseal(engine, vault, ref, sealed_first) == ZHANG
    assert await unseal(engine, vault, ref, sealed_second) == ZHANG
    async with engine.connect() as conn:
        versions = await (await driver(conn)).fetch(
            "SELECT key_version FROM personal_data_keys WHERE person_ref = $1", ref)
    assert [r["key_version"] for r in versions] == [1]


async def test_a_key_wrapped_by_the_old_master_still_opens_when_it_is_listed_second(kernel_db):
    engine, _ = kernel_db
    old, new = new_master_key("2025"), new_master_key("2026")
    ref, sealed = await seal(engine, vault_of(old), ZHANG)
    rotated = vault_of(new, old)
    assert await unseal(engine, rotated, ref, sealed) == ZHANG
    _, li_sealed = await seal(engine, rotated, LI)
    async with engine.begin() as conn:
        assert await rotated.rewrap(conn) == 1
    # Once re-wrapped, the old master key can be retired.
    assert await unseal(engine, vault_of(new), ref, sealed) == ZHANG
    with pytest.raises(VaultConfigError, match="'2026'.*not configured"):
        await unseal(engine, vault_of(old), vault_of(old).person_ref(LI["id_number"]), li_sealed)


async def test_a_wrong_master_key_fails_clearly(kernel_db):
    engine, _ = kernel_db
    ref, sealed = await seal(engine, vault_of(new_master_key("k1")), ZHANG)
    with pytest.raises(VaultConfigError, match="does not unwrap with master key 'k1'"):
        await unseal(engine, vault_of(new_master_key("k1")), ref, sealed)


@pytest.mark.parametrize(
    ("master", "ref_key", "message"),
    [
        ("", REF_KEY, "no master key"),
        ("k1", REF_KEY, "not 'id:base64'"),
        ("k1:not base64!", REF_KEY, "not base64"),
        (f"k1:{base64.b64encode(os.urandom(16)).decode()}", REF_KEY, "not 32 bytes"),
        (f"{new_master_key('k1')},{new_master_key('k1')}", REF_KEY, "listed twice"),
        (new_master_key("k1"), "", "no reference key"),
        (new_master_key("k1"), base64.b64encode(b"short").decode(), "shorter than 32"),
    ],
    ids=["empty", "no-colon", "not-base64", "16-bytes", "twice", "no-ref-key", "short-ref-key"],
)
def test_missing_or_malformed_keys_are_refused_at_start_without_showing_them(master, ref_key, message):
    with pytest.raises(VaultConfigError, match=message) as caught:
        vault_of(master, ref_key=ref_key)
    for secret in (master.partition(":")[2], ref_key):
        assert not secret or secret not in str(caught.value)


def test_the_person_ref_is_keyed():
    id_number = ZHANG["id_number"]
    assert vault_of(new_master_key("a")).person_ref(id_number) == vault_of(new_master_key("b")).person_ref(
        id_number
    )
    other = base64.b64encode(os.urandom(32)).decode()
    assert vault_of(new_master_key("a")).person_ref(id_number) != vault_of(
        new_master_key("a"), ref_key=other
    ).person_ref(id_number)
    assert list(parse_master_keys(f"{new_master_key('x')}, {new_master_key('y')}")) == ["x", "y"]


class ApplicantRegistered(DomainEvent):
    person_ref: str
    aided_person: dict[str, str]


class Application(Aggregate):
    stream_prefix = "application"

    def __init__(self, id: str):
        super().__init__(id)
        self.person_ref: str | None = None
        self.aided_person: dict[str, str] = {}

    def register(self, person_ref: str, sealed: dict[str, str]) -> None:
        self.record(ApplicantRegistered(person_ref=person_ref, aided_person=sealed))

    def when_ApplicantRegistered(self, event: ApplicantRegistered) -> None:
        self.person_ref, self.aided_person = event.person_ref, event.aided_person


Application.handles(ApplicantRegistered)


async def test_in_a_unit_of_work_the_key_and_the_event_commit_together_and_the_history_outlives_erasure(
    kernel_db, vault
):
    engine, settings = kernel_db
    ref = vault.person_ref(ZHANG["id_number"])
    with pytest.raises(RuntimeError):
        async with unit_of_work(engine, settings) as uow:
            application = await uow.get(Application, "a-1")
            application.register(ref, await vault.seal(uow.conn, ref, ZHANG))
            await uow.save(application)
            raise RuntimeError("the command fails after sealing")
    async with engine.connect() as conn:
        assert await (await driver(conn)).fetchval("SELECT count(*) FROM personal_data_keys") == 0

    async with unit_of_work(engine, settings) as uow:
        application = await uow.get(Application, "a-1")
        application.register(ref, await vault.seal(uow.conn, ref, ZHANG))
        await uow.save(application)
    async with unit_of_work(engine, settings) as uow:
        await vault.erase(uow.conn, ref, actor="a1", reason="request")
    async with unit_of_work(engine, settings) as uow:
        application = await uow.get(Application, "a-1")
        assert application.version == 1 and application.person_ref == ref
        assert isinstance(await vault.unseal(uow.conn, ref, application.aided_person), Erased)
