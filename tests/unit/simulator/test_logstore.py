"""LogStore: (date, id) ordering, ObjectId-like ids, and the window/cursor semantics."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import World
from simulator.logstore import LogStore, Window

S = 1_000_000_000
T0 = 1_800_000_000 * S


def make_store(dates: list[int]) -> LogStore:
    store = LogStore(project_code=0xABCDEF)
    src = store.add_source({"deployment_name": "dep"})
    store.add([(d, src, 2, 0) for d in dates])
    return store


def dates_of(store: LogStore, seqs: list[int]) -> list[int]:
    return [store.date_ns(s) for s in seqs]


def test_ids_are_24_hex_with_creation_second_prefix() -> None:
    """Ids are 24 lowercase hex digits whose first 8 are the creation second."""
    store = make_store([T0 + 5 * S, T0])
    for seq in range(len(store)):
        log_id = store.log_id(seq)
        assert len(log_id) == 24
        assert log_id == log_id.lower()
        assert int(log_id[:8], 16) == store.date_ns(seq) // S


def test_api_order_is_date_then_id_and_ids_follow_creation() -> None:
    """Logs are served by (date, id); ids sort by creation second, then insertion order."""
    store = make_store([T0 + 3 * S, T0 + 2, T0, T0, T0 + 1, T0 + 3 * S])
    seqs = store.visible_seqs(T0 + 10 * S)
    keys = [(store.date_ns(s), store.log_id(s)) for s in seqs]
    assert keys == sorted(keys)
    assert [k[1][:8] for k in keys] == sorted(k[1][:8] for k in keys)
    inserted_later_same_second = store.log_id(2) > store.log_id(1)
    assert inserted_later_same_second
    assert store.date_ns(2) < store.date_ns(1)


def test_positive_range_is_oldest_first_and_inclusive_of_both_ends() -> None:
    """A positive window from a date returns logs in [date, date + range], oldest first."""
    store = make_store([T0 - 1, T0, T0 + 5 * S, T0 + 10 * S, T0 + 10 * S + 1])
    seqs = store.query(Window(T0, None, 10 * S, 50), T0 + 100 * S, None)
    assert dates_of(store, seqs) == [T0, T0 + 5 * S, T0 + 10 * S]


def test_negative_range_is_newest_first() -> None:
    """A negative window returns logs in [date - range, date], newest first."""
    store = make_store([T0 - 11 * S, T0 - 10 * S, T0 - 5 * S, T0, T0 + 1])
    seqs = store.query(Window(T0, None, -10 * S, 50), T0 + 100 * S, None)
    assert dates_of(store, seqs) == [T0, T0 - 5 * S, T0 - 10 * S]


@pytest.mark.parametrize("range_s", [30, -30])
def test_cursor_log_is_always_first_and_ties_split_by_id(range_s: int) -> None:
    """With an id cursor the cursor log comes first; tied logs before it (by id) are skipped."""
    store = make_store([T0] * 5 + [T0 - S, T0 + S])
    tied = [s for s in store.visible_seqs(T0 + 100 * S) if store.date_ns(s) == T0]
    cursor = tied[2]
    seqs = store.query(Window(T0, cursor, range_s * S, 50), T0 + 100 * S, None)
    assert seqs[0] == cursor
    expected_ties = tied[3:] if range_s > 0 else tied[1::-1]
    assert seqs[1:3] == expected_ties


def test_cursor_is_included_even_when_filtered_out() -> None:
    """The cursor log is returned even if it does not match the filters."""
    store = make_store([T0, T0 + S])
    seqs = store.query(Window(T0, 0, 10 * S, 50), T0 + 100 * S, lambda _seq: False)
    assert seqs == [0]


def test_limit_and_future_logs() -> None:
    """A page holds at most `limit` logs and never a log dated after the world's now."""
    store = make_store([T0 + i * S for i in range(10)])
    page = store.query(Window(T0, None, 100 * S, 3), T0 + 100 * S, None)
    assert len(page) == 3
    visible = store.query(Window(T0, None, 100 * S, 50), T0 + 4 * S, None)
    assert max(dates_of(store, visible)) == T0 + 4 * S


