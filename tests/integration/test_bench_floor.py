"""`python -m bench.floor` prices registration's request path through routes of its own
(bench/floor_app.py). The figures mean something only if those routes make the caller pass what
registration makes it pass (the token, the role, the body's validation) and record nothing."""

from bench import load
from bench.floor_app import ASYNCPG, FLOOR, UNIT_OF_WORK, with_floor
from services.intake.app import MIGRATIONS, IntakeSettings, create_app
from shared.auth import Role
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process


async def test_the_floor_routes_check_what_registration_checks_and_record_nothing(migrated_settings):
    settings = await migrated_settings(IntakeSettings, MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False)
    app = with_floor(create_app(settings), settings)
    staff = as_role(settings, Role.agency_staff, sub="bench-staff", agency_id=load.AGENCY)
    body = load.registration_bodies(1)[0]
    bad = {**body, "case_kind": "divorce", "aided_person": {**body["aided_person"], "id_number": "123"}}
    async with serve_in_process(app, headers={}) as client:  # no caller unless a request names one
        refused = await client.post(load.PATH, json=bad, headers=staff)
        assert refused.status_code == 422
        for path in (FLOOR, UNIT_OF_WORK, ASYNCPG):
            assert (await client.post(path, json=body)).status_code == 401, path
            as_handler = as_role(settings, Role.case_handler, sub="lawyer-1", handler_id="lawyer-1")
            assert (await client.post(path, json=body, headers=as_handler)).status_code == 403, path
            invalid = await client.post(path, json=bad, headers=staff)
            assert invalid.status_code == 422, path
            assert invalid.json()["errors"] == refused.json()["errors"], path
            assert (await client.post(path, json=body, headers=staff)).status_code == 201, path
        listed = await client.get(load.PATH, headers=staff)
        assert listed.status_code == 200 and listed.json()["total"] == 0
