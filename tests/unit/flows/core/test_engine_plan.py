"""Planning a run from committed state: which log spans and request windows to read."""

from datetime import UTC, datetime, timedelta

from extract import RequestCursor
from flows.core import intervals
from flows.core.settings import Settings
from flows.core.streams import plan_log_spans, plan_request_windows, request_start

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
SETTINGS = Settings(initial_history="7d", lookback="1h")


def h(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def state(*done: tuple[datetime, datetime]) -> dict:
    return {"completed": intervals.to_json(done)}


def test_first_sync_reads_the_initial_history():
    """With no state and no --since, a sync reads the configured initial history up to now."""
    spans = plan_log_spans({}, since=None, until=NOW, settings=SETTINGS, now=NOW, backfill=False)
    assert spans == [(NOW - timedelta(days=7), NOW)]


def test_next_sync_rereads_only_the_lookback_and_what_is_new():
    """A later sync starts one lookback before the high-water mark, not at the beginning."""
    spans = plan_log_spans(
        state((h(100), h(2))), since=None, until=NOW, settings=SETTINGS, now=NOW, backfill=False
    )
    assert spans == [(h(3), NOW)]


def test_sync_with_since_fills_gaps_and_the_tail():
    """--since on a lake with holes reads the holes and the tail, not what is complete."""
    done = state((h(50), h(40)), (h(30), h(5)))
    spans = plan_log_spans(done, since=h(60), until=NOW, settings=SETTINGS, now=NOW, backfill=False)
    assert spans == [(h(60), h(50)), (h(40), h(30)), (h(6), NOW)]


def test_backfill_reads_only_missing_intervals_without_lookback():
    """A backfill of a partly done range reads exactly the missing parts."""
    done = state((h(48), h(24)))
    spans = plan_log_spans(
        done, since=h(72), until=h(12), settings=SETTINGS, now=NOW, backfill=True
    )
    assert spans == [(h(72), h(48)), (h(24), h(12))]
    assert (
        plan_log_spans(done, since=h(40), until=h(30), settings=SETTINGS, now=NOW, backfill=True)
        == []
    )


def test_request_start_goes_back_to_the_oldest_unfinished_request():
    """Requests are re-read from the oldest one still unfinished, even before the lookback."""
    sub = {"covered_until": h(1).isoformat(), "unfinished_since": h(30).isoformat()}
    assert request_start(sub, since=None, settings=SETTINGS, now=NOW) == h(30)
    sub["unfinished_since"] = None
    assert request_start(sub, since=None, settings=SETTINGS, now=NOW) == h(2)
    assert request_start({}, since=None, settings=SETTINGS, now=NOW) == NOW - timedelta(days=7)


def test_a_crashed_request_window_is_finished_then_the_rest_is_read():
    """The committed cursor's window resumes where it stopped; the range around it is read
    fresh, so the new `until` leaves no gap after the old window."""
    cursor = RequestCursor("deployment", h(10), h(4))
    plan = plan_request_windows(h(12), NOW, cursor)
    assert plan == [(h(12), h(10), None), (h(10), h(4), cursor), (h(4), NOW, None)]
    assert plan_request_windows(h(3), NOW, cursor) == [(h(3), NOW, None)]
    assert plan_request_windows(h(12), NOW, None) == [(h(12), NOW, None)]


def test_a_resumed_cursor_gets_the_lookback_before_it_re_read():
    """On a sync, the lookback before each partial window's cursor is read again as a fresh
    window (late logs dated before the cursor), clipped to that window; cursors without a
    position add nothing."""
    from datetime import UTC, datetime, timedelta

    from extract import LogCursor
    from flows.core.streams.logs import lookback_before

    start = datetime(2026, 3, 1, tzinfo=UTC)
    hour = timedelta(hours=1)
    far = LogCursor(start, start + 24 * hour, last_id="a" * 24, last_date=start + 5 * hour)
    near = LogCursor(
        start + 24 * hour, start + 48 * hour, last_ns=int((start + 24.5 * hour).timestamp() * 1e9)
    )
    fresh = LogCursor(start + 48 * hour, start + 72 * hour)
    assert lookback_before([far, near, fresh], hour) == [
        (start + 4 * hour, start + 5 * hour),
        (start + 24 * hour, start + 24.5 * hour),
    ]
