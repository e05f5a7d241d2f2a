"""The auditor's endpoints every service has: who recorded each event of a stream, and who saw
an aided person's personal data. Served by the kernel app over HTTP, on a real database."""

from shared import audit, context
from shared.auth import Role
from shared.testing.auth import app_with_auth, as_role
from shared.testing.fixtures import serve_in_process
from shared.tests.auth_app import router


async def test_auditors_see_who_recorded_each_event_of_a_stream_and_no_one_else_does(
    make_settings, kernel_db,
):
    engine, kernel = kernel_db
    settings = make_settings(service_name="kernel", database_name=kernel.database_name)
    async with serve_in_process(app_with_auth(settings, router), headers={}) as http:
        for by in ("clerk", "clerk again"):
            r = await http.post("/api/v1/tallies/t-1/marks", json={"by": by},
                                headers=as_role(settings, Role.agency_staff, sub="staff-9",
                                                agency_id="agency-1"))
            assert r.status_code == 201, r.text

        r = await http.get("/api/v1/audit/streams/tally-t-1/events", headers=as_role(settings, Role.auditor))
        assert r.status_code == 200, r.text
        events = r.json()
        assert [e["version"] for e in events] == [1, 2]
        assert {(e["actor"], e["role"]) for e in events} == {("staff-9", "agency_staff")}
        assert all(e["correlation_id"] and e["recorded_at"] for e in events)
        assert "data" not in events[0]

        assert (await http.get("/api/v1/audit/streams/tally-t-1/events")).status_code == 401
        staff = await http.get("/api/v1/audit/streams/tally-t-1/events",
                               headers=as_role(settings, Role.agency_staff, Role.quality_lead,
                                               agency_id="agency-1"))
        assert staff.status_code == 403
        missing = await http.get("/api/v1/audit/streams/tally-nope/events",
                                 headers=as_role(settings, Role.auditor))
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


async def test_auditors_list_who_saw_personal_data_filtered_by_case(make_settings, kernel_db):
    engine, kernel = kernel_db
    settings = make_settings(service_name="kernel", database_name=kernel.database_name)
    tokens = [context.actor.set("staff-3"), context.role.set("agency_staff")]
    try:
        async with engine.begin() as conn:
            await audit.record_read(conn, case_id="c-1", fields=["name", "id_number"])
            await audit.record_read(conn, case_id="c-2", fields=["phone"])
    finally:
        context.role.reset(tokens[1])
        context.actor.reset(tokens[0])
    async with serve_in_process(app_with_auth(settings, router),
                                headers=as_role(settings, Role.auditor)) as http:
        r = await http.get("/api/v1/audit/personal-data-reads", params={"case_id": "c-1"})
        assert r.status_code == 200, r.text
        assert [(x["actor"], x["role"], x["case_id"], x["fields"]) for x in r.json()] == [
            ("staff-3", "agency_staff", "c-1", ["id_number", "name"])]
        assert len((await http.get("/api/v1/audit/personal-data-reads")).json()) == 2
        bad = await http.get("/api/v1/audit/personal-data-reads", params={"limit": 0})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.limit"
        refused = await http.get("/api/v1/audit/personal-data-reads",
                                 headers=as_role(settings, Role.case_handler))
        assert refused.status_code == 403
