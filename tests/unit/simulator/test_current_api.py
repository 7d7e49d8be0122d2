"""The simulator's current API mode: GET /logs (LogQL, nanoseconds, both orders, limit 5,000),
POST /logs gone, and the requests list of client 4.6+."""

from __future__ import annotations

import pytest

from simulator import World

from .conftest import ClientFactory


@pytest.fixture
def world(shared_world: World) -> World:
    return shared_world


async def test_post_logs_is_gone_and_get_logs_answers(
    make_client: ClientFactory, project: str
) -> None:
    """In current mode POST /logs is a 404; in legacy mode GET /logs is a 405."""
    async with make_client(api="current") as current:
        assert (await current.post(f"/projects/{project}/logs", json={})).status_code == 404
        assert (await current.get(f"/projects/{project}/logs")).status_code == 200
    async with make_client() as legacy:
        assert (await legacy.get(f"/projects/{project}/logs")).status_code == 405


async def test_get_logs_pages_a_window_in_both_orders(
    make_client: ClientFactory, project: str, world: World
) -> None:
    """start inclusive, end exclusive; oldest first when start < end, newest first when
    start > end; items carry a nanosecond timestamp, the text and metadata, and no id."""
    truth = world.truth_logs(project)
    start, end = truth[10]["date"], truth[60]["date"]
    async with make_client(api="current") as client:
        forward = (
            await client.get(f"/projects/{project}/logs", params={"start": start, "end": end})
        ).json()
        backward = (
            await client.get(f"/projects/{project}/logs", params={"start": end, "end": start})
        ).json()
    assert forward
    stamps = [item["timestamp"] for item in forward]
    assert stamps == sorted(stamps)
    assert set(forward[0]) == {"timestamp", "timestamp_str", "log", "metadata"}
    assert forward[0]["timestamp_str"].endswith("Z")
    assert len(forward[0]["timestamp_str"].split(".")[1]) == 10  # nine digits and Z
    assert [i["timestamp"] for i in backward] == sorted(
        (i["timestamp"] for i in backward), reverse=True
    )
    assert {"system", "level"} <= set(forward[0]["metadata"])


async def test_get_logs_limit_and_parameters(make_client: ClientFactory, project: str) -> None:
    """limit up to 5,000 (default 1,000); more is a 400, and so is start without end."""
    async with make_client(api="current") as client:
        path = f"/projects/{project}/logs"
        window = {"start": "2026-11-20T00:00:00Z", "end": "2026-11-28T00:00:00Z"}
        assert len((await client.get(path, params=window)).json()) == 1000
        assert len((await client.get(path, params={**window, "limit": 5000})).json()) == 5000
        assert (await client.get(path, params={**window, "limit": 5001})).status_code == 400
        assert (await client.get(path, params={"start": window["start"]})).status_code == 400


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ('{level="error"}', lambda item: item["metadata"]["level"] == "error"),
        ("| system = `true`", lambda item: item["metadata"]["system"] is True),
        ('| level != "error"', lambda item: item["metadata"]["level"] == "info"),
        ('|= "batch"', lambda item: "batch" in item["log"]),
        ('!= "batch"', lambda item: "batch" not in item["log"]),
        ('|~ "score=[0-9]"', lambda item: "score=" in item["log"]),
    ],
)
async def test_logql_label_and_line_filters(
    make_client: ClientFactory, project: str, query: str, check
) -> None:
    """Label equality (selector or pipeline) and the four line filters select lines."""
    window = {"start": "2026-11-19T00:00:00Z", "end": "2026-11-28T00:00:00Z", "limit": 5000}
    async with make_client(api="current") as client:
        items = (
            await client.get(f"/projects/{project}/logs", params={**window, "query": query})
        ).json()
    assert items
    assert all(check(item) for item in items)


async def test_unsupported_logql_is_a_400(make_client: ClientFactory, project: str) -> None:
    """A query outside the supported subset is refused with a JSON error."""
    async with make_client(api="current") as client:
        response = await client.get(
            f"/projects/{project}/logs", params={"query": "sum(rate({a=`b`}[5m]))"}
        )
    assert response.status_code == 400
    assert "query" in response.json()["error"].lower()


async def test_requests_list_of_today(
    make_client: ClientFactory, project: str, world: World
) -> None:
    """No sort/success (400), only finished requests, one status (default completed),
    newest first."""
    path = f"/projects/{project}/requests"
    async with make_client(api="current") as client:
        default = (await client.get(path, params={"object_type": "deployment"})).json()
        failed = (
            await client.get(path, params={"object_type": "deployment", "status": "failed"})
        ).json()
        sorted_call = await client.get(path, params={"object_type": "deployment", "sort": "asc"})
        pending = await client.get(path, params={"object_type": "deployment", "status": "pending"})
    assert default
    assert {r["status"] for r in default} == {"completed"}
    assert {r["status"] for r in failed} == {"failed"}
    created = [r["time_created"] for r in default]
    assert created == sorted(created, reverse=True)
    assert sorted_call.status_code == 400
    assert pending.status_code == 400
