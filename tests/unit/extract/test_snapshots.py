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


def envelope_server(pages: dict[str, dict[str, object]]):
    """Instance types as a paginated envelope, keyed by the `cursor` query value."""

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/v2.1")
        if path == "/projects/p/instance-types":
            return httpx.Response(200, json=pages[request.url.params.get("cursor", "")])
        return httpx.Response(200, json=BODIES[path])

    return handle


def page(results: list[dict[str, str]], next_cursor: str | None) -> dict[str, object]:
    base = "https://ubiops.test/v2.1/projects/p/instance-types"
    link = None if next_cursor is None else f"{base}?cursor={next_cursor}&limit=1"
    return {"count": 3, "next": link, "previous": None, "results": results}


async def test_a_paginated_envelope_is_read_and_followed(make_client):
    """`{count, next, previous, results}`: the results of every page, following `next`."""
    pages = {
        "": page([{"id": "i1"}], "b"),
        "b": page([{"id": "i2"}], "c"),
        "c": page([{"id": "i3"}], None),
    }
    tables = await fetch_snapshot(make_client(envelope_server(pages)), "p")
    assert [row["id"] for row in tables["instance_types"]] == ["i1", "i2", "i3"]


async def test_an_envelope_whose_next_link_repeats_is_refused(make_client):
    """A `next` link seen before would loop forever: PagingStalled."""
    from extract import PagingStalled

    pages = {"": page([{"id": "i1"}], "b"), "b": page([{"id": "i2"}], "b")}
    with pytest.raises(PagingStalled):
        await fetch_snapshot(make_client(envelope_server(pages)), "p")


async def test_a_next_link_to_another_host_is_refused(make_client):
    """A `next` link must stay on the configured host and endpoint."""
    from extract import UnexpectedResponse

    evil = {"count": 2, "next": "https://evil.test/x?cursor=b", "previous": None, "results": []}
    with pytest.raises(UnexpectedResponse):
        await fetch_snapshot(make_client(envelope_server({"": evil})), "p")


@pytest.mark.parametrize(
    "body",
    [[{"id": "a"}], {"count": 1, "next": None, "previous": None, "results": [{"id": "a"}]}],
    ids=["plain-list", "envelope"],
)
def test_list_bodies_are_plain_lists_or_envelopes(body):
    """Both shapes yield the records; an object without `results` is refused."""
    from extract import UnexpectedResponse
    from extract.paging import list_body

    assert list_body(body, "/x") == ([{"id": "a"}], None)
    with pytest.raises(UnexpectedResponse):
        list_body({"id": "a"}, "/x")
