"""The requests paginator, driven as a pure function against a model of the API."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from extract import RequestCursor, RequestPaginator

T0 = datetime(2026, 3, 1, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def drain(paginator, api, *, between_calls=None, max_calls=10_000):
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


def window(start=T0, end=T0 + timedelta(days=7)):
    return RequestCursor("deployment", start, end)


def test_request_asks_ascending_closed_window_from_the_boundary(request_api):
    """Pages ask for sort=asc between the boundary and the window end."""
    api = request_api([T0 + n * MS for n in range(5)], server_max=50)
    paginator = RequestPaginator("p", window(), limit=3)
    first = paginator.request()
    assert first.params["sort"] == "asc"
    assert first.params["object_type"] == "deployment"
    paginator, records = paginator.advance(api.page(dict(first.params)))
    second = paginator.request().params
    assert second["start_date"].startswith("2026-03-01T00:00:00.002")
    assert second["offset"] == 0
    assert len(records) == 3


def test_short_page_is_not_the_end(request_api):
    """A page shorter than asked (server clamp) does not end paging; an empty one does."""
    api = request_api([T0 + n * MS for n in range(30)], server_max=4)
    delivered, state = drain(RequestPaginator("p", window(), limit=50), api)
    assert len(delivered) == 30
    assert state.cursor.done


def test_window_is_half_open(request_api):
    """A request created exactly at the window end belongs to the next window."""
    end = T0 + timedelta(hours=1)
    api = request_api([T0, T0 + MS, end], server_max=50)
    delivered, _ = drain(RequestPaginator("p", window(T0, end), limit=50), api)
    assert len(delivered) == 2


def test_many_ties_page_through_with_offsets(request_api):
    """Hundreds of requests created in one instant are all delivered once."""
    api = request_api([T0] * 120, server_max=50)
    delivered, _ = drain(RequestPaginator("p", window(), limit=10), api)
    assert Counter(r["id"] for r in delivered) == Counter(rid for _, _, rid in api.rows)


def test_resume_from_a_cursor_skips_what_was_delivered(request_api):
    """A resumed cursor continues after its boundary without repeating boundary ids."""
    api = request_api([T0 + n * MS for n in range(10)], server_max=50)
    paginator = RequestPaginator("p", window(), limit=4)
    state, first_page = paginator.advance(api.page(dict(paginator.request().params)))
    resumed = RequestCursor.from_json(state.cursor.to_json())
    rest, _ = drain(RequestPaginator("p", resumed, limit=4), api)
    assert Counter(r["id"] for r in first_page + rest) == Counter(rid for _, _, rid in api.rows)


moments = st.integers(0, 5_000).map(lambda ms: T0 + ms * MS)


@settings(max_examples=200, deadline=None)
@given(
    created=st.lists(st.one_of(moments, st.just(T0 + 100 * MS)), max_size=100),
    limit=st.integers(4, 20),
    server_max=st.integers(4, 25),
    changes=st.lists(st.sampled_from(["none", "new", "tie", "expire"]), max_size=60),
    window_ms=st.tuples(st.integers(0, 2_000), st.integers(1, 6_000)),
)
def test_every_surviving_request_is_delivered_exactly_once(
    request_api, created, limit, server_max, changes, window_ms
):
    """Random data, ties, clamps, creations and expiries mid-scan: survivors exactly once."""
    api = request_api(created, server_max=server_max)
    start = T0 + window_ms[0] * MS
    end = start + window_ms[1] * MS
    expired: set[str] = set()
    added: set[str] = set()
    pending = list(changes)

    def mutate():
        change = pending.pop() if pending else "none"
        newest = api.rows[-1][0] if api.rows else T0
        if change == "new":
            added.add(api.add(newest + 3 * MS))
        elif change == "tie":
            added.add(api.add(newest))
        elif change == "expire" and (gone := api.expire_oldest()):
            expired.add(gone)

    initial = [(moment, rid) for moment, _, rid in api.rows]
    delivered, _ = drain(
        RequestPaginator("p", window(start, end), limit=limit), api, between_calls=mutate
    )
    counts = Counter(r["id"] for r in delivered)
    survivors = {rid for moment, rid in initial if start <= moment < end and rid not in expired}
    assert all(counts[rid] == 1 for rid in survivors)
    assert not counts or max(counts.values()) == 1
    in_window = {rid for moment, rid in initial if start <= moment < end}
    assert set(counts) <= in_window | added


def test_expiry_among_skipped_ties_does_not_shift_an_unseen_one_away(request_api):
    """When ties are skipped by offset, one expiring meanwhile still leaves none unseen."""
    api = request_api([T0] * 9, server_max=50)
    paginator = RequestPaginator("p", window(), limit=4)
    paginator, first = paginator.advance(api.page(dict(paginator.request().params)))
    api.expire_oldest()
    rest, _ = drain(paginator, api)
    counts = Counter(r["id"] for r in first + rest)
    assert all(counts[rid] == 1 for _, _, rid in api.rows)
    assert max(counts.values()) == 1


def test_a_page_of_only_known_ties_ends_the_window_without_an_empty_call(request_api):
    """Once the server has shown full pages, a short page with nothing new ends paging."""
    api = request_api([T0 + n * MS for n in range(120)], server_max=50)
    sizes = []
    page = api.page

    def recording(params):
        body = page(params)
        sizes.append(len(body))
        return body

    api.page = recording
    delivered, state = drain(RequestPaginator("p", window(), limit=50), api)
    assert len(delivered) == 120
    assert state.cursor.done
    assert 0 not in sizes


def test_a_short_page_with_news_does_not_end_the_window(request_api):
    """A page shorter than asked that still brought new requests is followed by another."""
    api = request_api([T0 + n * MS for n in range(7)], server_max=50)
    paginator = RequestPaginator("p", window(), limit=50)
    state, fresh = paginator.advance(api.page(dict(paginator.request().params)))
    assert len(fresh) == 7
    assert not state.cursor.done


@settings(max_examples=150, deadline=None)
@given(
    created=st.lists(st.one_of(moments, st.just(T0 + 100 * MS)), min_size=1, max_size=80),
    broken=st.sets(st.integers(0, 79), max_size=15),
    how=st.sampled_from(["no-time", "bad-time", "no-id"]),
    limit=st.integers(4, 12),
    server_max=st.integers(4, 15),
)
def test_broken_requests_never_cost_a_valid_one(
    request_api, created, broken, how, limit, server_max
):
    """Requests served broken (no id, no or bad time): valid ones come exactly once, and each
    broken one is delivered at least once."""
    api = request_api(created, server_max=server_max)
    bad = {rid for n, (_, _, rid) in enumerate(api.rows) if n in broken}
    serve = api.page

    def break_one(record):
        if record["id"] not in bad:
            return record
        broken_record = {**record, "marker": record["id"]}
        if how == "no-id":
            del broken_record["id"]
        else:
            broken_record["time_created"] = "31/02/2026 25:61" if how == "bad-time" else None
        return broken_record

    api.page = lambda params: [break_one(record) for record in serve(params)]
    delivered, _ = drain(RequestPaginator("p", window(), limit=limit), api)
    valid = Counter(r["id"] for r in delivered if "marker" not in r)
    assert valid == Counter(rid for _, _, rid in api.rows if rid not in bad)
    assert {r["marker"] for r in delivered if "marker" in r} == bad
