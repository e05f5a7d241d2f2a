"""The assignment service under test, and the steps every scenario takes: recruit an
institution, sign its commitment, register handlers, register cases as intake would."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from services.assignment.app import MIGRATIONS, AssignmentSettings, create_app
from shared.contracts import CaseFlags, CaseKind, CaseRegistered
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually

AGENCY = "chaoyang-centre"


@pytest.fixture
async def registry(migrated_settings):
    """The service with its HTTP side only (no relay, no consumers)."""
    settings = await migrated_settings(AssignmentSettings, MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False)
    async with serve_in_process(create_app(settings)) as client:
        yield client


@pytest.fixture
def running(migrated_settings):
    """Factory: the whole service (HTTP, relay, the CaseRegistered consumer) and its settings."""
    import contextlib

    @contextlib.asynccontextmanager
    async def start(**overrides):
        settings = await migrated_settings(AssignmentSettings, MIGRATIONS, **overrides)
        async with serve_in_process(create_app(settings)) as client:
            yield client, settings

    return start


def today() -> date:
    return datetime.now(UTC).date()


async def institution(client: httpx.AsyncClient, *, agency: str = AGENCY, commitment: bool = True,
                      valid_until: date | None = None, name: str = "北京某律师事务所",
                      district: str = "朝阳区", headers: dict[str, str] | None = None) -> str:
    """An institution recruited (by default by the client's caller; `headers`: by another)."""
    created = await client.post("/api/v1/institutions", headers=headers,
                                json={"name": name, "kind": "law_firm", "agency_id": agency,
                                      "district": district})
    assert created.status_code == 201, created.text
    institution_id = created.json()["institution_id"]
    if commitment:
        url = f"/api/v1/institutions/{institution_id}/commitment"
        signed = await client.post(url, headers=headers, json={
            "signed_on": str(today() - timedelta(days=400)),
            "valid_until": str(valid_until or today() + timedelta(days=365)),
        })
        assert signed.status_code == 200, signed.text
    return institution_id


async def handler(client: httpx.AsyncClient, institution_id: str, name: str, *, kind: str = "lawyer",
                  headers: dict[str, str] | None = None) -> str:
    body = {"name": name, "kind": kind, "institution_id": institution_id, "years_of_practice": 6,
            "licence_number": f"1110{uuid.uuid4().int % 10**13:013d}"}
    created = await client.post("/api/v1/handlers", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return created.json()["handler_id"]


def registered(*, agency: str = AGENCY, **flags) -> CaseRegistered:
    case_id = str(uuid.uuid4())
    return CaseRegistered(case_id=case_id, case_number=f"FY-2026-{case_id[:6]}", case_kind=CaseKind.criminal,
                          cause="盗窃", district="朝阳区", agency_id=agency, flags=CaseFlags(**flags),
                          registered_at=datetime.now(UTC))


async def decision(client: httpx.AsyncClient, case_id: str) -> dict:
    """The case's decision record, once the engine has taken one."""

    async def probe():
        response = await client.get(f"/api/v1/cases/{case_id}/assignment")
        assert response.status_code == 200, response.text
        return response.json()

    return await eventually(probe)


async def assigned_handler(client: httpx.AsyncClient, case_id: str) -> str | None:
    record = await decision(client, case_id)
    return record["handler"]["handler_id"] if record["handler"] else None
