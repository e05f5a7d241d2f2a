"""The deadline sweep leaves the number of overdue deadlines as a gauge, which the overdue alert
reads (deploy/k8s/base/monitoring/rules.yaml)."""

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

# The clock dependency the deadline tests override, wherever it lives.
from services.intake.tests.test_deadlines import ASSIGNED, at, get_clock


async def test_the_sweep_counts_the_open_overdue_deadlines(intake_service):
    client, app = intake_service.client, intake_service.app
    case = await intake_service.register(agency_id="chaoyang")
    await intake_service.assign(case, at=ASSIGNED.astimezone(UTC))

    async def overdue_after_sweep_at(moment: datetime) -> float | None:
        app.dependency_overrides[get_clock] = at(moment)
        assert (await client.post("/api/v1/worklist/sweep")).status_code == 200
        return REGISTRY.get_sample_value("fayuan_overdue_deadlines")

    # First meeting and mandate are due by the end of 11 November (test_deadlines.py): none is
    # overdue an hour before, both are a minute after, and stay so once recorded.
    end_of_day = datetime(2026, 11, 12, 0, 0, tzinfo=ASSIGNED.tzinfo)
    assert await overdue_after_sweep_at(end_of_day - timedelta(hours=1)) == 0
    assert await overdue_after_sweep_at(end_of_day + timedelta(minutes=1)) == 2
    assert await overdue_after_sweep_at(end_of_day + timedelta(minutes=5)) == 2
