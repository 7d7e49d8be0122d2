"""The streams over a fake server (httpx.MockTransport): pages, cursors, resume, concurrency."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from extract import (
    ApiRequest,
    AuditCursor,
    InvalidProjectName,
    LogCursor,
    NotFound,
    PagingStalled,
    PermissionDenied,
    iter_audit_events,
    iter_logs,
    iter_pages,
    iter_requests,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def spread_logs(count: int, days: int) -> list[tuple[datetime, str]]:
    """`count` logs over `days`, a few of them sharing timestamps."""
    step = days * 86_400 / count
    return [(T0 + timedelta(seconds=int(n * step) // 3 * 3), f"{n:024x}") for n in range(count)]


def log_handler(api):
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/projects/p/logs")
        return httpx.Response(200, json=api.page(json.loads(request.content)))

    return handle


async def collect(stream):
    return [page async for page in stream]


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_logs_arrive_exactly_once_with_window_cursors(make_client, log_api, concurrency):
    """Every log of the range comes once; each window ends with one done page."""
    api = log_api(spread_logs(900, 3), server_max=500)
    client = make_client(log_handler(api))
    pages = await collect(
        iter_logs(client, "p", T0, T0 + 3 * DAY, page_size=100, concurrency=concurrency)
    )
    assert Counter(r["id"] for p in pages for r in p.records) == Counter(i for _, i in api.logs)
    done = [p.window for p in pages if p.window_done]
    assert sorted(done) == [(T0 + n * DAY, T0 + (n + 1) * DAY) for n in range(3)]
    assert all(p.stream == "logs" and p.project == "p" for p in pages)
    assert all(p.cursor.window_start == p.window[0] for p in pages)


async def test_resume_from_a_committed_cursor_leaves_no_gap(make_client, log_api):
    """Stopping after a page and resuming from its cursor delivers the rest of the window."""
    api = log_api(spread_logs(300, 1), server_max=500)
    client = make_client(log_handler(api))
    seen: list[str] = []
    async for page in iter_logs(client, "p", T0, T0 + DAY, page_size=50):
        seen += [r["id"] for r in page.records]
        committed = LogCursor.from_json(page.cursor.to_json())
        if len(seen) >= 120:
            break
    async for page in iter_logs(client, "p", T0, T0 + DAY, resume=committed, page_size=50):
        seen += [r["id"] for r in page.records]
    assert set(seen) == {i for _, i in api.logs}
    assert len(seen) == len(api.logs)


async def test_error_in_one_window_stops_the_stream(make_client, log_api):
    """A failing window raises to the consumer and the other workers are cancelled."""
    api = log_api(spread_logs(400, 4), server_max=500)
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 3:
            return httpx.Response(403, json={"error": "forbidden"})
        return log_handler(api)(request)

    client = make_client(handler)
    with pytest.raises(PermissionDenied):
        await collect(iter_logs(client, "p", T0, T0 + 4 * DAY, page_size=20, concurrency=3))
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert all(task.done() for task in others)


async def test_breaking_out_early_cancels_workers(make_client, log_api):
    """A consumer that stops reading leaves no worker running."""
    api = log_api(spread_logs(400, 4), server_max=500)
    client = make_client(log_handler(api))
    stream = iter_logs(client, "p", T0, T0 + 4 * DAY, page_size=20, concurrency=4)
    async for _ in stream:
        break
    await stream.aclose()
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert all(task.done() for task in others)


async def test_invalid_project_is_refused_before_any_call(make_client):
    """A bad project name raises InvalidProjectName without touching the network."""
    client = make_client(lambda request: pytest.fail("no call expected"))
    with pytest.raises(InvalidProjectName):
        await collect(iter_logs(client, "../etc", T0, T0 + DAY))


async def test_requests_stream_pages_both_object_types(make_client, request_api):
    """Requests of each object type come once, with the object type in each cursor."""
    apis = {
        kind: request_api([T0 + timedelta(seconds=s) for s in range(n)], server_max=7)
        for kind, n in (("deployment", 40), ("pipeline", 15))
    }

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        return httpx.Response(200, json=apis[params["object_type"]].page(params))

    client = make_client(handler)
    for kind, api in apis.items():
        pages = await collect(iter_requests(client, "p", kind, T0, T0 + DAY, page_size=10))
        ids = Counter(r["id"] for p in pages for r in p.records)
        assert ids == Counter(rid for _, _, rid in api.rows)
        assert all(p.cursor.object_type == kind for p in pages)
        assert pages[-1].window_done
    assert client.stats.groups["requests"].calls > 0
    assert client.stats.groups["general"].calls == 0


async def test_audit_stream_commits_the_new_boundary_on_the_last_page(make_client, audit_api):
    """Mid-scan pages carry the old boundary; the last one carries the newest event."""
    api = audit_api([T0 + timedelta(seconds=s) for s in range(25)], server_max=100)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=api.page(dict(request.url.params)))

    client = make_client(handler)
    pages = await collect(iter_audit_events(client, "p", page_size=10))
    assert sum(len(p.records) for p in pages) == 25
    assert all(p.cursor == AuditCursor() for p in pages[:-1])
    assert pages[-1].window_done
    assert pages[-1].cursor.newest_ids == ("evt-24",)
    again = await collect(iter_audit_events(client, "p", known=pages[-1].cursor))
    assert [p.records for p in again] == [[]]


@dataclass(frozen=True)
class StuckPaginator:
    """Always asks for the same page: the loop must refuse to send it twice."""

    @property
    def cursor(self) -> None:
        return None

    def request(self) -> ApiRequest:
        return ApiRequest("GET", "/projects/p/audit", {"offset": 0})

    def advance(self, body):
        return self, body


@dataclass(frozen=True)
class EndlessPaginator:
    """Asks for page after page forever: the loop must stop at its page cap."""

    offset: int = 0

    @property
    def cursor(self) -> int:
        return self.offset

    def request(self) -> ApiRequest:
        return ApiRequest("GET", "/projects/p/audit", {"offset": self.offset})

    def advance(self, body):
        return EndlessPaginator(self.offset + 1), body


@pytest.mark.parametrize("paginator", [StuckPaginator(), EndlessPaginator()])
async def test_paging_loop_guards_against_repeats_and_runaways(make_client, paginator):
    """A repeated request or more pages than the cap raises PagingStalled."""
    client = make_client(lambda request: httpx.Response(200, json=[{"id": 1}]))
    with pytest.raises(PagingStalled):
        async for _ in iter_pages(client, paginator, max_pages=5):
            pass
    assert client.stats.calls <= 5


async def test_expired_cursor_log_404_continues_from_its_date(make_client, log_api):
    """A 404 for the cursor log (expired) makes the window go on from the cursor's date."""
    api = log_api(spread_logs(60, 1), server_max=500)
    expired = {api.logs[19][1]}

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body.get("id") in expired:
            return httpx.Response(404, json={"error": "Log not found"})
        return httpx.Response(200, json=api.page(body))

    client = make_client(handler)
    pages = await collect(iter_logs(client, "p", T0, T0 + DAY, page_size=20))
    assert {r["id"] for p in pages for r in p.records} == {i for _, i in api.logs}


