"""Every fault mode, through the ASGI app: what a client sees and what the stats count."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from simulator import Faults, ManualClock, World
from simulator.timefmt import NS_PER_S, parse_iso_ns

from .conftest import ClientFactory


async def test_p_429_serves_rate_limit_responses_with_reset_headers(
    make_client: ClientFactory,
) -> None:
    """With p_429=1 every call is a 429 carrying x-ratelimit-reset and Retry-After."""
    async with make_client(faults=Faults(p_429=1.0)) as client:
        response = await client.get("/projects")
        stats = client.app.state.stats  # type: ignore[attr-defined]
    assert response.status_code == 429
    assert int(response.headers["x-ratelimit-reset"]) >= 1
    assert response.headers["retry-after"] == response.headers["x-ratelimit-reset"]
    assert response.json()["error"]
    assert stats.served_429 == 1
    assert stats.faults["429"] == 1


async def test_p_5xx_serves_server_errors(make_client: ClientFactory) -> None:
    """With p_5xx=1 calls fail with 500, 502 (an HTML gateway page) or 503."""
    async with make_client(faults=Faults(p_5xx=1.0, seed=3)) as client:
        responses = [await client.get("/projects") for _ in range(30)]
    statuses = {r.status_code for r in responses}
    assert statuses == {500, 502, 503}
    html = next(r for r in responses if r.status_code == 502)
    assert html.headers["content-type"].startswith("text/html")


async def test_latency_is_awaited_through_the_injected_sleep(make_client: ClientFactory) -> None:
    """latency_s is awaited once per call, via the injected sleep (no wall-clock wait)."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async with make_client(faults=Faults(latency_s=0.25), sleep=record) as client:
        await client.get("/projects")
        await client.get("/projects")
    assert waits == [0.25, 0.25]


async def test_p_drop_without_a_socket_raises_what_httpx_raises(
    make_client: ClientFactory,
) -> None:
    """Through ASGITransport a dropped connection surfaces as httpx.RemoteProtocolError."""
    async with make_client(faults=Faults(p_drop=1.0)) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/projects")


async def test_p_truncate_cuts_the_json_body(make_client: ClientFactory, project: str) -> None:
    """With p_truncate=1 a 200 body is cut mid-JSON and its content-length matches the cut."""
    async with make_client(faults=Faults(p_truncate=1.0)) as client:
        response = await client.post(f"/projects/{project}/logs", json={"limit": 20})
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


async def test_rate_limit_is_per_group_and_resets_with_the_clock(
    make_client: ClientFactory, clock: ManualClock, project: str
) -> None:
    """The 4th call in a minute of one group is a 429; the other group and the next minute
    are unaffected; remaining counts down."""
    requests_path = f"/projects/{project}/requests?object_type=deployment"
    async with make_client(faults=Faults(rate_limit_per_min=3)) as client:
        general = [await client.get("/projects") for _ in range(4)]
        other_group = await client.get(requests_path)
        clock.advance(timedelta(seconds=60))
        next_minute = await client.get("/projects")
    assert [r.status_code for r in general] == [200, 200, 200, 429]
    assert [r.headers["x-ratelimit-remaining"] for r in general[:3]] == ["2", "1", "0"]
    assert general[0].headers["x-ratelimit-limit"] == "3"
    assert 1 <= int(general[3].headers["x-ratelimit-reset"]) <= 60
    assert other_group.status_code == 200
    assert next_minute.status_code == 200


async def test_clamp_limit_caps_requests_and_audit_but_not_logs(
    make_client: ClientFactory, project: str
) -> None:
    """clamp_limit silently returns fewer rows than asked on requests and audit lists."""
    async with make_client(faults=Faults(clamp_limit=7)) as client:
        requests = await client.get(
            f"/projects/{project}/requests", params={"object_type": "deployment", "limit": 40}
        )
        audit = await client.get(f"/projects/{project}/audit", params={"limit": 40})
        logs = await client.post(
            f"/projects/{project}/logs", json={"limit": 40, "date_range": -86_400}
        )
    assert len(requests.json()) == 7
    assert len(audit.json()) == 7
    assert len(logs.json()) == 40


