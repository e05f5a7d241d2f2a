from datetime import timedelta

import pytest
from asgi_correlation_id import correlation_id

from shared import audit, context
from shared.store import NewEvent, append


def as_actor(actor, role, ip, cid):
    tokens = [
        context.actor.set(actor),
        context.role.set(role),
        context.source_ip.set(ip),
        correlation_id.set(cid),
    ]

    def reset():
        context.actor.reset(tokens[0])
        context.role.reset(tokens[1])
        context.source_ip.reset(tokens[2])
        correlation_id.reset(tokens[3])

    return reset


async def test_a_read_records_who_saw_which_fields_of_which_case_from_the_context(kernel_db):
    engine, _ = kernel_db
    reset = as_actor("clerk-3", "agency_clerk", "10.0.0.9", "req-42")
    try:
        async with engine.begin() as conn:
            recorded = await audit.record_read(
                conn,
                case_id="case-1",
                fields=["phone", "name", "name"],
                person_ref="ref-1",
                purpose="follow-up call",
            )
    finally:
        reset()
    async with engine.connect() as conn:
        (read,) = await audit.list_reads(conn, case_id="case-1")
    assert read == recorded
    assert (read.actor, read.role, read.source_ip, read.correlation_id) == (
        "clerk-3",
        "agency_clerk",
        "10.0.0.9",
        "req-42",
    )
    assert (read.fields, read.person_ref, read.purpose) == (["name", "phone"], "ref-1", "follow-up call")


async def test_auditors_filter_reads_by_case_actor_person_and_time_newest_first(kernel_db):
    engine, _ = kernel_db
    for actor, case in [("a", "c1"), ("b", "c1"), ("a", "c2")]:
        reset = as_actor(actor, "r", None, None)
        try:
            async with engine.begin() as conn:
                await audit.record_read(conn, case_id=case, fields=["name"], person_ref=f"p-{case}")
        finally:
            reset()
    async with engine.connect() as conn:
        everything = await audit.list_reads(conn)
        assert [(r.actor, r.case_id) for r in everything] == [("a", "c2"), ("b", "c1"), ("a", "c1")]
        assert [r.case_id for r in await audit.list_reads(conn, actor="a")] == ["c2", "c1"]
        assert [r.actor for r in await audit.list_reads(conn, person_ref="p-c1")] == ["b", "a"]
        middle = everything[1].read_at
        assert [r.actor for r in await audit.list_reads(conn, since=middle)] == ["a", "b"]
        assert [r.actor for r in await audit.list_reads(conn, until=middle)] == ["a"]
        assert await audit.list_reads(conn, since=middle + timedelta(days=1)) == []
        assert [r.case_id for r in await audit.list_reads(conn, offset=1, limit=1)] == ["c1"]
        with pytest.raises(ValueError):
            await audit.list_reads(conn, limit=10_000)


async def test_a_read_with_no_fields_is_refused(kernel_db):
    engine, _ = kernel_db
    async with engine.begin() as conn:
        with pytest.raises(ValueError):
            await audit.record_read(conn, case_id="c", fields=[])


async def test_a_streams_events_show_who_recorded_them_but_not_their_data(kernel_db):
    engine, _ = kernel_db
    reset = as_actor("clerk-3", "agency_clerk", "10.0.0.9", "req-42")
    try:
        async with engine.begin() as conn:
            # What UnitOfWork.save records with every event.
            meta = context.metadata()
            await append(conn, "case-1", 0, [NewEvent("CaseRegistered", {"applicant": "pd1:1:xyz"}, meta)])
    finally:
        reset()
    async with engine.begin() as conn:
        await append(conn, "case-1", 1, [NewEvent("CaseAssigned", {}, {"actor": "system"})])
        (event_1, event_2) = await audit.stream_events_with_metadata(conn, "case-1")
    assert (event_1.version, event_1.type, event_1.actor, event_1.role) == (
        1,
        "CaseRegistered",
        "clerk-3",
        "agency_clerk",
    )
    assert (event_1.source_ip, event_1.correlation_id) == ("10.0.0.9", "req-42")
    assert (event_2.type, event_2.actor, event_2.role) == ("CaseAssigned", "system", None)
    assert not hasattr(event_1, "data")
