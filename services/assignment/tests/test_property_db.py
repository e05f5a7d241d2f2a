"""A smaller property run through the real command handlers and PostgreSQL: random pools
(commitment or not, suspended or not) and random case streams, decided concurrently by the
engine's own handler; the cap holds, the suspended and uncommitted get nothing, no case is
decided twice, and always-eligible handlers stay within one case of each other."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.assignment import handlers as engine
from services.assignment.app import MIGRATIONS, AssignmentSettings
from services.assignment.domain import CaseAssignment, HandlerAssigned, InstitutionKind
from services.assignment.projections import projection
from shared.contracts import CaseFlags, CaseKind, CaseRegistered, HandlerKind, HandlerSuspended
from shared.db import create_engine
from shared.uow import unit_of_work

CAP = 3


@pytest.fixture
async def database(migrated_settings):
    app_settings = await migrated_settings(AssignmentSettings, MIGRATIONS, monthly_case_cap=CAP,
                                           consumers_enabled=False, relay_enabled=False)
    db = create_engine(app_settings)
    yield db, app_settings
    await db.dispose()


pools = st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=5)  # (committed, suspended)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pool=pools, n_cases=st.integers(1, 16), group=st.lists(st.booleans(), min_size=16, max_size=16))
async def test_the_engine_on_the_database_keeps_the_rules(database, pool, n_cases, group):
    db, app_settings = database
    agency = f"agency-{uuid.uuid4().hex[:8]}"

    def uow():
        return unit_of_work(db, app_settings, projection)

    today = datetime.now(UTC).date()
    committed_firm = (await engine.recruit_institution(uow, name="甲所", kind=InstitutionKind.law_firm,
                                                       agency_id=agency, district="朝阳区")).id
    await engine.sign_commitment(uow, committed_firm, signed_on=date(2025, 1, 1),
                                 valid_until=today + timedelta(days=365))
    bare_firm = (await engine.recruit_institution(uow, name="乙所", kind=InstitutionKind.law_firm,
                                                  agency_id=agency, district="朝阳区")).id
    kinds: dict[str, tuple[bool, bool]] = {}
    for i, (committed, suspended) in enumerate(pool):
        h = await engine.register_handler(uow, name=f"律师{i}", kind=HandlerKind.lawyer,
                                          licence_number=f"L{i}",
                                          institution_id=committed_firm if committed else bare_firm,
                                          years_of_practice=5)
        kinds[h.id] = (committed, suspended)
        if suspended:
            async with uow() as u:
                await engine.suspend_handler(u, HandlerSuspended(suspension_id=f"s{i}", handler_id=h.id,
                                                                 reason="评估不合格",
                                                                 suspended_at=datetime.now(UTC)))
    cases = [CaseRegistered(case_id=str(uuid.uuid4()), case_number=f"FY-{i}", case_kind=CaseKind.civil,
                            cause="欠薪", district="朝阳区", agency_id=agency,
                            flags=CaseFlags(group_case=group[i]),
                            registered_at=datetime.now(UTC)) for i in range(n_cases)]

    async def decide(case):
        async with uow() as u:
            await engine.assign_registered_case(u, case)

    await asyncio.gather(*(decide(c) for c in cases), *(decide(c) for c in cases[:3]))  # some told twice

    got: Counter[str] = Counter()
    async with uow() as u:
        for case in cases:
            assignment = await u.get(CaseAssignment, case.case_id)
            assert len(assignment.decisions) == 1  # decided once, however often told
            decision = assignment.decisions[0]
            if isinstance(decision, HandlerAssigned):
                committed, suspended = kinds[decision.handler.handler_id]
                assert committed and not suspended
                got[decision.handler.handler_id] += not case.flags.group_case
    assert all(n <= CAP for n in got.values())
    fine = [h for h, (committed, suspended) in kinds.items() if committed and not suspended]
    non_group = sum(not c.flags.group_case for c in cases)
    if fine and non_group <= CAP * len(fine):
        counts = [got.get(h, 0) for h in fine]
        assert sum(counts) == non_group and max(counts) - min(counts) <= 1
