"""The provider registry's records behind R-PRV-1..3 over HTTP, and their effect on the engine:
the recruitment record, a withdrawn commitment, a volunteer's own commitment, and the
published list of volunteers."""

from __future__ import annotations

from datetime import timedelta

from services.assignment.tests.conftest import (
    AGENCY,
    decision,
    handler,
    institution,
    registered,
    today,
)
from shared.testing.kafka import publish


async def test_recruitment_record_withdrawal_and_a_volunteers_own_commitment(running):
    async with running() as (client, settings):
        recruited = await client.post("/api/v1/institutions", json={
            "name": "北京某律师事务所", "kind": "law_firm", "agency_id": AGENCY, "district": "朝阳区",
            "recruitment": {"method": "government_procurement", "recruited_on": "2026-01-10",
                            "recruiting_agency": "朝阳区法律援助中心", "results_published_on": "2026-01-20"}})
        assert recruited.status_code == 201, recruited.text
        firm = recruited.json()
        assert (firm["recruitment_method"], firm["recruiting_agency"], firm["results_published_on"]) == (
            "government_procurement", "朝阳区法律援助中心", "2026-01-20")
        bad = await client.post("/api/v1/institutions", json={
            "name": "某所", "kind": "law_firm", "agency_id": AGENCY, "district": "朝阳区",
            "recruitment": {"method": "lottery", "recruited_on": "2026-01-10", "recruiting_agency": "x"}})
        assert bad.status_code == 422 and "method" in bad.text

        committed = await institution(client, name="甲所")
        lawyer = await handler(client, committed, "王律师")
        clinic = await institution(client, name="某大学法律援助志愿团", commitment=False)
        volunteer = await handler(client, clinic, "赵志愿", kind="volunteer")
        letter = {"signed_on": str(today() - timedelta(days=30)),
                  "valid_until": str(today() + timedelta(days=300))}
        refused = await client.post(f"/api/v1/handlers/{lawyer}/commitment", json=letter)
        assert refused.status_code == 422 and "handler_id" in refused.text
        before = registered()
        await publish(settings, before)
        reasons = {c["handler_id"]: c["reasons"] for c in (await decision(client, before.case_id))
                   ["decisions"][0]["candidates"]}
        assert reasons[volunteer] == ["no_commitment"]

        signed = await client.post(f"/api/v1/handlers/{volunteer}/commitment", json=letter)
        assert signed.status_code == 200, signed.text
        withdrawn = await client.post(f"/api/v1/institutions/{committed}/commitment/withdrawal",
                                      json={"withdrawn_on": str(today() - timedelta(days=1)),
                                            "reason": "退出法律援助"})
        assert withdrawn.status_code == 200, withdrawn.text
        after = registered()
        await publish(settings, after)
        record = await decision(client, after.case_id)
        assert record["handler"]["handler_id"] == volunteer
        reasons = {c["handler_id"]: c["reasons"] for c in record["decisions"][0]["candidates"]}
        assert reasons[lawyer] == ["commitment_not_in_force"]

        volunteers = (await client.get("/api/v1/volunteers", params={"agency_id": AGENCY})).json()
        assert ([(v["name"], v["institution_name"]) for v in volunteers["items"]]
                == [("赵志愿", "某大学法律援助志愿团")])
        assert "licence_number" not in volunteers["items"][0]