@pytest.mark.parametrize(("log_api", "calls"), [("legacy", 1), ("current", 1), ("auto", 2)])
async def test_unknown_project_404_is_raised(make_client, log_api, calls):
    """A 404 on a window's first page (unknown project) is raised, not retried; auto asks
    the GET once before it believes the 404."""
    client = make_client(
        lambda request: httpx.Response(404, json={"error": "no project"}), log_api=log_api
    )
    with pytest.raises(NotFound):
        await collect(iter_logs(client, "p", T0, T0 + DAY))
    assert client.stats.calls == calls
    assert client.traits.log_api is None


async def test_short_pages_are_trusted_once_the_server_honoured_the_limit(make_client, log_api):
    """After a full page at a limit, later windows end on a short page without a probe."""
    busy = [(T0 + timedelta(seconds=s), f"{s:024x}") for s in range(30)]
    sparse = [(T0 + DAY + timedelta(hours=h), f"{10**6 + h:024x}") for h in range(3)]
    api = log_api(busy + sparse, server_max=500)
    client = make_client(log_handler(api))
    fresh_client = make_client(log_handler(api))
    await collect(iter_logs(client, "p", T0, T0 + DAY, page_size=10))
    before = api.calls
    await collect(iter_logs(client, "p", T0 + DAY, T0 + 2 * DAY, page_size=10))
    assert api.calls - before == 1
    before = api.calls
    await collect(iter_logs(fresh_client, "p", T0 + DAY, T0 + 2 * DAY, page_size=10))
    assert api.calls - before == 2


@pytest.mark.parametrize("page_size", [1, 5001])
async def test_log_page_size_outside_2_to_5000_is_refused(make_client, page_size):
    """A page of one could never get past the repeated cursor log; above 5000 is undocumented."""
    client = make_client(lambda request: pytest.fail("no call expected"))
    with pytest.raises(ValueError, match="page size"):
        await collect(iter_logs(client, "p", T0, T0 + DAY, page_size=page_size))
