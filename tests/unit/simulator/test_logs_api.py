"""POST /projects/{p}/logs over HTTP: defaults, cursor rules, ranges, filters and bounds."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import httpx
import pytest

from simulator import World
from simulator.timefmt import NS_PER_S, format_log_date, parse_iso_ns

from .conftest import NOW, ClientFactory

NOW_NS = int(NOW.timestamp()) * NS_PER_S


@pytest.fixture
def world(shared_world: World) -> World:
    """These tests only read, so they share one world."""
    return shared_world


async def logs(client: httpx.AsyncClient, project: str, **body: Any) -> list[dict[str, Any]]:
    response = await client.post(f"/projects/{project}/logs", json=body)
    assert response.status_code == 200, response.text
    page: list[dict[str, Any]] = response.json()
    return page


def ns(log: dict[str, Any]) -> int:
    return parse_iso_ns(log["date"])


async def test_default_is_newest_first_over_the_last_six_hours(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """Without date or id: up to 50 logs from now back 6 hours, newest first."""
    page = await logs(client, project)
    truth = [t for t in world.truth_logs(project) if ns(t) >= NOW_NS - 21_600 * NS_PER_S]
    assert page == list(reversed(truth))[:50]


async def test_positive_range_from_date_is_oldest_first(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """A date with a positive range returns logs from that date on, oldest first."""
    start = world.truth_logs(project)[100]
    page = await logs(client, project, date=start["date"], date_range=3600, limit=20)
    truth = [
        t for t in world.truth_logs(project) if ns(start) <= ns(t) <= ns(start) + 3600 * NS_PER_S
    ]
    assert page == truth[:20]
    assert page[0]["date"] == start["date"]


async def test_date_is_inclusive_for_negative_ranges_at_nanosecond_precision(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """A 9-digit date given back as `date` includes that log in a negative window too."""
    nine = next(t for t in world.truth_logs(project) if len(t["date"].split(".")[1]) >= 10)
    page = await logs(client, project, date=nine["date"], date_range=-60, limit=500)
    assert nine["id"] in {p["id"] for p in page}
    assert all(ns(p) <= ns(nine) for p in page)


@pytest.mark.parametrize("date_range", [3600, -3600])
async def test_id_cursor_is_included_and_first(
    client: httpx.AsyncClient, world: World, project: str, date_range: int
) -> None:
    """The log named by `id` starts the page whatever the sign of the range."""
    cursor = world.truth_logs(project)[500]
    page = await logs(client, project, id=cursor["id"], date_range=date_range, limit=10)
    assert page[0] == cursor
    order = [ns(p) for p in page]
    assert order == sorted(order, reverse=date_range < 0)


async def test_paging_through_a_burst_with_id_cursors_sees_every_log_once(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """Hundreds of logs share one date; id cursors still walk them exactly once."""
    truth = world.truth_logs(project)
    burst_date, size = Counter(t["date"][:26] for t in truth).most_common(1)[0]
    first = next(t for t in truth if t["date"].startswith(burst_date))
    seen: list[str] = []
    page = await logs(client, project, id=first["id"], date_range=1, limit=37)
    seen += [p["id"] for p in page]
    while len(page) == 37:
        page = await logs(client, project, id=page[-1]["id"], date_range=1, limit=37)
        assert page[0]["id"] == seen[-1]  # the cursor is served again
        seen += [p["id"] for p in page[1:]]
    burst_ids = [t["id"] for t in truth if t["date"].startswith(burst_date)]
    assert size >= 100
    assert seen[: len(burst_ids)] == burst_ids
    assert len(set(seen)) == len(seen)


async def test_sweeping_windows_returns_exactly_the_truth(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """Day windows paged by id (dropping the repeated cursor) return every log once."""
    truth = world.truth_logs(project)
    got: list[dict[str, Any]] = []
    start = ns(truth[0])
    while start <= NOW_NS:
        window_end = start + 86_400 * NS_PER_S
        page = await logs(client, project, date=_iso(start), date_range=86_400, limit=500)
        got += page
        while len(page) == 500:
            page = await logs(client, project, id=page[-1]["id"], date_range=86_400, limit=500)
            got += [p for p in page[1:] if ns(p) <= window_end]
        start = window_end + 1
    assert got == truth


def _iso(ts_ns: int) -> str:
    return format_log_date(ts_ns, 2)


async def test_a_window_without_logs_is_an_empty_page(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """The quiet period longer than a day gives an empty page, not an error."""
    dates = [ns(t) for t in world.truth_logs(project)]
    gap_start = max(itertools.pairwise(dates), key=lambda ab: ab[1] - ab[0])[0]
    assert await logs(client, project, date=_iso(gap_start + NS_PER_S), date_range=86_400) == []


@pytest.mark.parametrize(
    ("filters", "check"),
    [
        ({"level": "error"}, lambda log: log["level"] == "error"),
        ({"system": False}, lambda log: log["system"] is False),
        ({"system": "true", "level": "info"}, lambda log: log["system"] and log["level"] == "info"),
        (
            {"deployment_name": "churn-model", "deployment_version": "v1"},
            lambda log: (
                log.get("deployment_name") == "churn-model"
                and log.get("deployment_version") == "v1"
            ),
        ),
        (
            {"environment_name": "python3-11"},
            lambda log: log.get("environment_name") == "python3-11",
        ),
    ],
)
async def test_filters_select_matching_logs(
    client: httpx.AsyncClient, world: World, project: str, filters: dict[str, Any], check: Any
) -> None:
    """Each filter returns only, and all of, the matching logs of the window."""
    start = ns(world.truth_logs(project)[0])
    page = await logs(
        client, project, date=_iso(start), date_range=86_400, limit=500, filters=filters
    )
    truth = [
        t
        for t in world.truth_logs(project)
        if start <= ns(t) <= start + 86_400 * NS_PER_S and check(t)
    ]
    assert page == truth[:500]
    assert page


async def test_request_id_filter_returns_that_requests_logs(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """Filtering on deployment_request_id returns the logs of that request only."""
    log = next(t for t in reversed(world.truth_logs(project)) if "deployment_request_id" in t)
    rid = log["deployment_request_id"]
    page = await logs(
        client, project, filters={"deployment_request_id": rid}, date_range=-86_400, limit=500
    )
    assert page
    assert {p["deployment_request_id"] for p in page} == {rid}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"date_range": 86_401}, "date_range"),
        ({"date_range": -86_401}, "date_range"),
        ({"date_range": "60"}, "date_range"),
        ({"limit": 501}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": True}, "limit"),
        ({"date": "last tuesday"}, "date"),
        ({"id": "5dcad12ba76a2c6e4331f18"}, "id"),
        ({"id": "5DCAD12BA76A2C6E4331F180"}, "id"),
        ({"filters": {"deployment_version": "v1"}}, "deployment_name"),
        ({"filters": {"pipeline_version": "v1"}}, "pipeline_name"),
        ({"filters": {"pipeline_name": "p", "pipeline_object_name": "o"}}, "pipeline_version"),
        ({"filters": {"colour": "red"}}, "colour"),
        ({"filters": {"level": "debug"}}, "level"),
        ({"filters": {"system": "maybe"}}, "system"),
        ({"filters": ["level"]}, "filters"),
        ({"filters": []}, "filters"),
        ({"filters": ""}, "filters"),
    ],
)
async def test_bad_log_queries_are_400_with_a_clear_error(
    client: httpx.AsyncClient, project: str, body: dict[str, Any], fragment: str
) -> None:
    """Out-of-range or malformed parameters get a 400 whose error names the parameter."""
    response = await client.post(f"/projects/{project}/logs", json=body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]


async def test_unknown_log_id_is_404(client: httpx.AsyncClient, project: str) -> None:
    """A well-formed id that names no log of the project is a 404."""
    response = await client.post(f"/projects/{project}/logs", json={"id": "0" * 24})
    assert response.status_code == 404


async def test_log_limit_max_is_configurable(
    make_client: ClientFactory, world: World, project: str
) -> None:
    """With log_limit_max=5000 a limit of 5000 is accepted and 5001 is not."""
    async with make_client(log_limit_max=5_000) as client:
        start = _iso(ns(world.truth_logs(project)[0]))
        ok = await client.post(
            f"/projects/{project}/logs", json={"date": start, "date_range": 86_400, "limit": 5_000}
        )
        too_many = await client.post(f"/projects/{project}/logs", json={"limit": 5_001})
    assert ok.status_code == 200
    assert len(ok.json()) > 500
    assert too_many.status_code == 400
