"""Publication's public endpoints (found, like every check of roles, from the routes' own
declarations) are limited per client address by the kernel; its other endpoints are not."""

from __future__ import annotations

import re

from services.publication.app import MIGRATIONS, create_app
from services.publication.settings import PublicationSettings
from shared.auth import Role, route_roles
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process


def url(path: str) -> str:
    path = re.sub(r"\{number\}", "FY-2026H1-CITY-01", path)
    return re.sub(r"\{period\}", "2026-H1", re.sub(r"\{stream_id\}", "case-1", path))


async def test_every_public_endpoint_is_limited_per_client_address_and_no_other(migrated_settings):
    settings = await migrated_settings(PublicationSettings, MIGRATIONS, relay_enabled=False,
                                       consumers_enabled=False, public_rate_limit="2/minute",
                                       trusted_proxies="127.0.0.1/32")
    app = create_app(settings)
    routes = route_roles(app)
    public = [path for _, path, roles in routes if Role.public in roles]
    others = [path for method, path, roles in routes
              if roles and Role.public not in roles and method == "GET"]
    assert len(public) == 8 and others
    # The auditor reads the audit, the city bureau the drafts of disclosures.
    auditor = as_role(settings, Role.auditor, Role.bureau_investigator)
    async with serve_in_process(app, headers={}) as client:
        for n, path in enumerate(public):
            address = {"X-Forwarded-For": f"203.0.113.{n + 1}"}
            answers = [(await client.get(url(path), headers=address)).status_code for _ in range(3)]
            # 200, or 404 for a disclosure not published: the caller got through to the endpoint
            assert set(answers[:2]) <= {200, 404} and answers[2] == 429, (path, answers)
        for path in others:
            address = {"X-Forwarded-For": "198.51.100.1", **auditor}
            answers = [(await client.get(url(path), headers=address)).status_code for _ in range(4)]
            # 200, or 404 for a stream that does not exist: the caller got through to the endpoint
            assert set(answers) <= {200, 404}, (path, answers)
