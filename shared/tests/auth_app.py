"""A small service for the kernel's authentication tests: endpoints declaring roles both ways
(parameter and decorator), a public one, and a command that records an event."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from shared.auth import Principal, Role, allow
from shared.deps import UowFactoryDep
from shared.tests.test_store import Tally

router = APIRouter(prefix="/api/v1/tallies", tags=["tallies"])


class Mark(BaseModel):
    by: str = Field(min_length=1)
    note: str = ""


@router.get("/{tally_id}", summary="Read a tally", description="A case handler sees only their own.")
async def read_tally(
    tally_id: str, principal: Annotated[Principal, allow(Role.case_handler, Role.quality_lead)]
) -> dict:
    if principal.role is Role.case_handler and tally_id != principal.handler_id:
        from starlette.exceptions import HTTPException

        raise HTTPException(403, detail="A case handler sees only their own tallies.")
    return {"sub": principal.sub, "role": principal.role, "handler_id": principal.handler_id}


@router.post("/{tally_id}/marks", summary="Mark a tally", status_code=201,
             dependencies=[allow(Role.agency_staff)])
async def mark(tally_id: str, body: Mark, uow: UowFactoryDep) -> dict:
    async with uow() as unit:
        tally = await unit.get(Tally, tally_id)
        tally.tally(body.by)
        await unit.save(tally)
    return {"marks": len(tally.marks)}


@router.get("", summary="Count tallies", dependencies=[allow(Role.public)])
async def count(request: Request) -> dict:
    from shared import context

    return {"actor": context.actor.get(), "role": context.role.get()}


@router.post("/echo", summary="Echo a body", dependencies=[allow(Role.public)])
async def echo(request: Request) -> dict:
    return {"bytes": len(await request.body())}


@router.post("/-/check", summary="Check a mark", dependencies=[allow(Role.public)])
async def check(body: Mark) -> dict:
    return {"ok": True}


@router.get("/-/boom", summary="Fail", dependencies=[allow(Role.public)])
async def boom() -> dict:
    raise RuntimeError("an unexpected failure")
