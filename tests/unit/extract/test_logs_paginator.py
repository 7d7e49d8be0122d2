"""The log paginator and window plan, driven as pure functions against a model of the API."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from extract import LogCursor, LogPaginator, PagingStalled, plan_log_windows

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def drain(paginator, api, *, between_calls=None, max_calls=10_000):
    """Page until the paginator asks for nothing more; return (records, final state)."""
    delivered = []
    request = paginator.request()
    while request is not None:
        assert api.calls < max_calls, "paginator does not terminate"
        if between_calls:
            between_calls()
        paginator, records = paginator.advance(api.page(dict(request.body)))
        delivered += records
        request = paginator.request()
    return delivered, paginator


def page_range(api, since, until, limit, *, trusted=False, between_calls=None):
    delivered = []
    for window in plan_log_windows(since, until):
        records, _ = drain(
            LogPaginator("p", window, limit=limit, limit_trusted=trusted),
            api,
            between_calls=between_calls,
        )
        delivered += records
    return delivered


def test_windows_cover_the_range_in_24h_pieces():
    """A 2.5-day range becomes three windows of at most 24 h, end to end."""
    windows = plan_log_windows(T0, T0 + 2.5 * DAY)
    assert [(w.window_start, w.window_end) for w in windows] == [
        (T0, T0 + DAY),
        (T0 + DAY, T0 + 2 * DAY),
        (T0 + 2 * DAY, T0 + 2.5 * DAY),
    ]


def test_resumed_windows_are_kept_and_done_ones_skipped():
    """Resumed cursors keep their bounds and position; finished ones are left out."""
    partial = LogCursor(T0 + DAY, T0 + 2 * DAY, last_id="a" * 24, last_date=T0 + DAY)
    finished = LogCursor(T0, T0 + DAY, done=True)
    windows = plan_log_windows(T0, T0 + 3 * DAY, [partial, finished])
    assert windows == [partial, LogCursor(T0 + 2 * DAY, T0 + 3 * DAY)]


def test_first_request_uses_date_then_the_last_id(log_api):
    """The first page starts at the window's date; the next from the last id, range to end."""
    api = log_api([(T0 + timedelta(seconds=s), f"{s:024x}") for s in range(5)], server_max=500)
    paginator = LogPaginator("p", LogCursor(T0, T0 + DAY), limit=3)
    first = paginator.request()
    assert first.body["date"].startswith("2026-03-01T00:00:00")
    assert first.body["date_range"] == 86_400
    paginator, records = paginator.advance(api.page(dict(first.body)))
    second = paginator.request()
    assert second.body["id"] == records[-1]["id"]
    assert "date" not in second.body
    assert second.body["date_range"] == 86_400 - 2


def test_cursor_log_is_dropped(log_api):
    """The repeated cursor log is not delivered twice."""
    api = log_api([(T0, f"{n:024x}") for n in range(7)], server_max=500)
    delivered, _ = drain(LogPaginator("p", LogCursor(T0, T0 + DAY), limit=3), api)
    assert [r["id"] for r in delivered] == [f"{n:024x}" for n in range(7)]


def test_short_page_ends_the_window_once_the_limit_is_trusted(log_api):
    """With a trusted limit, a short page ends the window with no confirming call."""
    api = log_api([(T0 + timedelta(hours=h), f"{h:024x}") for h in range(4)], server_max=500)
    _, state = drain(LogPaginator("p", LogCursor(T0, T0 + DAY), limit=10, limit_trusted=True), api)
    assert api.calls == 1
    assert state.cursor.done


def test_clamped_limit_does_not_end_a_window_early(log_api):
    """A server that returns fewer logs than asked still gets paged to the end."""
    logs = [(T0 + timedelta(minutes=m), f"{m:024x}") for m in range(40)]
    api = log_api(logs, server_max=5)
    delivered, _ = drain(LogPaginator("p", LogCursor(T0, T0 + DAY), limit=50), api)
    assert len(delivered) == 40


def test_quiet_days_cost_one_call_per_window(log_api):
    """Windows with no logs end after one call each and deliver nothing."""
    api = log_api([(T0 + 5 * DAY, "f" * 24)], server_max=500)
    delivered = page_range(api, T0, T0 + 3 * DAY, 500)
    assert delivered == []
    assert api.calls == 3


def test_vanished_cursor_log_restarts_from_its_date(log_api):
    """If the cursor log is gone, paging restarts from its date instead of stopping."""
    logs = [(T0 + timedelta(seconds=s), f"{s:024x}") for s in range(6)]
    api = log_api(logs, server_max=500)
    cursor = LogCursor(T0, T0 + DAY, last_id="0" * 23 + "9", last_date=T0 + timedelta(seconds=2))
    delivered, _ = drain(LogPaginator("p", cursor, limit=10), api)
    assert {r["id"] for r in delivered} >= {f"{s:024x}" for s in range(3, 6)}


def test_cursor_json_round_trips():
    """A cursor survives to_json / from_json unchanged."""
    cursor = LogCursor(T0, T0 + DAY, "ab" * 12, T0 + timedelta(microseconds=5), done=False)
    assert LogCursor.from_json(cursor.to_json()) == cursor


log_times = st.one_of(
    st.integers(0, 4 * 86_400).map(lambda s: timedelta(seconds=s)),
    st.integers(0, 4 * 86_400 * 10**6).map(lambda us: timedelta(microseconds=us)),
    st.sampled_from([timedelta(0), DAY, 2 * DAY, timedelta(hours=30)]),  # ties, edges
)