def test_late_logs_merge_into_order_with_later_creation_ids() -> None:
    """Logs added later with older dates slot into date order; their ids carry the creation
    second, so they still sort after logs created before them on the same date."""
    store = make_store([T0, T0 + 10 * S])
    src = 0
    store.add([(T0 + 5 * S, src, 2, 0), (T0, src, 2, 0)], created_sec=T0 // S + 20)
    seqs = store.visible_seqs(T0 + 100 * S)
    assert dates_of(store, seqs) == [T0, T0, T0 + 5 * S, T0 + 10 * S]
    late = seqs[1]
    assert int(store.log_id(late)[:8], 16) == T0 // S + 20
    assert store.seq_of(store.log_id(late), T0 + 100 * S) == late


def test_seq_of_rejects_foreign_and_unknown_ids() -> None:
    """An id of another project, beyond the store, or dated in the future is not found."""
    store = make_store([T0, T0 + 50 * S])
    assert store.seq_of(store.log_id(0), T0) == 0
    assert store.seq_of(store.log_id(1), T0) is None
    other = LogStore(project_code=1)
    other.add([(T0, other.add_source({}), 2, 0)])
    assert store.seq_of(other.log_id(0), T0) is None
    assert store.seq_of("ffffffffabcdefffffffffff", T0) is None


def test_json_rendering_equals_dict_rendering(shared_world: World) -> None:
    """The fast JSON path renders every log exactly like the dict path (unicode included)."""
    store = shared_world.projects[shared_world.project_names[0]].logs
    seqs = store.visible_seqs(shared_world.as_of_ns)
    assert [json.loads(store.render_json(s)) for s in seqs] == [store.render(s) for s in seqs]


def reference_query(
    store: LogStore, window: Window, as_of: int, keep: set[int] | None
) -> list[int]:
    """The documented semantics, brute force: (date, id) order, window, cursor, limit."""
    everything = sorted(range(len(store)), key=lambda s: (store.date_ns(s), store.log_id(s)))
    visible = [s for s in everything if store.date_ns(s) <= as_of]
    start_key = (window.start_ns, "" if window.range_ns >= 0 else "g" * 24)
    if window.cursor_seq is not None:
        start_key = (window.start_ns, store.log_id(window.cursor_seq))
    end = window.start_ns + window.range_ns
    if window.range_ns >= 0:
        picked = [
            s
            for s in visible
            if start_key <= (store.date_ns(s), store.log_id(s)) and store.date_ns(s) <= end
        ]
    else:
        picked = [
            s
            for s in reversed(visible)
            if (store.date_ns(s), store.log_id(s)) <= start_key and store.date_ns(s) >= end
        ]
    picked = [s for s in picked if keep is None or s in keep or s == window.cursor_seq]
    return picked[: window.limit]


@settings(max_examples=200, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 40), min_size=1, max_size=60),
    late=st.lists(st.integers(0, 40), max_size=10),
    start=st.integers(-5, 45),
    use_cursor=st.booleans(),
    cursor_pick=st.integers(0, 10_000),
    range_s=st.integers(-50, 50),
    limit=st.integers(1, 20),
    as_of=st.integers(0, 45),
    keep_mod=st.one_of(st.none(), st.integers(2, 4)),
)
def test_query_matches_the_documented_semantics(
    offsets: list[int],
    late: list[int],
    start: int,
    use_cursor: bool,
    cursor_pick: int,
    range_s: int,
    limit: int,
    as_of: int,
    keep_mod: int | None,
) -> None:
    """For random dates (many ties, some late logs), windows, cursors, limits and filters, a
    query returns exactly what the documented rules say."""
    store = make_store([T0 + o * S for o in offsets])
    store.add([(T0 + o * S, 0, 2, 0) for o in late], created_sec=T0 // S + 41)
    as_of_ns = T0 + as_of * S
    cursor = None
    start_ns = T0 + start * S
    if use_cursor:
        visible = [s for s in range(len(store)) if store.date_ns(s) <= as_of_ns]
        if visible:
            cursor = visible[cursor_pick % len(visible)]
            start_ns = store.date_ns(cursor)
    window = Window(start_ns, cursor, range_s * S, limit)
    keep = None if keep_mod is None else {s for s in range(len(store)) if s % keep_mod == 0}
    predicate = None if keep is None else keep.__contains__
    assert store.query(window, as_of_ns, predicate) == reference_query(
        store, window, as_of_ns, keep
    )
