"""Broker health, watched beside the requests rather than probed by them. The broker is not a
readiness condition: while it is away, commands still commit their events and the outbox keeps
what the relay will publish when it is back, so taking every pod out of service would stop the
writes for nothing. Operators see the broker in the metrics (`fayuan_broker_up`, an alert's
input) and in /readyz's body, as information."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import Any

# aiokafka ships no type information (no py.typed, no stubs): its objects are Any here.
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped]
from prometheus_client import Gauge

from shared.settings import ServiceSettings

log = logging.getLogger(__name__)

# The alerts (deploy/k8s) name these two: keep the names.
BROKER_UP = Gauge("fayuan_broker_up", "1 when the last check of the Kafka broker succeeded, else 0")
BROKER_LAST_OK = Gauge("fayuan_broker_last_ok_timestamp_seconds",
                       "Unix time of the last successful check of the Kafka broker")


class BrokerWatch:
    """Checks the broker every `broker_check_seconds` with one long-lived admin client (a cluster
    metadata request), from start-up to shutdown. A failed check closes the client; the next one
    connects afresh, so a broker that came back at another address is found through the
    bootstrap servers again."""

    def __init__(self, settings: ServiceSettings):
        self.settings = settings
        self.interval = settings.broker_check_seconds
        self.timeout = settings.broker_check_timeout_seconds
        self.up: bool | None = None  # None: not checked yet
        self.last_ok: float | None = None
        self.error: str | None = None
        self._admin: Any = None

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await self.check()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval)
        finally:
            await self._close()

    async def check(self) -> bool:
        try:
            await asyncio.wait_for(self._ask(), self.timeout)
        except Exception as exc:  # whatever the failure, the broker did not answer in time
            await self._close()
            self._note(False, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
        else:
            self._note(True, None)
        return bool(self.up)

    async def _ask(self) -> None:
        if self._admin is None:
            self._admin = AIOKafkaAdminClient(
                bootstrap_servers=self.settings.kafka_bootstrap_servers,
                client_id=f"{self.settings.service_name}-health",
                request_timeout_ms=int(self.timeout * 1000),
                **self.settings.kafka_security(),
            )
            await self._admin.start()
        await self._admin.describe_cluster()

    async def _close(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()

    def _note(self, up: bool, error: str | None) -> None:
        if up:
            self.last_ok = time.time()
            BROKER_LAST_OK.set(self.last_ok)
            if self.up is False:
                log.info("broker answers again", extra={"bootstrap": self.settings.kafka_bootstrap_servers})
        elif self.up is not False:
            log.warning("broker does not answer (%s); writes continue into the outbox", error,
                        extra={"bootstrap": self.settings.kafka_bootstrap_servers})
        self.up, self.error = up, error
        BROKER_UP.set(1 if up else 0)

    def status(self) -> dict[str, Any]:
        """What /readyz shows of the broker (information, never a failing check)."""
        last_ok = datetime.fromtimestamp(self.last_ok, UTC).isoformat() if self.last_ok else None
        if self.interval <= 0:
            return {"status": "not checked (broker_check_seconds=0)"}
        state = "unknown" if self.up is None else "up" if self.up else "down"
        return {"status": state, "last_ok": last_ok, "error": self.error,
                "checked_every_seconds": self.interval}
