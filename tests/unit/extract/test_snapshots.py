"""Snapshots: every table fetched, secrets never kept, usage flattened, 403 tables left out."""

from __future__ import annotations

import httpx
import pytest

from extract import SNAPSHOT_TABLES, NotFound, fetch_snapshot

USAGE = {
    "interval": "day",
    "data_project": [{"start_date": "2026-03-01T00:00:00Z", "end_date": "x", "value": 5}],
    "data_deployments": [
        {
            "deployment_id": "d-1",
            "deployment_name": "dep",
            "data": [{"start_date": "2026-03-01T00:00:00Z", "value": 3}],
        }
    ],
    "data_deleted_deployments": [{"start_date": "2026-03-01T00:00:00Z", "value": 2}],
}
BODIES = {
    "/projects/p": {"name": "p", "id": "u"},
    "/projects/p/users": [{"id": "u1", "email": "a@b.c"}],
    "/projects/p/environment-variables": [
        {"id": "e1", "name": "PLAIN", "value": "v", "secret": False},
        {"id": "e2", "name": "PASSWORD", "value": "leaked-by-server", "secret": True},
    ],
    "/projects/p/instance-types": [{"id": "i1", "name": "512mb"}],
    "/projects/p/quotas": [{"resource": "cpu", "quota": 4}],
    "/projects/p/resources": {"deployments": 3},
    "/projects/p/usage": USAGE,
}


def server(forbidden: frozenset[str] = frozenset(), missing: frozenset[str] = frozenset()):
    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v2.1")
        if path in forbidden:
            return httpx.Response(403, json={"error": "no"})
        if path in missing:
            return httpx.Response(404, json={"error": "not here"})
        return httpx.Response(200, json=BODIES[path])

    return handle


async def test_all_tables_are_fetched_as_rows(make_client):
    """Each snapshot table comes back as a list of raw rows; single objects as one row."""
    tables = await fetch_snapshot(make_client(server()), "p")
    assert set(tables) == set(SNAPSHOT_TABLES)
    assert tables["projects"] == [BODIES["/projects/p"]]
    assert tables["resource_counts"] == [{"deployments": 3}]
    assert tables["quotas"] == BODIES["/projects/p/quotas"]


async def test_secret_values_are_never_kept(make_client):
    """A secret variable's value is null even if the server sent one."""
    tables = await fetch_snapshot(make_client(server()), "p")
    values = {row["name"]: row["value"] for row in tables["environment_variables"]}
    assert values == {"PLAIN": "v", "PASSWORD": None}
    assert "leaked-by-server" not in repr(tables)


async def test_credit_usage_is_handed_on_as_the_response_object(make_client):
    """The usage response goes to transform whole (it flattens and validates the shape)."""
    tables = await fetch_snapshot(make_client(server()), "p")
    [usage] = tables["credit_usage"]
    assert usage["data_project"][0]["value"] == 5
    assert usage["data_deployments"][0]["deployment_name"] == "dep"


async def test_usage_is_asked_per_day(make_client):
    """The usage call asks for daily intervals."""
    params: list[dict[str, str]] = []
    handle = server()

    def spy(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/usage"):
            params.append(dict(request.url.params))
        return handle(request)

    await fetch_snapshot(make_client(spy), "p")
    assert params == [{"interval": "day"}]


async def test_forbidden_table_is_left_out(make_client):
    """A table the token may not read is left out; the rest still arrive."""
    tables = await fetch_snapshot(make_client(server(frozenset({"/projects/p/quotas"}))), "p")
    assert "quotas" not in tables
    assert "users" not in tables
    assert "project_users" in tables


async def test_missing_sub_resource_is_left_out_but_a_missing_project_raises(make_client):
    """A 404 on one table's endpoint drops that table; a 404 on the project itself raises."""
    tables = await fetch_snapshot(
        make_client(server(missing=frozenset({"/projects/p/usage"}))), "p"
    )
    assert "credit_usage" not in tables
    assert "projects" in tables
    with pytest.raises(NotFound):
        await fetch_snapshot(make_client(server(missing=frozenset({"/projects/p"}))), "p")
