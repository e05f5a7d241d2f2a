"""pytest plugin (loaded by the root conftest.py)."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar, overload

# asyncpg ships no type information (no py.typed, no stubs): its objects are Any here.
import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from devstack.embedded import free_port, start_broker, start_postgres
from shared.settings import ServiceSettings
from shared.testing.auth import TEST_DEV_SECRET, TEST_MASTER_KEYS, TEST_REF_KEY, staff

S = TypeVar("S", bound=ServiceSettings)


class FreshDatabase(Protocol):
    """`fresh_database`: creates an empty database named after `prefix` and gives its name."""

    def __call__(self, prefix: str = ...) -> Awaitable[str]: ...


class MakeSettings(Protocol):
    """`make_settings`: settings of `settings_class` (ServiceSettings when not given) for this test."""

    @overload
    def __call__(self, settings_class: type[S], /, **overrides: object) -> S: ...
    @overload
    def __call__(self, /, **overrides: object) -> ServiceSettings: ...


class MigratedSettings(Protocol):
    """`migrated_settings`: settings of a service whose fresh database is migrated to head."""

    def __call__(self, settings_class: type[S], migrations: Path, **overrides: object) -> Awaitable[S]: ...


@pytest.fixture(scope="session")
def database_server_url() -> Iterator[str]:
    """URL of the PostgreSQL server of this test session (database part: `postgres`)."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    server = start_postgres(Path(tempfile.mkdtemp(prefix="fayuan-test-")) / "pgdata", keep_data=False)
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap servers of this test session's broker."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    broker = start_broker(free_port(), log_file=tmp_path_factory.mktemp("tansu") / "tansu.log")
    yield broker.bootstrap
    broker.stop()


def dsn(server_url: str, database: str) -> str:
    """An asyncpg DSN for `database` on the session's server."""
    return make_url(server_url).set(drivername="postgresql", database=database).render_as_string(
        hide_password=False
    )


@pytest.fixture
async def fresh_database(database_server_url: str) -> AsyncIterator[FreshDatabase]:
    """Factory of empty databases named for the test; all dropped when the test ends."""
    created: list[str] = []
    admin = await asyncpg.connect(dsn(database_server_url, "postgres"))

    async def make(prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return name

    yield make
    for name in created:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


def settings_under_test(settings_class: type[S], database_server_url: str, kafka_bootstrap: str,
                        topic_prefix: str, **overrides: object) -> S:
    """The settings `make_settings` gives, for fixtures of a wider scope than one test."""
    # Any: the values go to the settings class's fields, each of its own type.
    values: dict[str, Any] = {
        "database_url": database_server_url,
        "kafka_bootstrap_servers": kafka_bootstrap,
        "topic_prefix": topic_prefix,
        "relay_poll_seconds": 0.02,
        "relay_epoch_check_seconds": 1.0,
        "consumer_retry_backoff_seconds": 0.01,
        "log_json": False,
        # Tokens in tests are minted with the dev secret (shared/testing/auth.py).
        "environment": "dev",
        "auth_dev_secret": TEST_DEV_SECRET,
        "personal_data_master_keys": TEST_MASTER_KEYS,
        "personal_data_ref_key": TEST_REF_KEY,
        # Tests poll public endpoints from one address (eventually(): ten a second); the limit's
        # own tests set theirs (shared/tests/test_rate_limit.py).
        "public_rate_limit": "100000/minute",
    }
    values.update(overrides)
    return settings_class(**values)


@pytest.fixture
def make_settings(database_server_url: str, kafka_bootstrap: str) -> MakeSettings:
    """Settings for a service under test: the session's server and broker, topics and groups
    under a prefix of this test's own, so tests sharing the broker never see each other."""
    prefix = f"t{uuid.uuid4().hex[:8]}."

    # The class is positional-only so that the overloads can say: the settings are of the class given.
    @overload
    def make(settings_class: type[S], /, **overrides: object) -> S: ...
    @overload
    def make(**overrides: object) -> ServiceSettings: ...
    def make(
        settings_class: type[ServiceSettings] = ServiceSettings, /, **overrides: object
    ) -> ServiceSettings:
        return settings_under_test(settings_class, database_server_url, kafka_bootstrap, prefix, **overrides)

    return make


@pytest.fixture
async def kernel_db(fresh_database: FreshDatabase, make_settings: MakeSettings,
                    database_server_url: str) -> AsyncIterator[tuple[AsyncEngine, ServiceSettings]]:
    """A fresh database with the kernel tables, its engine and settings (service `kernel`)."""
    from shared.db import KERNEL_DDL, create_engine

    name = await fresh_database("kernel")
    conn = await asyncpg.connect(dsn(database_server_url, name))
    for statement in KERNEL_DDL:
        await conn.execute(statement)
    await conn.close()
    settings = make_settings(service_name="kernel", database_name=name)
    engine = create_engine(settings)
    yield engine, settings
    await engine.dispose()


@pytest.fixture
def migrated_settings(fresh_database: FreshDatabase, make_settings: MakeSettings) -> MigratedSettings:
    """Factory: settings of a service whose fresh database is migrated to head."""
    import asyncio

    from shared.migrations import upgrade

    async def make(settings_class: type[S], migrations: Path, **overrides: object) -> S:
        name = await fresh_database(settings_class.model_fields["service_name"].default)
        settings = make_settings(settings_class, database_name=name, **overrides)
        await asyncio.to_thread(upgrade, settings, migrations)
        return settings

    return make


@contextlib.asynccontextmanager
async def serve_in_process(
    app: FastAPI, *, headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan (engine, relay, consumers) and talk HTTP to it in-process, as the
    default caller (agency staff and the bureau: shared/testing/auth.py STAFF_ROLES) unless
    `headers` say otherwise; a request's own headers (as_role(...)) override them."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        default = staff(app.state.settings) if headers is None else headers
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                     headers=default) as client:
            yield client
