"""The official `ubiops` client (4.12.0) against the simulator over a real socket.

Shows the simulator speaks the wire format real clients expect: every read operation and the
write operations of API.md succeed and deserialise into the client's models.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import ubiops

from simulator import World

from .conftest import Serve


@pytest.fixture
def core(serve_world: Serve, world: World) -> Iterator[Any]:
    with serve_world() as server:
        configuration = ubiops.Configuration(host=server.base_url)
        configuration.api_key["Authorization"] = f"Token {world.token}"
        client = ubiops.ApiClient(configuration)
        yield ubiops.CoreApi(client)
        client.close()


def test_project_reads_deserialise(core: Any, world: World) -> None:
    """projects_list/get, quotas, resources and usage come back as client models."""
    projects = core.projects_list()
    assert [p.name for p in projects] == world.project_names
    name = world.project_names[0]
    detail = core.projects_get(name)
    assert detail.organization_name == world.organization
    assert detail.creation_date.tzinfo is not None
    assert {q.resource for q in core.quotas_list(name)} >= {"cpu_standard"}
    assert core.projects_resource_usage(name).deployments == len(world.projects[name].deployments)
    usage = core.projects_usage_get(
        name, start_date="2026-11-01", end_date="2026-11-08", interval="day"
    )
    assert len(usage.data_project) == 7
    assert usage.data_deployments[0].data[0].start_date.day == 1


def test_instance_types_list_reads_the_paginated_envelope(core: Any, world: World) -> None:
    """Client 4.12's instance_types_list expects the paginated envelope ({next, previous,
    results}); the simulator serves it, and the client pages through it by cursor."""
    name = world.project_names[0]
    everything = core.instance_types_list(name)
    assert [i.name for i in everything.results] == [t["name"] for t in world.instance_types]
    assert all(i.id for i in everything.results)
    assert everything.next is None
    first = core.instance_types_list(name, limit=1)
    assert len(first.results) == 1
    cursor = parse_qs(urlsplit(first.next).query)["cursor"][0]
    second = core.instance_types_list(name, cursor=cursor, limit=1)
    assert second.results[0].name == world.instance_types[1]["name"]
    assert second.previous is not None


def test_members_and_variables_deserialise(core: Any, world: World) -> None:
    """Users and environment variables (with secret values null) deserialise."""
    name = world.project_names[0]
    users = core.project_users_list(name)
    assert core.project_users_get(name, users[0].id).email == users[0].email
    variables = core.project_environment_variables_list(name)
    assert all(v.value is None for v in variables if v.secret)
    assert core.project_environment_variables_get(name, variables[0].id).name == variables[0].name


def test_stream_reads_deserialise_and_page(core: Any, world: World) -> None:
    """Logs (with id cursors), requests and audit events deserialise; logs page by id."""
    name = world.project_names[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the POST logs call is deprecated
        first = core.projects_log_list(name, data=ubiops.LogsCreate(date_range=-86_400, limit=20))
        second = core.projects_log_list(
            name, data=ubiops.LogsCreate(id=first[-1].id, date_range=-86_400, limit=20)
        )
    assert len(first) == 20
    assert second[0].id == first[-1].id
    assert first[0].date > second[-1].date or first[0].date != second[-1].date
    requests = core.project_requests_list(name, "deployment", limit=10)
    assert len(requests) == 10
    assert requests[0].time_created.tzinfo is not None
    pipeline = core.project_requests_list(name, "pipeline", status="completed", limit=5)
    assert all(r.status == "completed" for r in pipeline)
    events = core.project_audit_events_list(name, action="create", limit=5)
    assert [e.action for e in events] == ["create"] * len(events)
    assert events


def test_write_operations_succeed(core: Any, world: World) -> None:
    """Project, environment variable and user writes succeed through the client."""
    created = core.projects_create(
        ubiops.ProjectCreate(name="client-made", organization_name=world.organization)
    )
    assert created.name == "client-made"
    updated = core.projects_update("client-made", ubiops.ProjectUpdate(credits=250.0))
    assert updated.credits == 250.0
    name = world.project_names[0]
    var = core.project_environment_variables_create(
        name, ubiops.EnvironmentVariableCreate(name="FROM_CLIENT", value="x", secret=True)
    )
    assert var.value is None
    changed = core.project_environment_variables_update(
        name, var.id, ubiops.EnvironmentVariableCreate(name="FROM_CLIENT", value="y", secret=True)
    )
    assert changed.secret is True
    core.project_environment_variables_delete(name, var.id)
    members = {u.id for u in core.project_users_list(name)}
    outsider = next(u for u in world.org_users[world.organization] if u not in members)
    added = core.project_users_create(name, ubiops.ProjectUserCreate(user_id=outsider))
    assert added.id == outsider
    core.project_users_delete(name, outsider)
    core.projects_delete("client-made")
    assert "client-made" not in [p.name for p in core.projects_list()]
    actions = [e.action for e in core.project_audit_events_list(name, limit=5)]
    assert actions[:5] == ["delete", "create", "delete", "update", "create"]


def test_errors_reach_the_client_as_api_exceptions(core: Any, world: World) -> None:
    """A 4xx from the simulator raises ubiops.ApiException with the status and JSON error."""
    with pytest.raises(ubiops.ApiException) as caught:
        core.projects_get("does-not-exist")
    assert caught.value.status == 404
    assert "error" in caught.value.body
    foreign, _ = world.foreign_projects[0]
    with pytest.raises(ubiops.ApiException) as forbidden:
        core.projects_get(foreign)
    assert forbidden.value.status == 403