@settings(max_examples=150, deadline=None)
@given(
    offsets=st.lists(log_times, max_size=120),
    since=st.integers(0, 2 * 86_400),
    length=st.integers(1, 3 * 86_400),
    limit=st.integers(2, 12),
    server_max=st.integers(1, 15),
)
def test_every_log_in_range_is_delivered_exactly_once(
    log_api, offsets, since, length, limit, server_max
):
    """Random logs with ties, gaps and clamped limits: each log in range comes exactly once."""
    logs = [(T0 + offset, f"{n:024x}") for n, offset in enumerate(sorted(offsets))]
    api = log_api(logs, server_max=max(server_max, 2))
    start, end = T0 + timedelta(seconds=since), T0 + timedelta(seconds=since + length)
    delivered = page_range(api, start, end, limit, trusted=server_max >= limit)
    expected = Counter(log_id for date, log_id in logs if start <= date < end)
    assert Counter(r["id"] for r in delivered) == expected


@settings(max_examples=100, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 86_400), min_size=1, max_size=60),
    limit=st.integers(2, 10),
    inserts=st.lists(st.integers(0, 3), max_size=40),
)
def test_logs_added_while_paging_cause_no_gap_or_duplicate(log_api, offsets, limit, inserts):
    """Logs appended at the newest date during paging: old ones once, new ones at most once."""
    logs = [(T0 + timedelta(seconds=s), f"{n:024x}") for n, s in enumerate(sorted(offsets))]
    api = log_api(logs, server_max=limit)
    pending = list(inserts)

    def add_one():
        if pending:
            api.add(api.logs[-1][0] + timedelta(seconds=pending.pop()))

    delivered = page_range(api, T0, T0 + 2 * DAY, limit, between_calls=add_one)
    counts = Counter(r["id"] for r in delivered)
    assert all(counts[log_id] == 1 for _, log_id in logs)
    assert max(counts.values()) == 1


def test_log_bodies_use_only_fields_of_the_official_client_model():
    """Every body field we send is a field of ubiops.LogsCreate, with the documented type."""
    import ubiops

    fields = ubiops.LogsCreate.openapi_types
    paginator = LogPaginator("p", LogCursor(T0, T0 + DAY), limit=500)
    by_date = paginator.request().body
    by_id = (
        LogPaginator("p", LogCursor(T0, T0 + DAY, last_id="a" * 24, last_date=T0), limit=500)
        .request()
        .body
    )
    python_types = {"int": int, "str": str, "dict(str, str)": dict}
    for body in (by_date, by_id):
        assert set(body) <= set(fields)
        assert all(isinstance(value, python_types[fields[key]]) for key, value in body.items())


def test_thousands_of_logs_sharing_one_timestamp_page_through_by_id(log_api):
    """3,000 logs with one date page through the id cursor, each delivered once."""
    logs = [(T0 + timedelta(hours=3), f"{n:024x}") for n in range(3000)]
    api = log_api(logs, server_max=500)
    delivered = page_range(api, T0, T0 + DAY, 500)
    assert Counter(r["id"] for r in delivered) == Counter(i for _, i in logs)
    assert api.calls <= -(-3000 // 499) + 1


@settings(max_examples=100, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 3 * 86_400), min_size=1, max_size=80),
    broken=st.sets(st.integers(0, 79), max_size=15),
    how=st.sampled_from(["no-date", "bad-date", "no-id"]),
    limit=st.integers(3, 12),
)
def test_broken_logs_never_cost_a_valid_one(log_api, offsets, broken, how, limit):
    """Logs served broken (no id, no or bad date): valid ones still come exactly once, and
    each broken one in range comes at least once."""
    logs = [(T0 + timedelta(seconds=s), f"{n:024x}") for n, s in enumerate(sorted(offsets))]
    api = log_api(logs, server_max=limit)
    bad_ids = {log_id for n, (_, log_id) in enumerate(logs) if n in broken}
    serve = api.page

    def break_one(record):
        if record["id"] not in bad_ids:
            return record
        broken_record = {**record, "marker": record["id"]}
        if how == "no-id":
            del broken_record["id"]
        else:
            broken_record["date"] = "31/02/2026 25:61" if how == "bad-date" else None
        return broken_record

    api.page = lambda body: [break_one(record) for record in serve(body)]
    try:
        delivered = page_range(api, T0, T0 + 2 * DAY, limit)
    except PagingStalled:
        assert how == "no-id"  # a full page without ids is refused, never skipped
        return
    valid = Counter(r["id"] for r in delivered if "marker" not in r)
    assert valid == Counter(i for d, i in logs if d < T0 + 2 * DAY and i not in bad_ids)
    markers = Counter(r["marker"] for r in delivered if "marker" in r)
    assert {i for d, i in logs if d < T0 + 2 * DAY and i in bad_ids} <= set(markers)


def test_a_server_clamping_the_limit_is_learned(log_api):
    """Asked for 2,000, the server sends 500: every log still arrives once, and after the
    first short page followed by more logs the paginator asks for 500 and trusts it."""
    logs = [(T0 + timedelta(seconds=20 * n), f"{n:024x}") for n in range(2_000)]
    api = log_api(logs, server_max=500)
    delivered, state = drain(LogPaginator("p", LogCursor(T0, T0 + DAY), limit=2_000), api)
    assert Counter(r["id"] for r in delivered) == Counter(i for _, i in logs)
    assert (state.limit, state.limit_trusted) == (500, True)