async def _pages(client: httpx.AsyncClient, project: str) -> list[list[dict[str, Any]]]:
    return [
        (
            await client.post(
                f"/projects/{project}/logs", json={"limit": 500, "date_range": -86_400}
            )
        ).json(),
        (
            await client.get(
                f"/projects/{project}/requests", params={"object_type": "deployment", "limit": 500}
            )
        ).json(),
        (await client.get(f"/projects/{project}/audit", params={"limit": 500})).json(),
    ]


REQUIRED = {0: ("id", "date"), 1: ("id", "time_created"), 2: ("id", "date")}


async def test_p_invalid_breaks_the_same_records_in_every_way(
    make_client: ClientFactory, project: str
) -> None:
    """Some records lack dates or ids, carry bad dates, wrong types or extra fields; a
    re-read serves the very same broken records."""
    async with make_client(faults=Faults(p_invalid=0.2, seed=5)) as client:
        first = await _pages(client, project)
        second = await _pages(client, project)
    assert first == second
    kinds: set[str] = set()
    for index, page in enumerate(first):
        for record in page:
            id_field, date_field = REQUIRED[index]
            if id_field not in record:
                kinds.add("missing id")
            elif date_field not in record:
                kinds.add("missing date")
            elif record[date_field] == "31/02/2026 25:61":
                kinds.add("bad date")
            elif "x_debug_trace" in record:
                kinds.add("extra field")
            elif (
                record.get("system") == "sometimes"
                or record.get("success") == "yes"
                or (record.get("action") == 42)
            ):
                kinds.add("wrong type")
    assert kinds == {"missing id", "missing date", "bad date", "extra field", "wrong type"}


async def test_mutate_during_paging_shifts_offsets(
    make_client: ClientFactory, world: World, project: str
) -> None:
    """Between two identical calls new requests and audit events appear, old requests
    expire and late logs land, so offset pages overlap or skip and truth grows."""
    before_truth = len(world.truth_requests(project))
    before_logs = len(world.truth_logs(project))
    async with make_client(faults=Faults(mutate_during_paging=True, seed=1)) as client:
        params = {"object_type": "deployment", "sort": "asc", "limit": 5}
        first = (await client.get(f"/projects/{project}/requests", params=params)).json()
        second = (await client.get(f"/projects/{project}/requests", params=params)).json()
        newest = (await client.get(f"/projects/{project}/audit", params={"limit": 1})).json()
    assert first[1:] == second[:4]  # the oldest expired: everything moved up by one
    assert len(world.truth_requests(project)) > before_truth
    assert len(world.truth_logs(project)) > before_logs
    assert newest[0]["action"] == "info"
    late = [
        log
        for log in world.truth_logs(project)
        if int(log["id"][:8], 16) > parse_iso_ns(log["date"]) // NS_PER_S
    ]
    assert late  # created now, dated in the past: a cursor at the newest id has passed them


def test_faults_validate_their_values() -> None:
    """Probabilities outside [0, 1], negative latency and zero limits are refused."""
    for bad in (
        {"p_429": 1.5},
        {"p_invalid": -0.1},
        {"latency_s": -1.0},
        {"rate_limit_per_min": 0},
        {"clamp_limit": 0},
    ):
        with pytest.raises(ValueError):
            Faults(**bad)  # type: ignore[arg-type]


async def test_fault_dice_are_reproducible(make_client: ClientFactory) -> None:
    """The same fault seed gives the same sequence of outcomes."""
    runs = []
    for _ in range(2):
        async with make_client(faults=Faults(p_429=0.3, p_5xx=0.3, seed=11)) as client:
            runs.append([(await client.get("/projects")).status_code for _ in range(25)])
    assert runs[0] == runs[1]
    assert len(set(runs[0])) > 2
