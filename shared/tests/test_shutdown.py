"""A service process stops cleanly on SIGTERM (what Kubernetes sends): relay and consumers
finish, the process exits 0 and says so."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from devstack.embedded import free_port
from shared.testing.auth import TEST_MASTER_KEYS, TEST_REF_KEY
from shared.testing.kafka import eventually

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable  # /work/main/.venv/bin/python under pytest


async def test_a_service_process_exits_0_within_20_seconds_of_sigterm(
    database_server_url, kafka_bootstrap, tmp_path,
):
    port = free_port()
    database = f"intake_{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "FAYUAN_DATABASE_URL": database_server_url,
        "FAYUAN_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "FAYUAN_DATABASE_NAME": database,
        "FAYUAN_PORT": str(port),
        "FAYUAN_TOPIC_PREFIX": f"t{uuid.uuid4().hex[:8]}.",
        "FAYUAN_LOG_JSON": "true",
        # Intake refuses to start without the keys that protect personal data (docs/intake.md).
        "FAYUAN_PERSONAL_DATA_MASTER_KEYS": TEST_MASTER_KEYS,
        "FAYUAN_PERSONAL_DATA_REF_KEY": TEST_REF_KEY,
        "FAYUAN_ADVERSE_PARTY_HASH_KEY": "a-test-only-hash-key-0123456789abcdef",
    }
    migrate = await asyncio.create_subprocess_exec(PYTHON, "-m", "services.intake", "migrate",
                                                   cwd=ROOT, env=env)
    assert await asyncio.wait_for(migrate.wait(), 120) == 0

    log = tmp_path / "intake.log"
    with open(log, "wb") as out:  # noqa: ASYNC230  (a test's own temp file)
        server = await asyncio.create_subprocess_exec(
            PYTHON, "-m", "services.intake", "serve", cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        async def alive() -> bool:
            assert server.returncode is None, log.read_text()
            try:
                async with httpx.AsyncClient() as client:
                    answer = await client.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            except httpx.TransportError as exc:
                raise AssertionError(f"GET /healthz: {exc!r}") from exc
            assert answer.status_code == 200, f"GET /healthz: {answer.status_code} {answer.text[:200]}"
            return True

        try:
            await eventually(alive, timeout=60)
        except AssertionError as never:  # what the service said meanwhile, to tell why
            raise AssertionError(f"{never}\n--- the service's log ---\n{log.read_text()[-4000:]}") from None
        server.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(server.wait(), 20)
        except TimeoutError:  # what it was doing instead of stopping
            raise AssertionError(f"still running 20 s after SIGTERM\n--- the service's log ---\n"
                                 f"{log.read_text()[-6000:]}") from None
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
        await _drop(database_server_url, database)
    output = log.read_text()
    assert code == 0, output
    assert "service stopped" in output


async def _drop(server_url: str, database: str) -> None:
    import asyncpg

    from shared.testing.fixtures import dsn

    conn = await asyncpg.connect(dsn(server_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()
