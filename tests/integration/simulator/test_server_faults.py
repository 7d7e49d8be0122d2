"""Over a real socket: the server answers, drops connections, and cuts bodies."""

from __future__ import annotations

import json

import httpx
import pytest

from simulator import Faults, World

from .conftest import Serve


def headers(world: World) -> dict[str, str]:
    return {"Authorization": f"Token {world.token}"}


def test_server_answers_on_a_loopback_port(serve_world: Serve, world: World) -> None:
    """serve_in_thread binds 127.0.0.1 on a free port and serves /v2.1."""
    with serve_world() as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.base_url.endswith("/v2.1")
        response = httpx.get(f"{server.base_url}/projects", headers=headers(world))
    assert response.status_code == 200
    assert [p["name"] for p in response.json()] == world.project_names


def test_dropped_connections_close_without_a_response(serve_world: Serve, world: World) -> None:
    """With p_drop the socket closes before any byte of a response; the server survives."""
    with (
        serve_world(faults=Faults(p_drop=0.5, seed=2)) as server,
        httpx.Client(base_url=server.base_url, headers=headers(world)) as client,
    ):
        outcomes = []
        for _ in range(12):
            try:
                outcomes.append(client.get("/projects").status_code)
            except httpx.RemoteProtocolError:
                outcomes.append(-1)
    assert -1 in outcomes
    assert 200 in outcomes
    assert set(outcomes) <= {-1, 200}


def test_truncated_bodies_are_cut_mid_json(serve_world: Serve, world: World) -> None:
    """With p_truncate=1 a 200 arrives complete by content-length but is not valid JSON."""
    project = world.project_names[0]
    with serve_world(faults=Faults(p_truncate=1.0)) as server:
        response = httpx.post(
            f"{server.base_url}/projects/{project}/logs",
            json={"limit": 100, "date_range": -86_400},
            headers=headers(world),
        )
    assert response.status_code == 200
    assert len(response.content) == int(response.headers["content-length"])
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_stats_count_calls_over_the_socket(serve_world: Serve, world: World) -> None:
    """app.state.stats counts calls per operation and per rate-limit group."""
    project = world.project_names[0]
    with serve_world() as server:
        httpx.get(
            f"{server.base_url}/projects/{project}/requests",
            params={"object_type": "pipeline"},
            headers=headers(world),
        )
        httpx.get(f"{server.base_url}/projects", headers=headers(world))
        stats = server.app.state.stats  # type: ignore[attr-defined]
    assert stats.calls["project_requests_list"] == 1
    assert stats.groups == {"requests": 1, "general": 1}
