"""Live mode: as the clock moves, requests arrive, progress and expire, and logs appear."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import httpx

from simulator import ManualClock, World, generate_world
from simulator.activity import plan_request

from .conftest import NOW, SPEC, ClientFactory


async def newest_requests(client: httpx.AsyncClient, project: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"/projects/{project}/requests", params={"object_type": "deployment", "limit": 100_000}
    )
    rows: list[dict[str, Any]] = response.json()
    return rows


async def test_unfinished_requests_progress_as_time_passes(
    make_client: ClientFactory, clock: ManualClock, project: str
) -> None:
    """A request pending at now is processing after 6 minutes and finished after 12."""
    async with make_client(live=True) as client:
        before = {r["id"]: r for r in await newest_requests(client, project)}
        pending = next(r for r in before.values() if r["status"] == "pending")
        clock.advance(timedelta(minutes=6))
        middle = {r["id"]: r for r in await newest_requests(client, project)}
        clock.advance(timedelta(minutes=6))
        after = {r["id"]: r for r in await newest_requests(client, project)}
    assert pending["success"] is None
    assert middle[pending["id"]]["status"] == "processing"
    assert middle[pending["id"]]["time_started"] is not None
    assert after[pending["id"]]["status"] == "completed"
    assert after[pending["id"]]["success"] is True


async def test_new_requests_and_logs_arrive(
    make_client: ClientFactory, clock: ManualClock, world: World, project: str
) -> None:
    """Advancing an hour brings new requests, and new logs after the last seen log id."""
    async with make_client(live=True) as client:
        known = {r["id"] for r in await newest_requests(client, project)}
        last_log = world.truth_logs(project)[-1]
        clock.advance(timedelta(hours=1))
        fresh = [r for r in await newest_requests(client, project) if r["id"] not in known]
        page = (
            await client.post(
                f"/projects/{project}/logs",
                json={"id": last_log["id"], "date_range": 7200, "limit": 500},
            )
        ).json()
    assert fresh
    assert page[0]["id"] == last_log["id"]
    assert len(page) > 1
    assert {log["id"] for log in page[1:]} <= {log["id"] for log in world.truth_logs(project)}


async def test_without_live_mode_the_world_stands_still(
    make_client: ClientFactory, clock: ManualClock, world: World, project: str
) -> None:
    """With live=False advancing the clock changes no record."""
    async with make_client(live=False) as client:
        before = await newest_requests(client, project)
        clock.advance(timedelta(days=2))
        after = await newest_requests(client, project)
    assert before == after
    assert world.truth_logs(project)[-1]["date"] < (NOW + timedelta(days=2)).isoformat()


async def test_retention_moves_with_the_clock(
    make_client: ClientFactory, clock: ManualClock, project: str
) -> None:
    """A day later, the requests created in the oldest retained day have expired."""
    async with make_client(live=True) as client:
        before = await newest_requests(client, project)
        clock.advance(timedelta(days=1))
        after = await newest_requests(client, project)
    oldest_after = min(r["time_created"] for r in after)
    assert oldest_after > min(r["time_created"] for r in before)
    assert oldest_after >= (NOW + timedelta(days=1) - timedelta(days=7)).strftime("%Y-%m-%dT%H")


def test_arrivals_do_not_depend_on_how_the_clock_is_stepped() -> None:
    """Advancing 3 hours in one step or in 90 steps yields the same world."""
    one, many = generate_world(SPEC, NOW), generate_world(SPEC, NOW)
    start_ns = one.as_of_ns
    one.advance(start_ns + 3 * 3600 * 10**9)
    for step in range(1, 91):
        many.advance(start_ns + step * 120 * 10**9)
    name = one.project_names[0]
    assert one.truth_requests(name) == many.truth_requests(name)
    assert one.truth_logs(name) == many.truth_logs(name)


async def test_requests_planned_ahead_appear_when_their_time_comes(
    make_client: ClientFactory, clock: ManualClock, world: World, project: str
) -> None:
    """A pipeline step created in 5 minutes is invisible now and listed 5 minutes later."""
    now_ms = world.as_of_ms
    step = plan_request(random.Random(1), "deployment", "churn-model", "v1", now_ms + 300_000, None)
    world.projects[project].requests["deployment"].append(step)
    async with make_client(live=True) as client:
        before = {r["id"] for r in await newest_requests(client, project)}
        in_truth_before = step.id in {r["id"] for r in world.truth_requests(project)}
        clock.advance(timedelta(minutes=5))
        after = {r["id"] for r in await newest_requests(client, project)}
    assert step.id not in before
    assert not in_truth_before
    assert step.id in after


def test_advance_to_moves_the_world_without_an_api_call(clock: ManualClock, world: World) -> None:
    """world.advance_to(clock.now()) brings truth up to the clock, e.g. before assertions."""
    project = world.project_names[0]
    before = len(world.truth_requests(project))
    clock.advance(timedelta(hours=2))
    world.advance_to(clock.now())
    assert len(world.truth_requests(project)) > before
    assert world.as_of_ns // 10**9 == int(clock.now().timestamp())
