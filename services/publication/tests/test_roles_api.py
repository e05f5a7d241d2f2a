"""What publication publishes is public: every such endpoint answers without a token, and a stale
token locks no one out; drafts are staff's (test_workflow.py), the kernel's audit endpoints the
auditor's."""

import pytest

from services.publication.app import MIGRATIONS, PublicationSettings, create_app
from shared.auth import Role
from shared.testing.auth import as_role, bearer
from shared.testing.fixtures import serve_in_process

PUBLIC = ("/api/v1/disclosures", "/api/v1/assignment-rules",
          "/api/v1/providers/institutions", "/api/v1/providers/volunteers")


@pytest.fixture
async def app(migrated_settings):
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False)
    return create_app(settings)


async def test_everyone_reads_what_is_published_without_a_token(app):
    async with serve_in_process(app, headers={}) as anonymous:
        for path in PUBLIC:
            assert (await anonymous.get(path)).status_code == 200, path
            stale = await anonymous.get(path, headers=bearer("not-a-token"))
            assert stale.status_code == 200, path
        audit = await anonymous.get("/api/v1/audit/personal-data-reads")
        assert audit.status_code == 401


async def test_a_caller_with_any_role_reads_the_same(app):
    async with serve_in_process(app, headers={}) as client:
        for role in (Role.bar_association, Role.case_handler, Role.judicial_organ):
            headers = as_role(app.state.settings, role)
            response = await client.get("/api/v1/providers/volunteers", headers=headers)
            assert response.status_code == 200, role
        bar = as_role(app.state.settings, Role.bar_association)
        assert (await client.get("/api/v1/audit/personal-data-reads", headers=bar)).status_code == 403


async def test_a_bad_period_is_a_problem_naming_the_field(app):
    async with serve_in_process(app, headers={}) as anonymous:
        response = await anonymous.get("/api/v1/disclosures/2026-H3")
        paged = await anonymous.get("/api/v1/providers/volunteers", params={"agency_id": "a" * 65})
    assert response.status_code == 422 and [e["field"] for e in response.json()["errors"]] == ["path.period"]
    assert paged.status_code == 422 and [e["field"] for e in paged.json()["errors"]] == ["query.agency_id"]
