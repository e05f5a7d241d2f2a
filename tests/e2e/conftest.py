"""The five services as real processes (started exactly as `make run` starts them) on the test
session's PostgreSQL and broker, each stack with databases and topics of its own. Each process
writes its output to `<workdir>/logs/<service>.log` (the personal-data scan reads them)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.embedded import free_ports
from devstack.stack import SERVICES, Stack


@contextlib.contextmanager
def running_stack(database_server_url: str, kafka_bootstrap: str, workdir: Path) -> Iterator[Stack]:
    prefix = f"e{uuid.uuid4().hex[:8]}"
    running = Stack(
        database_url=database_server_url,
        bootstrap=kafka_bootstrap,
        workdir=workdir,
        ports=dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True)),
        movable_ports=True,
        database_prefix=prefix,
        # The tests poll publication's public endpoints ten times a second from one address.
        env={"FAYUAN_TOPIC_PREFIX": f"{prefix}.", "FAYUAN_RELAY_POLL_SECONDS": "0.02",
             "FAYUAN_PUBLIC_RATE_LIMIT": "100000/minute"},
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
            log = workdir / "logs" / f"{name}.log"
            if log.exists() and "Traceback" in log.read_text(errors="replace"):
                print(f"--- {name}.log (has a traceback) ---\n{log.read_text(errors='replace')[-6000:]}")


@pytest.fixture
def stack(database_server_url, kafka_bootstrap, tmp_path):
    with running_stack(database_server_url, kafka_bootstrap, tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def module_stack(database_server_url, kafka_bootstrap, tmp_path_factory):
    """One stack for every test of a module (a flow run once, then examined by several tests)."""
    with running_stack(database_server_url, kafka_bootstrap, tmp_path_factory.mktemp("stack")) as running:
        yield running
