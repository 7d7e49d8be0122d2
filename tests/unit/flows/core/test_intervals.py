"""Interval sets: what a stream has completed and what a run still has to fetch."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from flows.core import intervals

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def t(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_merge_coalesces_overlapping_and_touching_and_drops_empty():
    """Overlapping and touching intervals merge; empty ones vanish; the result is sorted."""
    got = intervals.merge([(t(5), t(6)), (t(0), t(2)), (t(2), t(3)), (t(1), t(1)), (t(5.5), t(8))])
    assert got == [(t(0), t(3)), (t(5), t(8))]


def test_subtract_returns_the_gaps_in_order():
    """The parts of a span that no completed interval covers come back in order."""
    done = [(t(1), t(2)), (t(4), t(5)), (t(9), t(12))]
    assert intervals.subtract((t(0), t(10)), done) == [(t(0), t(1)), (t(2), t(4)), (t(5), t(9))]
    assert intervals.subtract((t(1), t(2)), done) == []


def test_split_cuts_into_pieces_of_at_most_size():
    """A 50-hour span splits into 24 h, 24 h and 2 h pieces that tile it exactly."""
    pieces = intervals.split((t(0), t(50)), timedelta(hours=24))
    assert pieces == [(t(0), t(24)), (t(24), t(48)), (t(48), t(50))]


def test_json_round_trip_and_high_water_mark():
    """Intervals survive JSON and the high-water mark is the end of the last interval."""
    done = [(t(0), t(3)), (t(5), t(8))]
    assert intervals.from_json(intervals.to_json(done)) == done
    assert intervals.covered_until(done) == t(8)
    assert intervals.covered_until([]) is None


spans = st.tuples(st.integers(0, 100), st.integers(0, 100)).map(lambda p: (t(p[0]), t(p[1])))


@given(st.lists(spans, max_size=12), spans)
def test_gaps_and_done_tile_the_span_exactly(done, span):
    """Gaps never overlap what is done, and gaps plus done cover every hour of the span."""
    gaps = intervals.subtract(span, done)
    for g_start, g_end in gaps:
        assert g_start < g_end
        assert all(g_end <= d0 or g_start >= d1 for d0, d1 in intervals.merge(done))
    if span[0] < span[1]:
        hours = int((span[1] - span[0]).total_seconds() // 3600)
        for h in range(hours):
            point = span[0] + timedelta(hours=h, minutes=30)
            in_gap = any(a <= point < b for a, b in gaps)
            in_done = any(a <= point < b for a, b in intervals.merge(done))
            assert in_gap != in_done
