"""The bureau suspends a handler and reinstates them over HTTP; assignment hears of both on
`legalaid.sanctions.suspensions`, keyed by the handler."""

from services.sanctions.app import MIGRATIONS, SanctionsSettings, create_app
from shared.contracts import HandlerReinstated, HandlerSuspended
from shared.contracts.sanctions import SUSPENSIONS
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import read_topic


async def test_suspension_and_reinstatement_are_recorded_listed_and_told(migrated_settings):
    settings = await migrated_settings(SanctionsSettings, MIGRATIONS, consumers_enabled=False)
    async with serve_in_process(create_app(settings)) as client:
        decided = await client.post("/api/v1/suspensions", json={
            "handler_id": "lawyer-li", "reason": "承办案件同行评估不合格", "until": "2027-03-31",
            "agency_id": "chaoyang-centre", "case_id": "case-7"})
        assert decided.status_code == 201, decided.text
        suspension = decided.json()
        assert suspension["status"] == "in_force" and suspension["until"] == "2027-03-31"
        assert decided.headers["Location"] == f"/api/v1/suspensions/{suspension['suspension_id']}"
        listed = (await client.get("/api/v1/suspensions", params={"status": "in_force"})).json()
        assert [s["suspension_id"] for s in listed["items"]] == [suspension["suspension_id"]]

        reinstated = await client.post(f"/api/v1/suspensions/{suspension['suspension_id']}/reinstatement",
                                       json={"reason": "整改完成，经复查合格"})
        assert reinstated.status_code == 200 and reinstated.json()["status"] == "reinstated"
        again = await client.post(f"/api/v1/suspensions/{suspension['suspension_id']}/reinstatement",
                                  json={"reason": "整改完成，经复查合格"})
        assert again.status_code == 409 and again.json()["rule"] == "R-SAN-2"
        of_handler = await client.get("/api/v1/suspensions", params={"handler_id": "lawyer-li"})
        assert of_handler.json()["total"] == 1
        events = await read_topic(settings.kafka_bootstrap_servers, settings.topic(SUSPENSIONS), expect=2)
    told = [e.model() for e in events]
    assert [type(t) for t in told] == [HandlerSuspended, HandlerReinstated]
    assert all(e.key == "lawyer-li" for e in events)
    assert told[0].suspension_id == told[1].suspension_id == suspension["suspension_id"]
    assert str(told[0].until) == "2027-03-31" and told[0].agency_id == "chaoyang-centre"


async def test_bad_suspensions_are_refused_with_problems(migrated_settings):
    settings = await migrated_settings(SanctionsSettings, MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False)
    async with serve_in_process(create_app(settings)) as client:
        short = await client.post("/api/v1/suspensions", json={"handler_id": "h1", "reason": "no"})
        assert short.status_code == 422 and "reason" in short.text
        unknown = await client.post("/api/v1/suspensions", json={
            "handler_id": "h1", "reason": "承办案件不合格", "investigation_id": "no-such-investigation"})
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/problem+json")
        missing = await client.post("/api/v1/suspensions/nope/reinstatement", json={"reason": "整改完成了"})
        assert missing.status_code == 404
        assert (await client.get("/api/v1/suspensions/nope")).status_code == 404
