"""The lists the public reads beside the disclosures (R-PUB-3): the published assignment rules
with the version in force, the institutions recruited and the volunteers; fed through the
broker as assignment feeds them, read over HTTP a page at a time."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.publication.app import MIGRATIONS, create_app
from services.publication.settings import PublicationSettings
from shared.contracts.assignment import (
    AssignmentRulesPublished,
    InstitutionRecruited,
    RecruitmentRecord,
    VolunteerRegistered,
)
from shared.deps import get_clock
from shared.paging import MAX_LIMIT
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish

CHAOYANG, HAIDIAN = "chaoyang-centre", "haidian-centre"
PUBLISHED_AT = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


def rules(agency_id: str, version: int, effective_from: str) -> AssignmentRulesPublished:
    return AssignmentRulesPublished(
        agency_id=agency_id, version=version, title=f"指派规则 第{version}版", text="第一条 轮流指派为原则。",
        effective_from=date.fromisoformat(effective_from), monthly_cap=2, filed_with="市司法局",
        published_at=PUBLISHED_AT + timedelta(days=version))


def recruited(n: int, agency_id: str = CHAOYANG) -> InstitutionRecruited:
    return InstitutionRecruited(
        institution_id=f"firm-{n}", name=f"律师事务所{n}", kind="law_firm", agency_id=agency_id,
        district="朝阳区",
        recruitment=RecruitmentRecord(method="public_call", recruited_on=date(2026, 2, 1),
                                      recruiting_agency="朝阳区法律援助中心"),
        recruited_at=PUBLISHED_AT + timedelta(hours=n))


def volunteer(n: int, agency_id: str = CHAOYANG) -> VolunteerRegistered:
    return VolunteerRegistered(
        handler_id=f"h-{n}", name=f"志愿者{n}", institution_id="clinic-1",
        institution_name="某大学法律援助志愿团",
        agency_id=agency_id, registered_at=PUBLISHED_AT + timedelta(hours=n))


@pytest.fixture
async def publication(migrated_settings):
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, relay_enabled=False)
    app = create_app(settings)
    async with serve_in_process(app, headers={}) as client:
        yield settings, app, client


@pytest.fixture
async def public_api(migrated_settings):
    """The HTTP side only, for what needs no events."""
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, relay_enabled=False,
                                       consumers_enabled=False)
    async with serve_in_process(create_app(settings), headers={}) as client:
        yield client


def at(moment: datetime):
    """A clock that always reads `moment`, for `app.dependency_overrides[get_clock]`."""
    return lambda: lambda: moment


async def items(client, path: str, **params) -> list[dict]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_the_version_in_force_is_the_one_of_the_beijing_day_asked(publication):
    settings, app, client = publication
    await publish(
        settings,
        rules(CHAOYANG, 1, "2026-01-01"),
        rules(CHAOYANG, 2, "2026-07-01"),
        rules(CHAOYANG, 3, "2026-03-01"),  # filed after version 2, in force before it
        rules(HAIDIAN, 1, "2026-09-01"),
    )

    async def all_four() -> list[dict]:
        listed = await items(client, "/api/v1/assignment-rules")
        assert len(listed) == 4
        return listed

    await eventually(all_four)

    def in_force(listed: list[dict]) -> list[tuple[str, int]]:
        return [(r["agency_id"], r["version"]) for r in listed if r["in_force"]]

    app.dependency_overrides[get_clock] = at(datetime(2026, 6, 30, 15, 30, tzinfo=UTC))  # 23:30 on 30 June
    listed = await items(client, "/api/v1/assignment-rules")
    assert [(r["agency_id"], r["version"]) for r in listed] == [
        (CHAOYANG, 3), (CHAOYANG, 2), (CHAOYANG, 1), (HAIDIAN, 1)]
    assert in_force(listed) == [(CHAOYANG, 3)]
    assert [(r["agency_id"], r["version"]) for r in await items(client, "/api/v1/assignment-rules",
                                                                  in_force="true")] == [(CHAOYANG, 3)]

    app.dependency_overrides[get_clock] = at(datetime(2026, 6, 30, 16, 30, tzinfo=UTC))  # 00:30 on 1 July
    assert in_force(await items(client, "/api/v1/assignment-rules")) == [(CHAOYANG, 2)]

    app.dependency_overrides[get_clock] = at(datetime(2026, 9, 1, 0, 0, tzinfo=UTC))
    assert in_force(await items(client, "/api/v1/assignment-rules")) == [(CHAOYANG, 2), (HAIDIAN, 1)]
    only = await items(client, "/api/v1/assignment-rules", in_force="true", agency_id=HAIDIAN)
    assert [(r["agency_id"], r["version"], r["in_force"]) for r in only] == [(HAIDIAN, 1, True)]

    app.dependency_overrides[get_clock] = at(datetime(2025, 12, 31, 12, 0, tzinfo=UTC))  # before any
    assert await items(client, "/api/v1/assignment-rules", in_force="true") == []
    page = (await client.get("/api/v1/assignment-rules", params={"offset": 1, "limit": 2})).json()
    assert [(r["agency_id"], r["version"]) for r in page["items"]] == [(CHAOYANG, 2), (CHAOYANG, 1)]
    assert (page["total"], page["offset"], page["limit"]) == (4, 1, 2)


async def test_institutions_and_volunteers_are_listed_in_the_order_they_joined_a_page_at_a_time(publication):
    settings, _, client = publication
    await publish(settings, recruited(3), recruited(1), recruited(2, agency_id=HAIDIAN), recruited(4),
                  volunteer(2), volunteer(1), volunteer(3, agency_id=HAIDIAN))

    async def all_in() -> bool:
        assert len(await items(client, "/api/v1/providers/institutions")) == 4
        assert len(await items(client, "/api/v1/providers/volunteers")) == 3
        return True

    await eventually(all_in)

    everything = (await client.get("/api/v1/providers/institutions")).json()
    assert [i["institution_id"] for i in everything["items"]] == ["firm-1", "firm-2", "firm-3", "firm-4"]
    assert (everything["total"], everything["offset"], everything["limit"]) == (4, 0, MAX_LIMIT)
    assert everything["items"][0] == {
        "institution_id": "firm-1", "name": "律师事务所1", "kind": "law_firm", "agency_id": CHAOYANG,
        "district": "朝阳区", "recruitment_method": "public_call", "recruited_on": "2026-02-01",
        "recruiting_agency": "朝阳区法律援助中心", "results_published_on": None}
    page = (await client.get("/api/v1/providers/institutions",
                             params={"agency_id": CHAOYANG, "offset": 1, "limit": 1})).json()
    assert ([i["institution_id"] for i in page["items"]], page["total"]) == (["firm-3"], 3)

    volunteers = (await client.get("/api/v1/providers/volunteers", params={"limit": 2})).json()
    assert volunteers["items"] == [
        {"name": "志愿者1", "institution_name": "某大学法律援助志愿团", "agency_id": CHAOYANG},
        {"name": "志愿者2", "institution_name": "某大学法律援助志愿团", "agency_id": CHAOYANG}]
    assert volunteers["total"] == 3
    haidian = await items(client, "/api/v1/providers/volunteers", agency_id=HAIDIAN)
    assert [v["name"] for v in haidian] == ["志愿者3"]


@pytest.mark.parametrize("params", [{"offset": -1}, {"limit": 0}, {"limit": MAX_LIMIT + 1}])
async def test_a_page_out_of_bounds_is_a_problem_naming_the_parameter(public_api, params):
    for path in ("/api/v1/assignment-rules", "/api/v1/providers/institutions",
                 "/api/v1/providers/volunteers"):
        response = await public_api.get(path, params=params)
        assert response.status_code == 422, path
        assert [e["field"] for e in response.json()["errors"]] == [f"query.{next(iter(params))}"], path
