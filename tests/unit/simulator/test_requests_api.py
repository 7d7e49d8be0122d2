"""GET /projects/{p}/requests: filters, inclusive dates, sorting, paging and retention."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from simulator import World
from simulator.timefmt import parse_iso_ns

from .conftest import NOW


@pytest.fixture
def world(shared_world: World) -> World:
    """These tests only read, so they share one world."""
    return shared_world


async def listing(client: httpx.AsyncClient, project: str, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(f"/projects/{project}/requests", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def visible_truth(world: World, project: str, deployment: bool = True) -> list[dict[str, Any]]:
    """Requests of one object type still inside the one-week retention, oldest first."""
    cutoff = parse_iso_ns((NOW - timedelta(days=7)).isoformat())
    return [
        r
        for r in world.truth_requests(project)
        if (r["deployment"] is not None) == deployment and parse_iso_ns(r["time_created"]) >= cutoff
    ]


async def test_object_type_is_required(client: httpx.AsyncClient, project: str) -> None:
    """Without object_type (or with another value) the call is a 400."""
    for params in ({}, {"object_type": "model"}):
        response = await client.get(f"/projects/{project}/requests", params=params)
        assert response.status_code == 400
        assert "object_type" in response.json()["error"]


async def test_default_is_fifty_newest_first(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """Defaults: sort=desc on time_created, limit 50, offset 0."""
    rows = await listing(client, project, object_type="deployment")
    assert rows == list(reversed(visible_truth(world, project)))[:50]


async def test_ascending_offset_paging_covers_everything_once(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """sort=asc with limit/offset pages through all visible requests in creation order."""
    got: list[dict[str, Any]] = []
    while True:
        page = await listing(
            client, project, object_type="pipeline", sort="asc", limit=100, offset=len(got)
        )
        got += page
        if len(page) < 100:
            break
    assert got == visible_truth(world, project, deployment=False)


async def test_start_and_end_dates_are_inclusive(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """Requests created exactly at start_date or end_date are included."""
    truth = visible_truth(world, project)
    first, last = truth[10], truth[40]
    rows = await listing(
        client,
        project,
        object_type="deployment",
        sort="asc",
        limit=1000,
        start_date=first["time_created"],
        end_date=last["time_created"],
    )
    expected = [
        r for r in truth if first["time_created"] <= r["time_created"] <= last["time_created"]
    ]
    assert rows == expected
    assert rows[0]["id"] == first["id"]
    assert rows[-1]["time_created"] == last["time_created"]


async def test_retention_hides_old_requests_but_truth_keeps_them(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """Requests older than a week are gone from the API and still in truth_requests."""
    rows = await listing(client, project, object_type="deployment", sort="asc", limit=100_000)
    cutoff = NOW - timedelta(days=7)
    assert min(parse_iso_ns(r["time_created"]) for r in rows) >= parse_iso_ns(cutoff.isoformat())
    truth = world.truth_requests(project)
    assert parse_iso_ns(truth[0]["time_created"]) < parse_iso_ns(cutoff.isoformat())
    served = world.truth_requests(project, still_served=True)
    assert [r for r in served if r["deployment"] is not None] == rows


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"status": "failed"}, lambda r: r["status"] == "failed"),
        ({"status": "processing"}, lambda r: r["status"] == "processing"),
        ({"success": "true"}, lambda r: r["success"] is True),
        ({"success": "false"}, lambda r: r["success"] is False),
    ],
)
async def test_status_and_success_filters(
    client: httpx.AsyncClient, world: World, project: str, params: dict[str, str], check: Any
) -> None:
    """status and success select exactly the matching requests."""
    rows = await listing(client, project, object_type="deployment", limit=100_000, **params)
    expected = [r for r in reversed(visible_truth(world, project)) if check(r)]
    assert rows == expected
    assert rows


async def test_pipeline_schedule_and_search_filters(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """pipeline, request_schedule and search_id narrow the list as documented."""
    every = await listing(client, project, object_type="deployment", limit=100_000)
    in_pipe = await listing(
        client, project, object_type="deployment", pipeline="true", limit=100_000
    )
    direct = await listing(
        client, project, object_type="deployment", pipeline="false", limit=100_000
    )
    assert in_pipe
    assert direct
    assert sorted(r["id"] for r in in_pipe + direct) == sorted(r["id"] for r in every)
    scheduled = await listing(
        client, project, object_type="deployment", request_schedule="nightly-batch", limit=100_000
    )
    assert 0 < len(scheduled) < len(direct)
    needle = every[3]["id"][:8]
    found = await listing(client, project, object_type="deployment", search_id=needle)
    assert [r["id"] for r in found] == [r["id"] for r in every if needle in r["id"]]


@pytest.mark.parametrize(
    "params",
    [
        {"status": "done"},
        {"success": "maybe"},
        {"sort": "up"},
        {"limit": "ten"},
        {"limit": "0"},
        {"offset": "-1"},
        {"start_date": "not a date"},
        {"start_date": "2026-11-20T00:00:00Z", "end_date": "2026-11-19T00:00:00Z"},
        {"pipeline": "2"},
    ],
)
async def test_bad_request_parameters_are_400(
    client: httpx.AsyncClient, project: str, params: dict[str, str]
) -> None:
    """Malformed or out-of-range parameters get a 400 naming the parameter."""
    response = await client.get(
        f"/projects/{project}/requests", params={"object_type": "deployment", **params}
    )
    assert response.status_code == 400
    assert any(name in response.json()["error"] for name in params)
