"""Intake's part of `make bench-growth`: does a registration cost more when intake holds a year?

For each size, intake's database of its own is filled with `cases` registrations through the
real command (`handlers.register_case`: the registration's keys, the people sealed in the vault
with a data key each, the case appended to its stream, its row in the case list, the outbox),
eight at a time, with a progress bar; the outbox is then emptied, as the relay's purge does
once every row is published. `bench.growth` then times new registrations through the same
command, taking turns between the sizes. The bodies are the load generator's (bench/load.py),
validated by the API's own model, so each is one the endpoint would accept.

Seeding goes through the command, not COPY, because a registration's history is spread over
five tables that the command keeps consistent (the keys, the vault, the store, the list, the
sequence); at a few milliseconds per case, medium's 100,000 take minutes: it is the slowest part
of `make bench-growth`.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from bench import load
from devstack.stack import new_personal_data_keys
from services.intake import handlers
from services.intake.api.cases import RegisterCase
from services.intake.app import MIGRATIONS
from services.intake.domain.case import CaseType
from services.intake.projections import projection
from services.intake.settings import IntakeSettings
from shared.db import create_engine
from shared.migrations import upgrade
from shared.personal_data import PersonalDataVault
from shared.store import driver
from shared.uow import unit_of_work

WRITERS = 8  # registrations in flight while seeding

_BODIES = [RegisterCase.model_validate(body) for body in load.registration_bodies(2_000, seed=11)]


def intake_settings(server_url: str, size: str) -> IntakeSettings:
    keys = new_personal_data_keys()
    return IntakeSettings(database_url=server_url, database_name=f"intake_growth_{size}",
                          personal_data_master_keys=keys["FAYUAN_PERSONAL_DATA_MASTER_KEYS"],
                          personal_data_ref_key=keys["FAYUAN_PERSONAL_DATA_REF_KEY"],
                          consumers_enabled=False, relay_enabled=False)


class Registrar:
    """Registers cases in one size's database through intake's command."""

    def __init__(self, settings: IntakeSettings):
        self.settings = settings
        self.engine = create_engine(settings)
        self.vault = PersonalDataVault.from_settings(settings)
        self.hash_key = settings.adverse_party_hash_key.get_secret_value()
        self.serial = itertools.count()

    def _uow(self):  # noqa: ANN202 - the unit-of-work factory the handlers take
        return unit_of_work(self.engine, self.settings, projection)

    async def register(self) -> None:
        n = next(self.serial)
        body = _BODIES[n % len(_BODIES)]
        await handlers.register_case(
            self._uow, case_type=CaseType(case_kind=body.case_kind, criminal_stage=body.criminal_stage,
                                          criminal_role=body.criminal_role, matter=body.matter),
            cause=body.cause, district=body.district, agency_id=body.agency_id, flags=body.flags,
            aided_person=body.aided_person, adverse_parties=body.adverse_parties,
            idempotency_key=uuid.uuid4().hex, hash_key=self.hash_key, vault=self.vault)

    async def registered(self) -> int:
        async with self.engine.connect() as conn:
            return int(await (await driver(conn)).fetchval("SELECT count(*) FROM cases"))

    async def purge_outbox(self) -> None:
        """What the relay's purge leaves of a year's registrations, all published: nothing; and
        what autovacuum keeps of a database that old: dead rows gone, statistics current. (Left
        unvacuumed, the 100,000 deleted rows would make the outbox's key-order check a scan of
        them on every registration, a state no database a year old is in.)"""
        async with self.engine.begin() as conn:
            await (await driver(conn)).execute("DELETE FROM outbox")
        async with self.engine.connect() as conn:
            raw = await driver(conn)  # outside a transaction: VACUUM refuses to run in one
            await raw.execute("VACUUM ANALYZE")

    async def close(self) -> None:
        await self.engine.dispose()


async def _seed(registrar: Registrar, cases: int, console: Console) -> None:
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("registering intake's history", total=cases)
        left = itertools.count()

        async def writer() -> None:
            while next(left) < cases:
                await registrar.register()
                progress.advance(task)

        await asyncio.gather(*(writer() for _ in range(min(WRITERS, max(cases, 1)))))
    await registrar.purge_outbox()


def seed(server_url: str, size: str, cases: int, console: Console, *,
         top_up: bool = False) -> tuple[IntakeSettings, float]:
    """Intake's database for `size`, migrated and holding `cases` registrations; the seconds it took.
    With `top_up` (a kept server), the registrations it holds already count: only the rest are made
    (a national year through the command takes the best part of an hour, and may have been stopped)."""
    settings = intake_settings(server_url, size)
    upgrade(settings, MIGRATIONS)

    async def run() -> None:
        registrar = Registrar(settings)
        try:
            held = await registrar.registered() if top_up else 0
            if held:
                console.print(f"{settings.database_name} already holds {held:,} registrations: "
                              f"{max(cases - held, 0):,} more")
            if cases - held > 0 or not held:
                await _seed(registrar, cases - held, console)
        finally:
            await registrar.close()

    started = time.perf_counter()
    asyncio.run(run())
    return settings, time.perf_counter() - started
