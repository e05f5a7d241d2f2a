from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from services.intake.app import MIGRATIONS, IntakeSettings, create_app
from services.intake.consumers import on_case_assigned
from shared.auth import Role
from shared.clock import local_date, now
from shared.contracts import CaseAssigned, HandlerRef
from shared.testing.auth import STAFF_ROLES, as_role
from shared.testing.fixtures import serve_in_process
from shared.uow import unit_of_work

AIDED = {"name": "张三", "id_number": "110101199003071233", "phone": "13800138000",
         "address": "北京市朝阳区某路1号"}
CRIMINAL = {"case_kind": "criminal", "criminal_stage": "first_instance", "criminal_role": "defence",
            "cause": "盗窃", "district": "朝阳区", "agency_id": "chaoyang-centre", "aided_person": AIDED}
LAWYER = HandlerRef(handler_id="lawyer-1", name="王律师", kind="lawyer", licence_number="11101201010000001",
                    institution_id="firm-1", institution_name="北京市明法律师事务所")


def today() -> str:
    """The day a closure of these tests ends: between registration (now) and today, Beijing time."""
    return local_date(now()).isoformat()


@dataclass
class Intake:
    client: httpx.AsyncClient
    app: FastAPI

    async def register(self, **overrides) -> dict:
        """The case's agency registers it (its staff act for their own agency only)."""
        body = {**CRIMINAL, **overrides}
        response = await self.client.post("/api/v1/cases", json=body, headers=self.staff(body["agency_id"]))
        assert response.status_code == 201, response.text
        return response.json()

    async def assign(self, case: dict, handler: HandlerRef = LAWYER, at: datetime | None = None) -> None:
        """What assignment's CaseAssigned does when it reaches intake's consumer."""
        event = CaseAssigned(case_id=case["case_id"], case_number=case["case_number"], handler=handler,
                             method="rotation", assigned_at=at or datetime.now(UTC))
        state = self.app.state
        async with unit_of_work(state.engine, state.settings, state.projector) as uow:
            await on_case_assigned(event, uow)

    def staff(self, agency_id: str = CRIMINAL["agency_id"], sub: str = "staff-1") -> dict[str, str]:
        """Headers of the default caller (shared.testing.auth.STAFF_ROLES) as `sub`, for `agency_id`
        (the agency's commands are recorded as done by the token's subject)."""
        return as_role(self.app.state.settings, *STAFF_ROLES, sub=sub, agency_id=agency_id)

    def handler(self, handler_id: str = LAWYER.handler_id) -> dict[str, str]:
        """Headers of the handler `handler_id` (a case's handler records, closes, submits its file)."""
        return as_role(self.app.state.settings, Role.case_handler, handler_id=handler_id,
                       sub=f"user-{handler_id}")

    def checker(self, sub: str = "checker-1", **claims: str) -> dict[str, str]:
        """Headers of the agency's designated checker `sub` (the checker is the token's subject)."""
        claims.setdefault("agency_id", CRIMINAL["agency_id"])  # agency roles act for their own agency
        return as_role(self.app.state.settings, Role.closing_checker, sub=sub, **claims)

    def lead(self, sub: str = "lead-zhao", **claims: str) -> dict[str, str]:
        """Headers of the agency's quality lead `sub` (who signs off is the token's subject)."""
        claims.setdefault("agency_id", CRIMINAL["agency_id"])
        return as_role(self.app.state.settings, Role.quality_lead, sub=sub, **claims)

    async def record(self, case_id: str, entry: dict, *, author: str = "lawyer-1", at: str | None = None,
                     **extra) -> httpx.Response:
        """The handler `author` adds an entry to the handling record."""
        return await self.client.post(f"/api/v1/cases/{case_id}/record", headers=self.handler(author), json={
            "occurred_at": at or datetime.now(UTC).isoformat(), "entry": entry, **extra})


@pytest.fixture
async def intake_service(migrated_settings):
    settings = await migrated_settings(IntakeSettings, MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False)
    app = create_app(settings)
    async with serve_in_process(app) as client:
        yield Intake(client, app)
