"""The five services as processes on this machine: `Stack`, what `make run`, the end-to-end
tests and the benchmark all start the system with.

The services are started as processes by module name, so the dev stack imports none of them;
and no runtime code imports the dev stack (the import contracts in pyproject.toml).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from devstack.embedded import free_ports
from shared.auth import Role, mint_token
from shared.personal_data import new_master_key
from shared.settings import ServiceSettings

SERVICES: dict[str, int] = {"intake": 8001, "assignment": 8002, "evaluation": 8003, "sanctions": 8004,
                            "publication": 8005}
BROKER_PORT = 9092
ROOT = Path(__file__).resolve().parent.parent
SCOPING_CLAIMS = ("agency_id", "handler_id", "institution_id", "reviewer_id", "district")


@dataclass
class Stack:
    """The processes of one running Fayuan: used by `make run`, the end-to-end tests and the
    benchmark alike, so all three run the system the same way."""

    database_url: str
    bootstrap: str
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    # Tests run several stacks on one server: each gets databases `<prefix>_<service>`.
    database_prefix: str = ""
    ports: dict[str, int] = field(default_factory=lambda: dict(SERVICES))
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    # HS256 tokens signed with it are accepted because the five run with environment=dev; a
    # stack started without one gets a fresh secret, so every client of a stack can mint tokens.
    auth_dev_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    # The keys that seal the aided persons' personal data (docs/privacy.md): intake's only.
    personal_data_keys: dict[str, str] = field(default_factory=lambda: new_personal_data_keys(), repr=False)
    # The fault run kills relays and services apart: each service's relay then runs in a process
    # of its own, `<service>:relay` (the same `serve`, its consumers off), and the service's own
    # process runs no relay. Each part needs a port of its own in `ports`.
    relays_apart: bool = False
    # Ports the caller picked free (tests, the benchmark), not make run's fixed ones: a part whose
    # port another process took between the pick and its bind is started again on another port.
    movable_ports: bool = False

    def settings(self) -> ServiceSettings:
        """The settings the five share for tokens (issuer, audience, dev secret)."""
        env = self.service_env(next(iter(self.ports)))
        return ServiceSettings(environment="dev", auth_dev_secret=self.auth_dev_secret,
                               auth_issuer=env.get("FAYUAN_AUTH_ISSUER", ServiceSettings.model_fields[
                                   "auth_issuer"].default),
                               auth_audience=env.get("FAYUAN_AUTH_AUDIENCE", ServiceSettings.model_fields[
                                   "auth_audience"].default))

    def token(self, *roles: Role | str, minutes: float = 60, **claims: str) -> str:
        """A bearer token the running services accept: `roles`, and the scoping claims
        (agency_id, handler_id, institution_id, reviewer_id, district) and sub/name given as keywords."""
        scopes = {k: claims.pop(k) for k in SCOPING_CLAIMS if k in claims}
        return mint_token(self.settings(), [str(r) for r in roles], minutes=minutes, scopes=scopes, **claims)

    def headers(self, *roles: Role | str, **claims: str) -> dict[str, str]:
        """`Authorization: Bearer ...` of a caller with `roles`; no roles: no header (the public)."""
        return {"Authorization": f"Bearer {self.token(*roles, **claims)}"} if roles else {}

    def service_env(self, name: str) -> dict[str, str]:
        """The environment of a part: a service (`intake`), or with relays apart its relay
        (`intake:relay`)."""
        service, _, role = name.partition(":")
        env = self._service_env(service)
        env["FAYUAN_PORT"] = str(self.ports[name])
        if role == "relay":
            env["FAYUAN_CONSUMERS_ENABLED"] = "false"
        elif self.relays_apart:
            env["FAYUAN_RELAY_ENABLED"] = "false"
        return env

    def _service_env(self, name: str) -> dict[str, str]:
        # One service's settings (port, database) must not leak into the other four, but the
        # broker's client settings (FAYUAN_KAFKA_ENABLE_IDEMPOTENCE=true on Apache Kafka, SASL)
        # are the same for all five and must reach them (docs/adr/0004).
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("FAYUAN_") or k.startswith("FAYUAN_KAFKA_")}
        env.update({
            "FAYUAN_DATABASE_URL": self.database_url,
            "FAYUAN_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "FAYUAN_PORT": str(self.ports[name]),
            "PYTHONUNBUFFERED": "1",
            "FAYUAN_ENVIRONMENT": "dev",
            "FAYUAN_AUTH_DEV_SECRET": self.auth_dev_secret,
        })
        if self.database_prefix:
            env["FAYUAN_DATABASE_NAME"] = f"{self.database_prefix}_{name}"
        if name == "intake":
            env.update(self.personal_data_keys)
        env.update(self.env)
        return env

    def migrate(self) -> None:
        """Create and migrate every service's database, the five in parallel."""
        running = {
            name: subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", f"services.{name}", "migrate"], cwd=ROOT, env=self.service_env(name),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            )
            for name in self.ports if ":" not in name
        }
        for name, process in running.items():
            out, _ = process.communicate(timeout=120)
            if process.returncode != 0:
                raise RuntimeError(f"migrating {name} failed:\n{out.decode(errors='replace')}")

    def start(self, name: str) -> subprocess.Popen:
        logs = self.workdir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = open(logs / f"{name.replace(':', '-')}.log", "ab")  # noqa: SIM115 - the child owns it
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", f"services.{name.partition(':')[0]}", "serve"], cwd=ROOT,
            env=self.service_env(name),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.processes[name] = process
        return process

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def wait_ready(self, names: list[str] | None = None, timeout: float = 60.0) -> None:
        pending = set(names or self.ports)
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for name in list(pending):
                process = self.processes.get(name)
                if process is not None and process.poll() is not None:
                    if self.movable_ports and "address already in use" in self._log(name).lower():
                        self._move(name)
                        continue
                    raise RuntimeError(f"{name} exited with {process.returncode}; "
                                       f"see {self.workdir}/logs/{name}.log")
                try:
                    if httpx.get(self.url(name) + "/readyz", timeout=1.0).status_code == 200:
                        # Ready, but is it ours? Another stack's part may hold the port (ours then
                        # failed to bind it, and may not have exited yet).
                        if process is not None and not _listens_on(process.pid, self.ports[name]):
                            if not self.movable_ports:
                                raise RuntimeError(f"port {self.ports[name]} of {name} is another "
                                                   "process's")
                            self._move(name)
                            continue
                        pending.discard(name)
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        if pending:
            raise TimeoutError(f"not ready after {timeout}s: {sorted(pending)}")

    def _log(self, name: str) -> str:
        path = self.workdir / "logs" / f"{name.replace(':', '-')}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def _move(self, name: str) -> None:
        """Start `name` again on a port of its own: the one it was given was taken meanwhile."""
        self.stop(name)
        taken = self.ports[name]
        self.ports[name] = free_ports(1, avoid=set(self.ports.values()))[0]
        print(f"{name}: port {taken} was taken by another process; started again on {self.ports[name]}",
              file=sys.stderr)
        self.start(name)

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return process.returncode if process else None
        process.send_signal(sig)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name in list(self.processes):
            self.stop(name)


def new_personal_data_keys() -> dict[str, str]:
    return {"FAYUAN_PERSONAL_DATA_MASTER_KEYS": new_master_key("dev-1"),
            "FAYUAN_PERSONAL_DATA_REF_KEY": base64.b64encode(os.urandom(32)).decode()}


def dev_personal_data_keys(path: Path) -> dict[str, str]:
    """`make run`'s keys, made once and kept beside its database (a new master key would not
    unwrap the data keys already stored there). Mode 0600, gitignored with .fayuan/."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(new_personal_data_keys()))
    return json.loads(path.read_text())


def _listens_on(pid: int, port: int) -> bool:
    """Whether process `pid` listens on TCP `port`."""
    try:
        return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
                   for c in psutil.Process(pid).net_connections(kind="tcp"))
    except psutil.Error:
        return False
