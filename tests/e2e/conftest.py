"""The five services as real processes (started exactly as `make run` starts them) on the test
session's PostgreSQL and broker, each stack with databases and topics of its own."""

from __future__ import annotations

import uuid

import pytest

from shared.devstack import SERVICES, Stack
from shared.embedded import free_port


@pytest.fixture
def stack(database_server_url, kafka_bootstrap, tmp_path):
    prefix = f"e{uuid.uuid4().hex[:8]}"
    running = Stack(
        database_url=database_server_url,
        bootstrap=kafka_bootstrap,
        workdir=tmp_path,
        ports={name: free_port() for name in SERVICES},
        database_prefix=prefix,
        env={"FAYUAN_TOPIC_PREFIX": f"{prefix}.", "FAYUAN_RELAY_POLL_SECONDS": "0.02"},
    )
    running.migrate()
    for name in SERVICES:
        running.start(name)
    try:
        running.wait_ready(timeout=90)
        yield running
    finally:
        running.stop_all()
        for name in SERVICES:
            log = tmp_path / "logs" / f"{name}.log"
            if log.exists() and "Traceback" in log.read_text(errors="replace"):
                print(f"--- {name}.log (has a traceback) ---\n{log.read_text(errors='replace')[-6000:]}")
