"""The audit paginator, driven as a pure function against a model of the API."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from extract import AuditCursor, AuditPaginator

T0 = datetime(2026, 3, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def scan(api, known=None, *, limit=5, between_calls=None, max_calls=10_000):
    """One scan from the newest event; return (records, final paginator)."""
    paginator = AuditPaginator("p", known or AuditCursor(), limit=limit)
    delivered = []
    request = paginator.request()
    while request is not None:
        assert api.calls < max_calls, "paginator does not terminate"
        if between_calls:
            between_calls()
        paginator, records = paginator.advance(api.page(dict(request.params)))
        delivered += records
        request = paginator.request()
    return delivered, paginator


def test_first_scan_reads_all_history_newest_first(audit_api):
    """Without a known boundary, every event is read, newest first, until an empty page."""
    api = audit_api([T0 + n * MS for n in range(12)], server_max=100)
    delivered, state = scan(api)
    assert [r["id"] for r in delivered] == [f"evt-{n}" for n in reversed(range(12))]
    assert state.cursor.newest_ids == ("evt-11",)


def test_scan_stops_at_the_known_boundary(audit_api):
    """A second scan reads only the new events and stops at the first known one."""
    api = audit_api([T0 + n * MS for n in range(50)], server_max=100)
    _, first = scan(api)
    for n in range(3):
        api.add(T0 + (60 + n) * MS)
    calls_before = api.calls
    delivered, _ = scan(api, first.cursor, limit=10)
    assert [r["id"] for r in delivered] == ["evt-52", "evt-51", "evt-50"]
    assert api.calls - calls_before == 1


def test_mid_scan_pages_commit_the_old_boundary(audit_api):
    """Until the scan ends, the cursor to commit stays the known boundary."""
    api = audit_api([T0 + n * MS for n in range(20)], server_max=100)
    paginator = AuditPaginator("p", AuditCursor(), limit=5)
    paginator, _ = paginator.advance(api.page(dict(paginator.request().params)))
    assert paginator.cursor == AuditCursor()
    assert not paginator.done


def test_cursor_json_round_trips():
    """An audit cursor survives to_json / from_json unchanged."""
    cursor = AuditCursor(T0, ("a", "b"))
    assert AuditCursor.from_json(cursor.to_json()) == cursor


@settings(max_examples=200, deadline=None)
@given(
    dates=st.lists(st.integers(0, 300).map(lambda ms: T0 + ms * MS), max_size=80),
    limit=st.integers(1, 12),
    server_max=st.integers(1, 15),
    during=st.lists(st.integers(0, 2), max_size=30),
    after=st.lists(st.integers(0, 2), max_size=10),
)
def test_two_scans_deliver_every_event_exactly_once(
    audit_api, dates, limit, server_max, during, after
):
    """Events added during and after a scan: across two scans, each event comes once."""
    api = audit_api(dates, server_max=server_max)
    pending = list(during)

    def add_newest():
        if pending:
            newest = api.events[0][0] if api.events else T0
            api.add(newest + pending.pop() * MS)

    first, state = scan(api, limit=limit, between_calls=add_newest)
    for step in after:
        api.add((api.events[0][0] if api.events else T0) + step * MS)
    second, _ = scan(api, state.cursor, limit=limit)
    assert Counter(r["id"] for r in first + second) == Counter(eid for _, _, eid in api.events)


@settings(max_examples=150, deadline=None)
@given(
    dates=st.lists(st.integers(0, 300).map(lambda ms: T0 + ms * MS), min_size=1, max_size=60),
    broken=st.sets(st.integers(0, 59), max_size=12),
    how=st.sampled_from(["no-date", "bad-date", "no-id"]),
    limit=st.integers(2, 10),
    later=st.lists(st.integers(0, 2), max_size=8),
)
def test_broken_events_never_cost_a_valid_one(audit_api, dates, broken, how, limit, later):
    """Events served broken: across two scans valid ones come exactly once, broken ones at
    least once."""
    api = audit_api(dates, server_max=100)
    bad = {f"evt-{n}" for n in broken}
    serve = api.page

    def break_one(record):
        if record["id"] not in bad:
            return record
        broken_record = {**record, "marker": record["id"]}
        if how == "no-id":
            del broken_record["id"]
        else:
            broken_record["date"] = "31/02/2026 25:61" if how == "bad-date" else None
        return broken_record

    api.page = lambda params: [break_one(record) for record in serve(params)]
    first, state = scan(api, limit=limit)
    for step in later:
        api.add(api.events[0][0] + step * MS)
    second, _ = scan(api, state.cursor, limit=limit)
    everything = first + second
    valid = Counter(r["id"] for r in everything if "marker" not in r)
    assert valid == Counter(eid for _, _, eid in api.events if eid not in bad)
    assert {r["marker"] for r in everything if "marker" in r} == bad & {e for *_, e in api.events}
