"""An agency announces a recruitment call (R-PUB-3): recorded, told to publication on the
providers topic with no personal data, refused with a deadline already past, for another
agency's staff, or for the public."""

from __future__ import annotations

from datetime import timedelta

from services.assignment.tests.conftest import AGENCY, today
from shared.auth import Role
from shared.contracts.assignment import PROVIDERS
from shared.testing.auth import as_role
from shared.testing.kafka import read_topic


def body(**overrides) -> dict:
    return {"title": "朝阳区法律援助中心2026年度法律援助律师事务所公开招募公告",
            "fields_sought": ["刑事辩护", "婚姻家庭", "刑事辩护"],
            "deadline": str(today() + timedelta(days=30)),
            "how_to_apply": "请将申请表报送本中心。", **overrides}


async def test_a_call_is_announced_and_told_to_publication(running):
    async with running() as (client, settings):
        announced = await client.post(f"/api/v1/agencies/{AGENCY}/recruitment-calls", json=body())
        assert announced.status_code == 201, announced.text
        call = announced.json()
        assert (call["agency_id"], call["fields_sought"]) == (AGENCY, ["刑事辩护", "婚姻家庭"])
        location = f"/api/v1/agencies/{AGENCY}/recruitment-calls/{call['call_id']}"
        assert announced.headers["location"] == location
        assert (await client.get(announced.headers["location"])).json() == call
        assert (await client.get(f"/api/v1/agencies/haidian-centre/recruitment-calls/{call['call_id']}")
                ).status_code == 404

        seen = await read_topic(settings.kafka_bootstrap_servers, settings.topic(PROVIDERS), expect=1)
        told = [e for e in seen if e.type == "legalaid.assignment.recruitment-call-announced.v1"]
        assert len(told) == 1
        assert set(told[0].data) == {"call_id", "agency_id", "title", "fields_sought", "deadline",
                                     "how_to_apply", "announced_at"}
        assert told[0].data["call_id"] == call["call_id"]


async def test_a_call_is_refused_with_a_past_deadline_for_another_agency_and_for_the_public(running):
    async with running(consumers_enabled=False, relay_enabled=False) as (client, settings):
        url = f"/api/v1/agencies/{AGENCY}/recruitment-calls"
        past = await client.post(url, json=body(deadline=str(today() - timedelta(days=2))))
        assert past.status_code == 422
        assert [e["field"] for e in past.json()["errors"]] == ["deadline"]
        empty = await client.post(url, json=body(fields_sought=[]))
        assert empty.status_code == 422 and [e["field"] for e in empty.json()["errors"]] == ["fields_sought"]

        other = as_role(settings, Role.agency_staff, sub="staff-9", agency_id="haidian-centre")
        assert (await client.post(url, json=body(), headers=other)).status_code == 404
        public = as_role(settings, Role.public, sub="someone")
        assert (await client.post(url, json=body(), headers=public)).status_code == 403
