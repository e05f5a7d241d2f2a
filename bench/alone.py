"""Intake alone on a fresh embedded stack, for the benchmarks that load it without the other
services (bench.profile, bench.floor): nothing else hears its events."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from devstack.embedded import EmbeddedBroker, EmbeddedPostgres, free_port, start_broker, start_postgres
from devstack.stack import Stack


class Alone(NamedTuple):
    workdir: Path
    postgres: EmbeddedPostgres
    broker: EmbeddedBroker
    stack: Stack


@contextmanager
def intake_alone(prefix: str) -> Iterator[Alone]:
    """A fresh PostgreSQL and broker, intake's database migrated, and a Stack that knows intake's
    port (the caller starts intake its own way). At the end everything started is stopped and
    the database's files removed; the work directory, with the logs, is the caller's."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    (workdir / "logs").mkdir()
    postgres = start_postgres(workdir / "pgdata", keep_data=False)
    broker = start_broker(free_port(), log_file=workdir / "logs" / "tansu.log")
    stack = Stack(database_url=postgres.url, bootstrap=broker.bootstrap, workdir=workdir,
                  ports={"intake": free_port()}, movable_ports=True)
    try:
        stack.migrate()
        yield Alone(workdir, postgres, broker, stack)
    finally:
        stack.stop_all()
        broker.stop()
        postgres.stop()
        shutil.rmtree(workdir / "pgdata", ignore_errors=True)
