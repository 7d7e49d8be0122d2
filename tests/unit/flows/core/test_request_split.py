"""Cutting a requests range into sub-windows that are paged at the same time."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from extract import RequestCursor
from flows.core.streams.requests import MIN_SUBWINDOW, split_request_windows

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@given(
    minutes=st.integers(min_value=1, max_value=60 * 24 * 40),
    parts=st.integers(min_value=1, max_value=16),
)
@example(minutes=3600, parts=10)  # a rounded step once left the last window 2 µs short
def test_sub_windows_cover_the_range_exactly_once(minutes: int, parts: int) -> None:
    """Sub-windows are contiguous, half-open, cover [start, end) and number at most `parts`."""
    end = T0 + timedelta(minutes=minutes, microseconds=7)
    windows = split_request_windows([(T0, end, None)], parts)
    assert 1 <= len(windows) <= parts
    assert windows[0][0] == T0
    assert windows[-1][1] == end
    for (_, a_end, _), (b_start, _, _) in itertools.pairwise(windows):
        assert a_end == b_start
    assert all(start < stop and cursor is None for start, stop, cursor in windows)
    if len(windows) > 1:
        assert all(
            stop - start >= MIN_SUBWINDOW - timedelta(microseconds=1) for start, stop, _ in windows
        )


def test_a_resumed_window_stays_whole() -> None:
    """A window with a crashed run's cursor keeps its cursor and its bounds."""
    cursor = RequestCursor("deployment", T0, T0 + timedelta(days=3))
    plan = [
        (T0, T0 + timedelta(days=3), cursor),
        (T0 + timedelta(days=3), T0 + timedelta(days=5), None),
    ]
    windows = split_request_windows(plan, 4)
    assert windows[0] == plan[0]
    assert windows[1][0] == T0 + timedelta(days=3)
    assert windows[-1][1] == T0 + timedelta(days=5)
    assert len(windows) == 5


def test_short_range_is_not_split() -> None:
    """A range shorter than two minimum sub-windows is paged as one window."""
    plan = [(T0, T0 + MIN_SUBWINDOW, None)]
    assert split_request_windows(plan, 8) == plan
