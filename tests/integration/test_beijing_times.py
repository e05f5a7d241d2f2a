"""Times are stored and carried in UTC; every JSON answer of every service shows them at +08:00
(shared.http's rendering, once for all routes): a stored event's time, the typed answers,
intake's hand-written registration answer, and every list a caller can ask for without an id."""

import importlib
import re
from datetime import datetime, timedelta

import pytest
from fastapi.routing import APIRoute

from shared import store
from shared.auth import Role
from shared.http import beijing_times
from shared.testing.auth import as_role
from shared.testing.fixtures import serve_in_process

SERVICES = {"intake": "IntakeSettings", "assignment": "AssignmentSettings",
            "evaluation": "EvaluationSettings", "sanctions": "SanctionsSettings",
            "publication": "PublicationSettings"}
# An instant not shown in Beijing: Z, or any offset but +08:00.
NOT_IN_BEIJING = re.compile(r'"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-](?!08:00)\d{2}:\d{2})"')
IN_BEIJING = re.compile(r'"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+08:00"')


def test_an_instant_is_shown_in_beijing_and_nothing_else_changes():
    body = (b'{"at":"2026-10-09T01:00:00Z","late":"2026-10-09T16:30:00.250000+00:00",'
            b'"tokyo":"2026-10-09T10:00:00+09:00","shown":"2026-10-09T09:00:00+08:00","day":"2026-10-09",'
            b'"naive":"2026-10-09T01:00:00","text":"\\"2026-10-09T01:00:00Z\\" 2026-10-09T01:00:00Z"}')
    assert beijing_times(body) == (
        b'{"at":"2026-10-09T09:00:00+08:00","late":"2026-10-10T00:30:00.250000+08:00",'
        b'"tokyo":"2026-10-09T09:00:00+08:00","shown":"2026-10-09T09:00:00+08:00","day":"2026-10-09",'
        b'"naive":"2026-10-09T01:00:00","text":"\\"2026-10-09T01:00:00Z\\" 2026-10-09T01:00:00Z"}')


@pytest.mark.parametrize("service", SERVICES)
async def test_every_answer_shows_its_times_in_beijing(service, migrated_settings):
    app_module = importlib.import_module(f"services.{service}.app")
    settings_class = getattr(app_module, SERVICES[service])
    settings = await migrated_settings(settings_class, app_module.MIGRATIONS, consumers_enabled=False,
                                       relay_enabled=False)
    app = app_module.create_app(settings)
    everyone = as_role(settings, *Role, sub="user-1", handler_id="lawyer-1", agency_id="chaoyang-centre")
    async with serve_in_process(app) as client:
        # Stored in UTC (the database gives it back so), shown in Beijing: the same moment.
        async with app.state.engine.begin() as conn:
            [recorded] = await store.append(conn, "probe-1", 0, [store.NewEvent("Probed", {})])
        assert recorded.recorded_at.utcoffset() == timedelta(0)
        audited = await client.get("/api/v1/audit/streams/probe-1/events", headers=everyone)
        assert audited.status_code == 200, audited.text
        [event] = audited.json()
        assert event["recorded_at"].endswith("+08:00")
        assert datetime.fromisoformat(event["recorded_at"]) == recorded.recorded_at
        assert IN_BEIJING.search(audited.text) and not NOT_IN_BEIJING.search(audited.text)
        if service == "intake":  # the registration writes its answer itself (the hot path)
            from services.intake.tests.conftest import CRIMINAL

            registered = await client.post("/api/v1/cases", json=CRIMINAL, headers=everyone)
            assert registered.status_code == 201, registered.text
            assert registered.json()["registered_at"].endswith("+08:00")
        answers = 0
        for route in app.routes:
            if isinstance(route, APIRoute) and "GET" in route.methods and "{" not in route.path:
                answer = await client.get(route.path, headers=everyone)
                if answer.headers.get("content-type", "").endswith("json"):
                    answers += 1
                    assert not NOT_IN_BEIJING.search(answer.text), (route.path, answer.text[:500])
        assert answers >= 2
