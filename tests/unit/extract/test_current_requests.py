"""Requests with today's semantics: one finished status per call, newest first, no sort."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from extract import RequestCursor, iter_requests
from extract.request_list_current import CurrentRequestPaginator
from extract.timeutil import format_api_datetime, parse_api_datetime

T0 = datetime(2026, 3, 1, tzinfo=UTC)
STATUSES = ("completed", "failed", "cancelled", "processing")


class CurrentRequestApi:
    """GET /requests as client 4.6+ knows it: finished only, one status (default
    completed), inclusive dates, newest first, `limit` clamped; `sort`/`success` are 400."""

    def __init__(self, rows: list[tuple[datetime, str, str]], server_max: int = 50) -> None:
        self.rows = sorted(rows)
        self.server_max = server_max
        self.calls: list[dict[str, Any]] = []

    def page(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls.append(params)
        status = params.get("status", "completed")
        start = parse_api_datetime(params["start_date"])
        end = parse_api_datetime(params["end_date"])
        chosen = [r for r in self.rows if r[2] == status and start <= r[0] <= end][::-1]
        offset, limit = int(params["offset"]), min(int(params["limit"]), self.server_max)
        return [
            {"id": rid, "time_created": format_api_datetime(at), "status": st}
            for at, rid, st in chosen[offset : offset + limit]
        ]

    def handler(self, request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        if "sort" in params or "success" in params:
            return httpx.Response(400, json={"error": "Unknown query parameter: sort"})
        return httpx.Response(200, json=self.page(params))


def spread(count: int) -> list[tuple[datetime, str, str]]:
    """Requests every 7 s, in bursts of ties, cycling through four statuses."""
    return [
        (T0 + timedelta(seconds=(n // 3) * 7), f"r{n:05d}", STATUSES[n % 4]) for n in range(count)
    ]


def drive(paginator: CurrentRequestPaginator, api: CurrentRequestApi) -> list[dict[str, Any]]:
    delivered: list[dict[str, Any]] = []
    request = paginator.request()
    while request is not None:
        paginator, records = paginator.advance(api.page(dict(request.params)))
        delivered += records
        request = paginator.request()
        assert len(api.calls) < 1000
    assert paginator.cursor.done
    return delivered


def window(hours: int = 2) -> RequestCursor:
    return RequestCursor("deployment", T0, T0 + timedelta(hours=hours))


def test_every_finished_request_once_status_by_status():
    """Completed, failed and cancelled are each asked for; each arrives exactly once; the
    in-flight ones are not listed."""
    rows = spread(600)
    api = CurrentRequestApi(rows, server_max=20)
    delivered = drive(CurrentRequestPaginator("p", window(), limit=20), api)
    expected = [r for r in rows if r[2] != "processing" and r[0] < T0 + timedelta(hours=2)]
    assert Counter(r["id"] for r in delivered) == Counter(r[1] for r in expected)
    assert {call["status"] for call in api.calls} == {"completed", "failed", "cancelled"}
    assert all("sort" not in call and "success" not in call for call in api.calls)


def test_a_server_returning_less_than_asked_loses_nothing():
    """limit 50 asked, 7 returned per page: still every request once."""
    rows = spread(300)
    delivered = drive(
        CurrentRequestPaginator("p", window(), limit=50), CurrentRequestApi(rows, server_max=7)
    )
    assert len(delivered) == len({r["id"] for r in delivered})
    assert len(delivered) == sum(1 for r in rows if r[2] != "processing")


def test_many_ties_at_one_instant_are_paged_past():
    """Sixty completed requests created at one instant, pages of ten: all sixty, once."""
    rows = [(T0 + timedelta(minutes=5), f"t{n:03d}", "completed") for n in range(60)]
    delivered = drive(
        CurrentRequestPaginator("p", window(), limit=10), CurrentRequestApi(rows, server_max=10)
    )
    assert sorted(r["id"] for r in delivered) == sorted(r[1] for r in rows)


def test_window_end_is_exclusive():
    """A request created exactly at the window's end belongs to the next window."""
    rows = [(T0, "a", "completed"), (T0 + timedelta(hours=2), "b", "completed")]
    delivered = drive(CurrentRequestPaginator("p", window()), CurrentRequestApi(rows))
    assert [r["id"] for r in delivered] == ["a"]


def test_the_cursor_says_which_status_it_is_paging_and_survives_json():
    """A resumed cursor goes on with the status it was paging."""
    paginator = CurrentRequestPaginator("p", window(), limit=2)
    api = CurrentRequestApi(spread(40))
    for _ in range(30):
        paginator, _ = paginator.advance(api.page(dict(paginator.request().params)))
        if paginator.cursor.status == "failed":
            break
    cursor = RequestCursor.from_json(paginator.cursor.to_json())
    assert cursor == paginator.cursor
    assert CurrentRequestPaginator("p", cursor).request().params["status"] == "failed"


async def test_auto_switches_to_current_semantics_when_sort_is_refused(make_client):
    """auto asks with sort=asc first; a 400 for it switches the run to the current list."""
    rows = spread(90)
    api = CurrentRequestApi(rows)
    client = make_client(api.handler)
    pages = [p async for p in iter_requests(client, "p", "deployment", T0, T0 + timedelta(hours=1))]
    delivered = [r for p in pages for r in p.records]
    assert client.traits.requests_api == "current"
    assert sorted(r["id"] for r in delivered) == sorted(r[1] for r in rows if r[2] != "processing")
    assert pages[-1].cursor.done
