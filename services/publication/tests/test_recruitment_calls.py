"""The agencies' recruitment calls as the public reads them (R-PUB-3): fed through the broker as
assignment announces them, listed newest first a page at a time, by agency, the open ones by the
Beijing day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.publication.app import MIGRATIONS, create_app
from services.publication.settings import PublicationSettings
from shared.contracts.assignment import RecruitmentCallAnnounced
from shared.deps import get_clock
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish

CHAOYANG, HAIDIAN = "chaoyang-centre", "haidian-centre"
ANNOUNCED = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)


def call(n: int, agency_id: str, deadline: str) -> RecruitmentCallAnnounced:
    return RecruitmentCallAnnounced(
        call_id=f"call-{n}", agency_id=agency_id, title=f"2026年度法律援助律师事务所公开招募公告（第{n}批）",
        fields_sought=["刑事辩护", "劳动争议"], deadline=date.fromisoformat(deadline),
        how_to_apply="请将申请材料报送本中心。", announced_at=ANNOUNCED + timedelta(days=n))


@pytest.fixture
async def publication(migrated_settings):
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, relay_enabled=False)
    app = create_app(settings)
    async with serve_in_process(app, headers={}) as client:
        yield settings, app, client


async def test_calls_are_listed_newest_first_by_agency_and_the_open_ones_by_the_beijing_day(publication):
    settings, app, client = publication
    await publish(settings, call(1, CHAOYANG, "2026-03-31"), call(2, HAIDIAN, "2026-04-15"),
                  call(3, CHAOYANG, "2026-06-30"))
    first = call(1, CHAOYANG, "2026-03-31")
    await publish(settings, first)  # announced twice: listed once

    async def all_three() -> list[dict]:
        response = await client.get("/api/v1/recruitment-calls")
        assert response.status_code == 200, response.text
        assert response.json()["total"] == 3
        return response.json()["items"]

    listed = await eventually(all_three)
    assert [c["call_id"] for c in listed] == ["call-3", "call-2", "call-1"]
    assert set(listed[0]) == {"call_id", "agency_id", "title", "fields_sought", "deadline", "how_to_apply",
                              "announced_at"}
    assert (listed[2]["fields_sought"], listed[2]["deadline"]) == (["刑事辩护", "劳动争议"], "2026-03-31")

    by_agency = (await client.get("/api/v1/recruitment-calls", params={"agency_id": CHAOYANG})).json()
    assert [c["call_id"] for c in by_agency["items"]] == ["call-3", "call-1"]
    page = (await client.get("/api/v1/recruitment-calls", params={"offset": 1, "limit": 1})).json()
    assert ([c["call_id"] for c in page["items"]], page["total"], page["offset"], page["limit"]) == (
        ["call-2"], 3, 1, 1)

    def open_on(moment: datetime) -> datetime:
        app.dependency_overrides[get_clock] = lambda: lambda: moment
        return moment

    open_on(datetime(2026, 3, 31, 15, 30, tzinfo=UTC))  # 23:30 on 31 March in Beijing: call 1 still open
    still = (await client.get("/api/v1/recruitment-calls", params={"open": "true"})).json()
    assert [c["call_id"] for c in still["items"]] == ["call-3", "call-2", "call-1"]
    open_on(datetime(2026, 3, 31, 16, 30, tzinfo=UTC))  # 00:30 on 1 April: call 1 has closed
    closed = (await client.get("/api/v1/recruitment-calls", params={"open": "true"})).json()
    assert [c["call_id"] for c in closed["items"]] == ["call-3", "call-2"]
    assert (await client.get("/api/v1/recruitment-calls")).json()["total"] == 3
