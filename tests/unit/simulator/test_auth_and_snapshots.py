"""Authentication, organisation isolation, headers, and the read-only snapshot endpoints."""

from __future__ import annotations

import httpx
import pytest

from simulator import Faults, World

from .conftest import ClientFactory


@pytest.fixture
def world(shared_world: World) -> World:
    """These tests only read, so they share one world."""
    return shared_world


@pytest.mark.parametrize("header", [None, "", "Token", "Token wrong-token", "Basic abc", "tok"])
async def test_missing_or_wrong_credentials_are_401(
    client: httpx.AsyncClient, header: str | None
) -> None:
    """No token, a malformed header or an unknown token gets a 401 JSON error."""
    headers = {} if header is None else {"Authorization": header}
    client.headers.pop("Authorization")
    response = await client.get("/projects", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]


async def test_bearer_scheme_is_accepted(client: httpx.AsyncClient, world: World) -> None:
    """`Bearer <token>` works like `Token <token>`."""
    response = await client.get("/projects", headers={"Authorization": f"Bearer {world.token}"})
    assert response.status_code == 200


async def test_a_token_sees_only_its_organisation(
    client: httpx.AsyncClient, make_client: ClientFactory, world: World
) -> None:
    """Project lists are per organisation; another organisation's project is a 403."""
    names = [p["name"] for p in (await client.get("/projects")).json()]
    assert names == world.project_names
    foreign, foreign_token = world.foreign_projects[0]
    assert (await client.get(f"/projects/{foreign}")).status_code == 403
    for path in ("logs", "requests?object_type=deployment", "audit", "environment-variables"):
        method = client.post if path == "logs" else client.get
        assert (await method(f"/projects/{foreign}/{path}")).status_code == 403
    async with make_client(token=foreign_token) as other:
        theirs = [p["name"] for p in (await other.get("/projects")).json()]
    assert theirs == [foreign]
    assert (await client.get("/projects/no-such-project")).status_code == 404


async def test_every_response_carries_the_enforced_rate_limit(
    make_client: ClientFactory, project: str
) -> None:
    """With a limit enforced, successes and errors alike carry x-ratelimit-limit (the limit
    itself) and x-ratelimit-remaining; without one, no rate-limit header is sent."""
    async with make_client(faults=Faults(rate_limit_per_min=5000)) as limited:
        for response in (
            await limited.get("/projects"),
            await limited.get("/projects/nope"),
            await limited.get(f"/projects/{project}/requests"),
        ):
            assert int(response.headers["x-ratelimit-limit"]) == 5000
            assert int(response.headers["x-ratelimit-remaining"]) < 5000
    async with make_client() as unlimited:
        response = await unlimited.get("/projects")
        assert "x-ratelimit-limit" not in response.headers


async def test_unknown_routes_and_methods_are_json_errors(client: httpx.AsyncClient) -> None:
    """An unknown path is a JSON 404 and a wrong method a JSON 405."""
    missing = await client.get("/nothing-here")
    wrong = await client.put("/projects")
    assert (missing.status_code, wrong.status_code) == (404, 405)
    assert missing.json()["error"]
    assert wrong.json()["error"]


async def test_snapshot_endpoints_have_documented_shapes(
    client: httpx.AsyncClient, world: World, project: str
) -> None:
    """Project detail, instance types, quotas and resource counts match API.md's fields."""
    detail = (await client.get(f"/projects/{project}")).json()
    assert set(detail) == {
        "id",
        "name",
        "creation_date",
        "advanced_permissions",
        "organization_name",
        "credits",
        "suspended",
        "suspended_reason",
        "cors_origins",
    }
    envelope = (await client.get(f"/projects/{project}/instance-types")).json()
    assert set(envelope) == {"count", "next", "previous", "results"}
    types = envelope["results"]
    assert {
        "id",
        "name",
        "display_name",
        "memory_allocation",
        "cpu_allocation",
        "gpu_allocation",
        "storage_allocation",
        "credit_rate",
    } == set(types[0])
    quotas = (await client.get(f"/projects/{project}/quotas")).json()
    assert all(set(q) == {"resource", "quota"} for q in quotas)
    resources = (await client.get(f"/projects/{project}/resources")).json()
    assert resources["deployments"] == len(world.projects[project].deployments)
    assert set(resources) == {
        "deployments",
        "deployment_versions",
        "pipelines",
        "pipeline_versions",
        "buckets",
        "environments",
    }
    variables = (await client.get(f"/projects/{project}/environment-variables")).json()
    assert any(v["secret"] for v in variables)
    assert all(v["value"] is None for v in variables if v["secret"])


async def test_usage_by_day_and_month(client: httpx.AsyncClient, project: str) -> None:
    """Credit usage: per-day points in a given range, the project total is the sum."""
    base = f"/projects/{project}/usage"
    daily = (
        await client.get(
            base, params={"interval": "day", "start_date": "2026-11-01", "end_date": "2026-11-08"}
        )
    ).json()
    assert daily["interval"] == "day"
    assert len(daily["data_project"]) == 7
    assert daily["data_project"][0]["start_date"] == "2026-11-01T00:00:00Z"
    for i, point in enumerate(daily["data_project"]):
        parts = [d["data"][i]["value"] for d in daily["data_deployments"]]
        total = sum(parts) + daily["data_deleted_deployments"][i]["value"]
        assert point["value"] == pytest.approx(total, abs=0.01)
    monthly = (await client.get(base)).json()
    assert monthly["interval"] == "month"
    assert len(monthly["data_project"]) == 1
    assert monthly["data_project"][0]["value"] > 0


@pytest.mark.parametrize(
    "params",
    [
        {"interval": "week"},
        {"start_date": "2026-11-01"},
        {"start_date": "2026-11-08", "end_date": "2026-11-01"},
        {"start_date": "1st of Nov", "end_date": "2026-11-08"},
    ],
)
async def test_bad_usage_parameters_are_400(
    client: httpx.AsyncClient, project: str, params: dict[str, str]
) -> None:
    """Unknown intervals, half-given or reversed ranges and bad dates are 400s."""
    response = await client.get(f"/projects/{project}/usage", params=params)
    assert response.status_code == 400
    assert response.json()["error"]


async def test_projects_list_filters_on_organization(
    client: httpx.AsyncClient, world: World
) -> None:
    """?organization= keeps the caller's own projects and never reveals another's."""
    own = await client.get("/projects", params={"organization": world.organization})
    foreign, _ = world.foreign_projects[0]
    other_org = world.projects[foreign].organization
    other = await client.get("/projects", params={"organization": other_org})
    assert [p["name"] for p in own.json()] == world.project_names
    assert other.json() == []


async def test_instance_types_page_through_the_envelope(
    client: httpx.AsyncClient, project: str, world: World
) -> None:
    """Instance types come in a paginated envelope: `next` links (absolute URLs with an
    opaque cursor) lead through every item once; `previous` leads back; a bad cursor is 400."""
    url: str | None = f"/projects/{project}/instance-types?limit=2"
    names: list[str] = []
    pages = []
    while url is not None:
        body = (await client.get(url)).json()
        assert body["count"] == len(world.instance_types)
        pages.append(body)
        names += [item["name"] for item in body["results"]]
        url = body["next"]
    assert names == [t["name"] for t in world.instance_types]
    assert pages[0]["previous"] is None
    assert len(pages) == 1 or pages[-1]["previous"].startswith("http")
    bad = await client.get(f"/projects/{project}/instance-types?cursor=%%%")
    assert bad.status_code == 400
