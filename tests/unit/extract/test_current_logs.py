"""The current log endpoint: content ids, nanosecond times and the pure paginator."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extract.errors import BadRequest, PagingStalled, UnexpectedResponse
from extract.log_lines import (
    as_record,
    boundary_digest,
    content_id,
    datetime_to_ns,
    format_ns,
    parse_ns,
    source_of,
)
from extract.logs import LogCursor
from extract.logs_current import CurrentLogPaginator

T0 = datetime(2026, 3, 1, tzinfo=UTC)
NS0 = datetime_to_ns(T0)


class CurrentLogApi:
    """GET /logs over items sorted by timestamp (ties in a fixed order): `start` inclusive,
    `end` exclusive, `limit` clamped to `server_max`."""

    def __init__(self, items: list[dict[str, Any]], server_max: int = 5000) -> None:
        self.items = sorted(items, key=lambda item: item["timestamp"])
        self.server_max = server_max
        self.calls = 0

    def page(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls += 1
        start, end = parse_ns(params["start"]), parse_ns(params["end"])
        assert start < end
        limit = min(int(params["limit"]), self.server_max)
        inside = [item for item in self.items if start <= item["timestamp"] < end]
        return inside[:limit]


def line(offset_ns: int, text: str = "x", **metadata: Any) -> dict[str, Any]:
    ts = NS0 + offset_ns
    return {
        "timestamp": ts,
        "timestamp_str": format_ns(ts),
        "log": text,
        "metadata": {"deployment_name": "d1", "level": "info", "system": False, **metadata},
    }


def drive(paginator: CurrentLogPaginator, api: CurrentLogApi) -> tuple[Any, list[dict[str, Any]]]:
    """Page until done; return the last state and every record delivered."""
    delivered: list[dict[str, Any]] = []
    request = paginator.request()
    while request is not None:
        paginator, records = paginator.advance(api.page(dict(request.params)))
        delivered += records
        request = paginator.request()
        assert api.calls < 1000
    return paginator, delivered


def window(hours: int = 1) -> LogCursor:
    return LogCursor(T0, T0 + timedelta(hours=hours))


def test_nanosecond_times_survive_the_wire_form():
    """Nine fractional digits round-trip; six digits, `Z` and `+00:00` parse too."""
    ns = NS0 + 123_456_789
    assert format_ns(ns) == "2026-03-01T00:00:00.123456789Z"
    assert parse_ns(format_ns(ns)) == ns
    assert parse_ns("2026-03-01T00:00:00.123456+00:00") == NS0 + 123_456_000
    assert parse_ns("2026-03-01T00:00:00Z") == NS0


def test_content_ids_are_stable_and_tell_repeats_apart():
    """The same line gets the same id on every run; exact repeats at one nanosecond differ by
    their occurrence; project, time, text and metadata all take part."""
    item = line(5, "hello")
    first = as_record("p", item, item["timestamp"], 0)
    assert first["id"] == as_record("p", dict(item), item["timestamp"], 0)["id"]
    assert len(first["id"]) == 32
    assert first["id"] != as_record("p", item, item["timestamp"], 1)["id"]
    assert first["id"] != as_record("q", item, item["timestamp"], 0)["id"]
    assert first["id"] != content_id("p", item["timestamp"] + 1, "hello", item["metadata"], 0)
    other = line(5, "hello", deployment_name="d2")
    assert first["id"] != as_record("p", other, other["timestamp"], 0)["id"]


def test_content_ids_tell_metadata_values_of_another_type_apart():
    """`1`, `True` and `1.0` are one key to a cache but three different metadata: three ids."""
    ids = [content_id("p", NS0, "x", {"process_id": value}, 0) for value in (1, True, 1.0)]
    assert len(set(ids)) == 3


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=4,
)


@settings(max_examples=300)
@given(
    ts=st.integers(0, 2**62),
    log=json_values,
    source=st.dictionaries(st.sampled_from(["level", "system", "deployment_name"]), json_values),
)
def test_the_boundary_digest_is_the_digest_of_its_json(ts, log, source):
    """The digest of `json.dumps([microsecond, text, source], sort_keys=True)`, byte for byte
    (cursors stored by earlier versions hold such digests), whatever the values."""
    text = json.dumps([ts // 1000, log, source], sort_keys=True, default=str)
    expected = hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
    assert boundary_digest(ts, log, source) == expected
    assert (
        boundary_digest(ts, log, {"level": 1} | source)
        != boundary_digest(ts, log, {"level": True} | source)
        or "level" in source
    )


def test_a_line_becomes_a_record_of_the_lake_shape():
    """Metadata fields land at the top level; the date keeps all nine digits."""
    item = line(7, "boom", level="error", instance_id="i-1", process_id=3, webhook_name="w")
    record = as_record("p", item, item["timestamp"], 0)
    assert record["date"] == "2026-03-01T00:00:00.000000007Z"
    assert (record["log"], record["level"], record["instance_id"]) == ("boom", "error", "i-1")
    assert (record["process_id"], record["webhook_name"]) == (3, "w")
    assert "timestamp" not in record
    assert "metadata" not in record


def test_ties_at_one_nanosecond_across_page_boundaries_are_delivered_once():
    """Seven lines at one nanosecond (three exact repeats) over pages of three: each exactly
    once, the repeats with distinct ids."""
    items = [line(0, "a"), line(10, "b"), line(10, "b"), line(10, "c"), line(10, "b")]
    items += [line(10, "d"), line(10, "e"), line(10, "f"), line(20, "g")]
    api = CurrentLogApi(items)
    state, delivered = drive(CurrentLogPaginator("p", window(), limit=3), api)
    assert [r["log"] for r in delivered] == [i["log"] for i in api.items]
    assert len({r["id"] for r in delivered}) == len(items)
    assert state.cursor.done


def test_ids_do_not_depend_on_the_page_size():
    """The same window paged 2 or 5000 at a time gives the same ids."""
    items = [line(n // 3, "same") for n in range(12)]
    _, small = drive(CurrentLogPaginator("p", window(), limit=2), CurrentLogApi(items))
    _, large = drive(CurrentLogPaginator("p", window()), CurrentLogApi(items))
    assert [r["id"] for r in small] == [r["id"] for r in large]
    assert len({r["id"] for r in large}) == 12


def test_an_empty_window_is_one_call():
    """A window without lines: one call, nothing delivered, done."""
    api = CurrentLogApi([line(-5)])
    state, delivered = drive(CurrentLogPaginator("p", window()), api)
    assert (delivered, api.calls, state.cursor.done) == ([], 1, True)


def test_lines_outside_the_window_are_dropped():
    """Start inclusive, end exclusive, whatever the server sends at the edges."""
    items = [line(-1), line(0, "first"), line(3_600 * 10**9 - 1, "last"), line(3_600 * 10**9)]
    paginator = CurrentLogPaginator("p", window())
    _, records = paginator.advance(sorted(items, key=lambda i: i["timestamp"]))
    assert [r["log"] for r in records] == ["first", "last"]


def test_the_reverse_order_is_refused():
    """A window must run forward, and a server sending newest first is an error."""
    with pytest.raises(ValueError, match="forward"):
        CurrentLogPaginator("p", LogCursor(T0, T0))
    with pytest.raises(UnexpectedResponse, match="newest first"):
        CurrentLogPaginator("p", window()).advance([line(5), line(1)])


def test_the_request_carries_nanoseconds_and_the_limit():
    """start/end in ISO 8601 with nine digits, limit 5,000 by default."""
    request = CurrentLogPaginator("p", window()).request()
    assert request is not None
    assert (request.method, request.path) == ("GET", "/projects/p/logs")
    assert request.params == {
        "start": "2026-03-01T00:00:00.000000000Z",
        "end": "2026-03-01T01:00:00.000000000Z",
        "limit": 5000,
    }


def test_a_clamping_server_is_noticed_and_asked_for_what_it_sends():
    """Asked for 2,000, the server sends 500: a short page followed by more lines means a
    clamp; every line still arrives once and the limit drops to 500."""
    api = CurrentLogApi([line(n) for n in range(1_600)], server_max=500)
    state, delivered = drive(CurrentLogPaginator("p", window(), limit=2_000), api)
    assert len(delivered) == 1_600
    assert (state.limit, state.clamped_to, state.limit_trusted) == (500, 500, True)


def test_a_short_page_below_500_followed_by_more_is_not_taken_for_a_clamp():
    """Lines added while paging also give a short page followed by more: below the
    documented 500 that is not learned as a cap (nothing is lost either way)."""
    api = CurrentLogApi([line(n) for n in range(11)], server_max=3)
    state, delivered = drive(CurrentLogPaginator("p", window(), limit=10), api)
    assert len(delivered) == 11
    assert state.clamped_to is None


def test_a_400_to_a_large_limit_falls_back_to_500():
    """A server that refuses limit 5,000 is asked for 500."""
    paginator = CurrentLogPaginator("p", window())
    recovered = paginator.recover(BadRequest("limit", status=400, url="u"))
    assert recovered is not None
    assert recovered.limit == 500
    assert recovered.recover(BadRequest("limit", status=400, url="u")) is None


def test_more_ties_than_a_page_raise_the_limit_then_stall():
    """A full page ending at the nanosecond it began at asks for the ties plus a page more
    (the same request would repeat); 5,000 lines at one nanosecond stop rather than loop."""
    items = [line(0, f"t{n}") for n in range(7)] + [line(1, "after")]
    api = CurrentLogApi(items)
    _, delivered = drive(CurrentLogPaginator("p", window(), limit=2), api)
    assert [r["log"] for r in delivered] == [i["log"] for i in api.items]
    stuck = CurrentLogPaginator("p", window(), limit=5000)
    with pytest.raises(PagingStalled, match="one nanosecond"):
        stuck.advance([line(0, "same")] * 5000)


def test_a_window_begun_on_the_legacy_endpoint_continues_without_loss_or_repeat():
    """A legacy cursor (a microsecond date and the lines taken at it) resumes on GET /logs:
    the lines taken are skipped by content, the rest of that microsecond is delivered."""
    items = [line(0, "a"), line(1_000, "b"), line(1_000, "c"), line(1_500, "d"), line(9_000)]
    taken = [items[1]]  # the legacy endpoint delivered a, b; its cursor date is b's microsecond
    digests = tuple(
        boundary_digest(i["timestamp"], i["log"], source_of(i["metadata"])) for i in taken
    )
    cursor = LogCursor(
        T0,
        T0 + timedelta(hours=1),
        last_id="0" * 24,
        last_date=T0 + timedelta(microseconds=1),
        taken=digests,
    )
    _, delivered = drive(CurrentLogPaginator("p", cursor), CurrentLogApi(items))
    assert Counter(r["log"] for r in delivered) == Counter(["c", "d", "x"])


async def test_on_get_logs_windows_are_up_to_a_week_and_calls_near_the_minimum(make_client):
    """`log_api=current`: ten days are two windows, so 12,000 lines take ceil(12000/5000)
    pages plus a short last page per window, not one per day."""
    import httpx

    from extract import iter_logs

    items = [line(n * 72 * 10**9, f"l{n}") for n in range(12_000)]  # every 72 s for 10 days
    api = CurrentLogApi(items)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=api.page(dict(request.url.params)))

    client = make_client(handler, log_api="current")
    pages = [p async for p in iter_logs(client, "p", T0, T0 + timedelta(days=10))]
    assert sum(len(p.records) for p in pages) == 12_000
    assert len({p.window for p in pages}) == 2
    assert api.calls <= 12_000 // 5000 + 2 + 2
