"""R-ASG-5 and R-PUB-3: an agency files a version of its assignment rules with the city bureau,
publishes it, the engine applies the version in force, and the public reads it at publication."""

from __future__ import annotations

from datetime import timedelta

from services.assignment.tests.conftest import (  # noqa: F401, I001 (fixture)
    AGENCY,
    assigned_handler,
    decision,
    handler,
    institution,
    registered,
    running,
    today,
)
from services.publication.app import MIGRATIONS as PUBLICATION_MIGRATIONS
from services.publication.app import PublicationSettings
from services.publication.app import create_app as publication_app
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish

RULES = {"title": "朝阳区法律援助案件指派规则（2026年修订）",
         "text": "第一条 轮流指派为原则……第五条 每人每月不超过两件。",
         "effective_from": str(today() - timedelta(days=1)), "monthly_cap": 2}


async def test_published_rules_are_applied_and_shown_to_the_public(running, migrated_settings):  # noqa: F811
    public_settings = await migrated_settings(PublicationSettings, PUBLICATION_MIGRATIONS)
    async with running() as (client, settings), serve_in_process(publication_app(public_settings)) as public:
        firm = await institution(client)
        only = await handler(client, firm, "甲")
        filed = await client.post(f"/api/v1/agencies/{AGENCY}/assignment-rules", json=RULES)
        assert filed.status_code == 201, filed.text
        assert filed.json()["in_force"] is None  # filed, not yet published: not applied
        early = [registered() for _ in range(3)]
        await publish(settings, *early)
        # the default cap, five
        assert [await assigned_handler(client, c.case_id) for c in early] == [only] * 3

        published = await client.post(f"/api/v1/agencies/{AGENCY}/assignment-rules/1/publication")
        assert published.status_code == 200 and published.json()["in_force"] == 1
        again = await client.post(f"/api/v1/agencies/{AGENCY}/assignment-rules/1/publication")
        assert again.status_code == 409 and again.json()["rule"] == "R-ASG-5"
        never = await client.post(f"/api/v1/agencies/{AGENCY}/assignment-rules/9/publication")
        assert never.status_code == 404
        late = registered()
        await publish(settings, late)
        assert await assigned_handler(client, late.case_id) is None  # three already, the published cap is two
        assert (await decision(client, late.case_id))["decisions"][0]["rules_version"] == 1
        assert (await decision(client, early[0].case_id))["decisions"][0]["rules_version"] is None

        async def shown():
            listing = await public.get("/api/v1/assignment-rules", params={"in_force": "true"})
            items = listing.json()["items"]
            return items or None

        [rules] = await eventually(shown)
    assert (rules["agency_id"], rules["version"], rules["title"], rules["monthly_cap"]) == (
        AGENCY, 1, RULES["title"], 2)
    assert rules["in_force"] and rules["filed_with"] == "市司法局"


async def test_recruitment_results_and_the_volunteer_list_are_public(running, migrated_settings):  # noqa: F811
    """R-PRV-1, R-PRV-2, R-PUB-3: what the registry records, the public reads at publication."""
    public_settings = await migrated_settings(PublicationSettings, PUBLICATION_MIGRATIONS)
    async with running() as (client, settings), serve_in_process(publication_app(public_settings)) as public:
        recruited = await client.post("/api/v1/institutions", json={
            "name": "某大学法律援助志愿团", "kind": "grassroots_office", "agency_id": AGENCY,
            "district": "海淀区",
            "recruitment": {"method": "public_call", "recruited_on": "2026-02-01",
                            "recruiting_agency": "海淀区法律援助中心", "results_published_on": "2026-02-15"}})
        clinic = recruited.json()["institution_id"]
        await handler(client, clinic, "赵志愿", kind="volunteer")
        await handler(client, clinic, "钱律师")

        async def listed(path):
            items = (await public.get(path, params={"agency_id": AGENCY})).json()["items"]
            return items or None

        [institution_row] = await eventually(lambda: listed("/api/v1/providers/institutions"))
        [volunteer] = await eventually(lambda: listed("/api/v1/providers/volunteers"))
    assert (institution_row["name"], institution_row["recruitment_method"],
            institution_row["results_published_on"]) == ("某大学法律援助志愿团", "public_call", "2026-02-15")
    assert volunteer == {"name": "赵志愿", "institution_name": "某大学法律援助志愿团", "agency_id": AGENCY}
