"""`python -m devstack run` (what `make run` runs) as a process of its own, on ports and in a
work directory of its own, with its own embedded PostgreSQL and broker: for the tests of what
`make run` itself does (supervision, stopping)."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from devstack.stack import ROOT, SERVICES, Stack


def _free(port: int) -> bool:
    with contextlib.closing(socket.socket()) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


START_TIMEOUT = 600  # seconds


def _ephemeral_floor() -> int:
    """The lowest port the kernel hands out for port 0 (Linux's ip_local_port_range)."""
    with contextlib.suppress(OSError, ValueError):
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    return 32768


def free_port_base() -> tuple[int, int]:
    """A base whose + 1 … + 5 are free (the services' ports), and a free port for the broker, all
    below the range the kernel hands out for port 0: the run binds them seconds later, and the
    suite's other stacks, started meanwhile on ports the kernel chose (`free_ports`), can then
    never have taken one of them (a service of a run once died of "address already in use")."""
    rng = random.Random()  # noqa: S311 - a place to listen, not a secret
    top = _ephemeral_floor() - 10
    for _ in range(200):
        base = rng.randrange(10_000, top)
        broker = base + 9
        if all(_free(base + port - 8000) for port in SERVICES.values()) and _free(broker):
            return base, broker
    raise RuntimeError("no five free ports in a row below the kernel's ephemeral range")


@dataclass
class DevstackRun:
    process: subprocess.Popen
    workdir: Path
    stack: Stack  # tokens and URLs of the run's services (the process owns them)
    console: Path

    def output(self) -> str:
        return self.console.read_text(errors="replace")

    def part(self, *words: str) -> psutil.Process:
        """The running child of the run whose command line holds all of `words`."""
        for child in psutil.Process(self.process.pid).children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                if all(any(w in arg for arg in child.cmdline()) for w in words):
                    return child
        raise LookupError(f"no process of the run with {words}")

    def postmaster(self) -> psutil.Process:
        pid = int((self.workdir / "pgdata" / "postmaster.pid").read_text().split()[0])
        return psutil.Process(pid)

    def every_process(self) -> list[psutil.Process]:
        """The run, everything it started, and its PostgreSQL (pg_ctl daemonizes it)."""
        own = psutil.Process(self.process.pid)
        return [own, *own.children(recursive=True), self.postmaster(), *self.postmaster().children()]

    def wait_for(self, text: str, count: int = 1, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.output().count(text) < count:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"`{text}` x{count} not seen; the run said:\n{self.output()[-4000:]}")
            time.sleep(0.2)


def _every_service_ready(run: DevstackRun, ports: dict[str, int], timeout: float = 60) -> None:
    """Each service answers /readyz. The run said so before printing that it is running, but a
    service that died since is restarted by its supervision: wait for that, and when it does not come
    back, fail with what the run and the service said rather than a bare refused connection."""
    deadline = time.monotonic() + timeout
    for name in ports:
        last = ""
        while True:
            try:
                answer = httpx.get(run.stack.url(name) + "/readyz", timeout=5)
                if answer.status_code == 200:
                    break
                last = f"{answer.status_code} {answer.text[:500]}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if run.process.poll() is not None or time.monotonic() > deadline:
                log = run.workdir / "logs" / f"{name}.log"
                said = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
                raise AssertionError(f"{name} not ready: {last}\nthe run said:\n{run.output()[-3000:]}"
                                     f"\n{name}'s log:\n{said}")
            time.sleep(0.5)


def run_dir() -> Path:
    """A work directory for a run: like the session's own PostgreSQL, not under pytest's tmp_path,
    which the user PostgreSQL runs as (when the tests run as root) may not enter."""
    return Path(tempfile.mkdtemp(prefix="fayuan-run-"))


def environment() -> dict[str, str]:
    # Its own embedded PostgreSQL and broker, whatever the test session uses.
    return {k: v for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS") and not k.startswith("FAYUAN_")}


@contextlib.contextmanager
def devstack_run(workdir: Path, *, ignore_sigint: bool = False) -> Iterator[DevstackRun]:
    base, broker_port = free_port_base()
    console = workdir / "console.txt"
    workdir.mkdir(parents=True, exist_ok=True)

    def ignored_sigint() -> None:  # as a background job of a non-interactive shell inherits it
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    with open(console, "wb") as out:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "devstack", "run", "--workdir", str(workdir), "--port-base", str(base),
             "--broker-port", str(broker_port)], cwd=ROOT, env=environment(), stdout=out,
            stderr=subprocess.STDOUT, preexec_fn=ignored_sigint if ignore_sigint else None)  # noqa: PLW1509
    ports = {name: base + port - 8000 for name, port in SERVICES.items()}
    run = None
    try:
        # Alone, a run starts in some 15 s; beside the whole suite's other stacks on two cores, its
        # PostgreSQL, five migrations and five services once took over three minutes. What these
        # tests ask of a run comes after it started, so they wait for it as long as it takes.
        started = time.monotonic()
        while "Fayuan is running" not in console.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > started + START_TIMEOUT:
                said = console.read_text(errors="replace")[-4000:]
                why = (f"exited with {process.returncode}" if process.poll() is not None
                       else f"not running after {time.monotonic() - started:.0f} s")
                raise AssertionError(f"devstack {why}; it said:\n{said}")
            time.sleep(0.2)
        secret = (workdir / "auth-dev-secret").read_text().strip()
        stack = Stack(database_url="", bootstrap=f"127.0.0.1:{broker_port}", workdir=workdir, ports=ports,
                      auth_dev_secret=secret)
        run = DevstackRun(process=process, workdir=workdir, stack=stack, console=console)
        _every_service_ready(run, ports)
        yield run
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(90)
            except subprocess.TimeoutExpired:
                process.kill()
