"""Write operations change state and leave audit events; the audit list pages newest first."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from simulator import World


async def audit(client: httpx.AsyncClient, project: str, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(f"/projects/{project}/audit", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


async def test_audit_list_defaults_filter_and_offsets(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """Newest first, 50 by default, `action` filters, `offset` skips."""
    truth = world.truth_audit_events(project)
    assert await audit(client, project) == truth[:50]
    assert (
        await audit(client, project, action="update", limit=5, offset=2)
        == [e for e in truth if e["action"] == "update"][2:7]
    )
    bad = await client.get(f"/projects/{project}/audit", params={"action": "rename"})
    assert bad.status_code == 400


async def test_env_var_lifecycle_hides_secrets_and_is_audited(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """Create, get, list, update and delete an env var; a secret's value is null everywhere."""
    base = f"/projects/{project}/environment-variables"
    created = await client.post(base, json={"name": "TOKEN_X", "value": "s3cr3t", "secret": True})
    assert created.status_code == 201
    var = created.json()
    assert var["value"] is None
    assert var["secret"] is True
    got = (await client.get(f"{base}/{var['id']}")).json()
    listed = (await client.get(base)).json()
    updated = await client.patch(f"{base}/{var['id']}", json={"value": "other"})
    assert got["value"] is None
    assert updated.json()["value"] is None
    assert all(v["value"] is None for v in listed if v["secret"])
    assert "s3cr3t" not in (await client.get(base)).text
    unsecret = await client.patch(f"{base}/{var['id']}", json={"secret": False})
    assert unsecret.status_code == 400
    assert (await client.delete(f"{base}/{var['id']}")).status_code == 204
    assert (await client.get(f"{base}/{var['id']}")).status_code == 404
    events = [e["event"] for e in world.truth_audit_events(project)[:3]]
    assert events == [
        "Deleted environment variable TOKEN_X",
        "Updated environment variable TOKEN_X",
        "Created environment variable TOKEN_X",
    ]


async def test_plain_env_var_shows_its_value_and_rejects_bad_names(
    client: httpx.AsyncClient, project: str
) -> None:
    """A non-secret variable returns its value; invalid or duplicate names are rejected."""
    base = f"/projects/{project}/environment-variables"
    ok = await client.post(base, json={"name": "SCHEMA", "value": "public", "secret": False})
    assert ok.json()["value"] == "public"
    for name in ("_LEADING", "TRAILING_", "has space", "SCHEMA"):
        response = await client.post(base, json={"name": name, "value": "x", "secret": False})
        assert response.status_code in (400, 409)
        assert "error" in response.json()


async def test_users_add_get_delete_are_audited(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """Adding and removing a project user changes the list and leaves audit events."""
    base = f"/projects/{project}/users"
    members = {u["id"] for u in (await client.get(base)).json()}
    outsider = next(u for u in world.org_users[world.organization] if u not in members)
    added = await client.post(base, json={"user_id": outsider})
    assert added.status_code == 201
    assert (await client.get(f"{base}/{outsider}")).json()["id"] == outsider
    assert (await client.post(base, json={"user_id": outsider})).status_code == 409
    assert (await client.delete(f"{base}/{outsider}")).status_code == 204
    assert (await client.get(f"{base}/{outsider}")).status_code == 404
    actions = [e["action"] for e in world.truth_audit_events(project)[:2]]
    assert actions == ["delete", "create"]
    unknown = await client.post(base, json={"user_id": "no-such-user"})
    assert unknown.status_code == 404


async def test_user_type_filter(client: httpx.AsyncClient, project: str) -> None:
    """user_type=user excludes service users; an unknown type is a 400."""
    people = (await client.get(f"/projects/{project}/users", params={"user_type": "user"})).json()
    assert all("serviceuser" not in u["email"] for u in people)
    bad = await client.get(f"/projects/{project}/users", params={"user_type": "robot"})
    assert bad.status_code == 400


async def test_project_create_update_delete(client: httpx.AsyncClient, world: World) -> None:
    """A created project is listed, renamed, audited, and gone after delete."""
    created = await client.post(
        "/projects", json={"name": "fresh-one", "organization_name": world.organization}
    )
    assert created.status_code == 201
    assert created.json()["organization_name"] == world.organization
    assert "fresh-one" in world.project_names
    renamed = await client.patch(
        "/projects/fresh-one", json={"name": "fresh-two", "cors_origins": ["https://a.b"]}
    )
    assert renamed.json()["name"] == "fresh-two"
    assert renamed.json()["cors_origins"] == ["https://a.b"]
    suspended = (
        await client.patch(
            "/projects/fresh-two", json={"suspend": True, "advanced_permissions": True}
        )
    ).json()
    assert suspended["suspended"] is True
    assert suspended["suspended_reason"]
    assert suspended["advanced_permissions"] is True
    actions = [e["action"] for e in world.truth_audit_events("fresh-two")]
    assert actions == ["update", "update", "create"]
    assert (await client.delete("/projects/fresh-two")).status_code == 204
    names = [p["name"] for p in (await client.get("/projects")).json()]
    assert "fresh-two" not in names
    assert (await client.get("/projects/fresh-two")).status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "Bad_Name", "organization_name": "acme-ml"}, 400),
        ({"organization_name": "acme-ml"}, 400),
        ({"name": "ok-name"}, 400),
        ({"name": "ok-name", "organization_name": "someone-else"}, 403),
        ({"name": "acme-ml-prod", "organization_name": "acme-ml"}, 409),
        ({"name": "ok-name", "organization_name": "acme-ml", "credits": "lots"}, 400),
    ],
)
async def test_project_create_rejects_bad_input(
    client: httpx.AsyncClient, body: dict[str, Any], status: int
) -> None:
    """Invalid names, missing fields, foreign organisations and duplicates are refused."""
    response = await client.post("/projects", json=body)
    assert response.status_code == status
    assert response.json()["error"]
