"""Two assignment replicas (two apps, each with its own consumers in one consumer group, one
database, the real broker) sharing one stream of registrations: no case is assigned twice, no
handler exceeds the cap, the suspended and the uncommitted get nothing, rotation stays fair."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import UTC, datetime

from services.assignment.app import MIGRATIONS, AssignmentSettings, create_app
from services.assignment.tests.conftest import assigned_handler, handler, institution, registered
from shared.contracts import CaseAssigned, CaseRegistered, HandlerSuspended
from shared.testing.fixtures import serve_in_process
from shared.testing.kafka import eventually, publish, read_topic
from shared.topics import PARTITIONS


async def test_two_replicas_assign_each_case_once_within_the_rules(migrated_settings):
    settings = await migrated_settings(AssignmentSettings, MIGRATIONS, monthly_case_cap=3)
    async with contextlib.AsyncExitStack() as stack:
        apps = [create_app(settings), create_app(settings)]
        one = await stack.enter_async_context(serve_in_process(apps[0]))
        two = await stack.enter_async_context(serve_in_process(apps[1]))
        firm = await institution(one)
        uncommitted = await institution(one, commitment=False, name="未签承诺书律师事务所")
        pool = [await handler(one, firm, name) for name in ("甲", "乙", "丙", "丁")]
        suspended = await handler(two, firm, "停")
        outsider = await handler(two, uncommitted, "外")
        await publish(settings, HandlerSuspended(suspension_id="s-1", handler_id=suspended,
                                                 reason="案件评估不合格", suspended_at=datetime.now(UTC)),
                      source="/fayuan/sanctions")
        await eventually(lambda: _suspended(one, suspended))
        cases = [registered() for _ in range(14)]  # four handlers, cap three: two cases are blocked
        await publish(settings, *cases)
        outcomes = [await assigned_handler(one if i % 2 else two, c.case_id) for i, c in enumerate(cases)]
        told = await read_topic(settings.kafka_bootstrap_servers, settings.topic(CaseAssigned.topic),
                                expect=14)
        # Both replicas took part: the group split the registrations' partitions between them.
        cases_topic = settings.topic(CaseRegistered.topic)
        handled = [sum(c.handled for c in app.state.consumers if cases_topic in c.topics) for app in apps]
    assigned = [e.model() for e in told if e.type == CaseAssigned.type]
    per_case = Counter(a.case_id for a in assigned)
    assert all(n == 1 for n in per_case.values()) and len(per_case) == 12
    counts = Counter(o for o in outcomes if o)
    assert counts == dict.fromkeys(pool, 3)
    assert suspended not in counts and outsider not in counts
    assert outcomes.count(None) == 2
    assert all(handled) and sum(handled) >= 14, handled


async def _group_settled(apps) -> bool | None:
    """Each consumer of both replicas holds a share of its topics' partitions, and the shares split
    them whole: the group has both members and no rebalance is under way."""
    for pair in zip(*(app.state.consumers for app in apps), strict=True):
        one, two = (runner.assigned for runner in pair)
        if not one or not two or one & two or len(one | two) != PARTITIONS * len(pair[0].topics):
            return None
    return True


async def _suspended(client, handler_id: str):
    return (await client.get(f"/api/v1/handlers/{handler_id}")).json()["suspended"] or None
