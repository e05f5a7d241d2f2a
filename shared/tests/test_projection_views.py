"""An in-memory twin that takes a view of its event (shared/projection.py): the view is the event
validated from the same stored JSON without the fields the twin does not read, which the batched
rebuild's pages then leave out; a view cannot name a field the event lacks, nor forbid the ones
it leaves out. And the cyclic GC the batched rebuild pauses is as it was afterwards."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ConfigDict

from shared.aggregate import Aggregate, DomainEvent
from shared.collector import collecting_paused
from shared.projection import Projection, Recorded, Rows, _page_sql


class Weighed(DomainEvent):
    item: str
    grams: int
    reasons: list[str]


class Noted(DomainEvent):
    item: str
    reasons: list[str]


class Scale(Aggregate):
    stream_prefix = "scale"


Scale.handles(Weighed, Noted)


class WeightOnly(BaseModel):
    item: str
    grams: int


def test_a_twin_with_a_view_gets_only_what_it_reads_and_the_pages_leave_the_rest_out():
    projection = Projection(Scale)
    seen: list[BaseModel] = []

    @projection.in_memory(Weighed, view=WeightOnly)
    def weighed(rows: Rows, e: WeightOnly, at: Recorded) -> None:
        seen.append(e)

    @projection.in_memory(Noted)
    def noted(rows: Rows, e: Noted, at: Recorded) -> None:
        seen.append(e)

    stored = Weighed(item="盐", grams=500, reasons=["every", "one"]).model_dump_json()
    assert projection.fold_in_memory(Rows([]), "scale-1", "Weighed", stored, 1, 1, datetime.now(UTC))
    assert seen == [WeightOnly(item="盐", grams=500)]
    # Noted's twin takes the whole event: nothing of it is left out.
    assert projection.unread_in_memory == {"Weighed": ["reasons"]}
    sql, args = _page_sql(projection.unread_in_memory)
    assert "WHEN $3 THEN data - $4::text[]" in sql and args == ["Weighed", ["reasons"]]


def test_a_field_is_left_out_only_when_no_twin_of_the_event_reads_it():
    projection = Projection(Scale)
    projection.in_memory(Weighed, view=WeightOnly)(lambda rows, e, at: None)
    projection.in_memory(Weighed)(lambda rows, e, at: None)
    assert projection.unread_in_memory == {}
    sql, args = _page_sql({})
    assert "(data)::text" in sql and args == []


def test_a_view_names_no_field_its_event_lacks_and_forbids_none():
    class WithColour(BaseModel):
        item: str
        colour: str

    class Strict(BaseModel):
        model_config = ConfigDict(extra="forbid")
        item: str

    projection = Projection(Scale)
    with pytest.raises(ValueError, match="colour"):
        projection.in_memory(Weighed, view=WithColour)
    with pytest.raises(ValueError, match="forbids"):
        projection.in_memory(Weighed, view=Strict)


def test_the_cyclic_gc_paused_by_a_rebuild_or_a_draft_is_as_it_was_afterwards():
    assert gc.isenabled()
    with collecting_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collecting_paused():
            pass
        assert not gc.isenabled()  # a caller's own pause is theirs to end
    finally:
        gc.enable()
    # Two pauses overlapping, as two drafts awaiting in one server: the collector runs after both.
    first, second = collecting_paused(), collecting_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    second.__exit__(None, None, None)
    assert gc.isenabled()
