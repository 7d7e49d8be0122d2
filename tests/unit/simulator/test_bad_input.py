"""Bad input never breaks the simulator: always a 4xx with a JSON `error`, never a 500."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator import World, create_app

from .conftest import auth


class SyncApi:
    """A blocking face of an httpx.AsyncClient on the ASGI app, for hypothesis (which is
    synchronous); app exceptions propagate, so a crash cannot hide behind a 500."""

    def __init__(self, world: World) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(world)),
            base_url="http://sim/v2.1",
            headers=auth(world.token),
        )

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()


@pytest.fixture(scope="module")
def api(shared_world: World) -> Iterator[SyncApi]:
    client = SyncApi(shared_world)
    yield client
    client.close()


def assert_client_error(status: int, body: bytes) -> None:
    assert 400 <= status < 500, (status, body[:200])
    error = json.loads(body)["error"]
    assert isinstance(error, str)
    assert error


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
LOG_KEYS = st.sampled_from(["filters", "date", "id", "limit", "date_range", "extra"])
FILTER_KEYS = st.sampled_from(
    [
        "deployment_name",
        "deployment_version",
        "pipeline_name",
        "pipeline_version",
        "pipeline_object_name",
        "system",
        "level",
        "deployment_request_id",
        "nonsense",
    ]
)
LOG_BODIES = st.dictionaries(
    LOG_KEYS,
    JSON_VALUES
    | st.dictionaries(FILTER_KEYS, JSON_VALUES, max_size=4)
    | st.integers(-200_000, 200_000)
    | st.sampled_from(["2026-11-28T00:00:00Z", "0" * 24, "zz" * 12, "2026-02-30T00:00:00Z"]),
    max_size=5,
)
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(body=LOG_BODIES)
def test_any_log_query_body_is_answered_without_a_server_error(
    api: SyncApi, shared_world: World, body: dict[str, Any]
) -> None:
    """Arbitrary JSON bodies to the logs call get a 200 list or a 4xx error, never a 500."""
    response = api.post(f"/projects/{shared_world.project_names[0]}/logs", json=body)
    if response.status_code == 200:
        assert isinstance(response.json(), list)
    else:
        assert_client_error(response.status_code, response.content)


EDGE_DATES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1969-12-31", "2999-12-31"]
QUERY = st.dictionaries(
    st.sampled_from(
        [
            "object_type",
            "status",
            "success",
            "limit",
            "offset",
            "sort",
            "pipeline",
            "start_date",
            "end_date",
            "search_id",
            "action",
            "interval",
            "request_schedule",
            "user_type",
        ]
    ),
    st.text(max_size=12)
    | st.sampled_from(
        ["deployment", "pipeline", "-1", "0", "10", "true", "2026-11-20", "asc", "day", *EDGE_DATES]
    ),
    max_size=6,
)


@FUZZ
@given(params=QUERY, path=st.sampled_from(["requests", "audit", "usage", "users"]))
def test_any_query_string_is_answered_without_a_server_error(
    api: SyncApi, shared_world: World, params: dict[str, str], path: str
) -> None:
    """Arbitrary query parameters on the list endpoints never cause a 500."""
    response = api.get(f"/projects/{shared_world.project_names[0]}/{path}", params=params)
    if response.status_code != 200:
        assert_client_error(response.status_code, response.content)


@FUZZ
@given(
    segment=st.text(
        st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="/?#%"),
        min_size=1,
        max_size=40,
    ).filter(lambda s: s.strip(".") != "" and s.strip() == s)
)
def test_any_path_segment_is_answered_without_a_server_error(
    api: SyncApi, shared_world: World, segment: str
) -> None:
    """Unknown projects, env var ids and user ids are 4xx errors."""
    project = shared_world.project_names[0]
    for path in (
        f"/projects/{segment}",
        f"/projects/{segment}/logs",
        f"/projects/{project}/environment-variables/{segment}",
        f"/projects/{project}/users/{segment}",
    ):
        response = api.get(path) if not path.endswith("/logs") else api.post(path)
        assert_client_error(response.status_code, response.content)


@pytest.mark.parametrize("start", EDGE_DATES)
@pytest.mark.parametrize("end", EDGE_DATES)
def test_extreme_dates_are_client_errors_or_answers(
    api: SyncApi, shared_world: World, start: str, end: str
) -> None:
    """Dates at the edges of what datetime can represent never crash any date-taking call."""
    project = shared_world.project_names[0]
    calls = [
        api.get(f"/projects/{project}/usage", params={"start_date": start, "end_date": end}),
        api.get(
            f"/projects/{project}/requests",
            params={"object_type": "deployment", "start_date": start, "end_date": end},
        ),
        api.post(f"/projects/{project}/logs", json={"date": start, "date_range": 86_400}),
        api.post(f"/projects/{project}/logs", json={"date": end, "date_range": -86_400}),
    ]
    for response in calls:
        if response.status_code != 200:
            assert_client_error(response.status_code, response.content)


WRITE_CALLS = [
    ("POST", "/projects"),
    ("PATCH", "/projects/{p}"),
    ("POST", "/projects/{p}/environment-variables"),
    ("PATCH", "/projects/{p}/environment-variables/{v}"),
    ("POST", "/projects/{p}/users"),
    ("POST", "/projects/{p}/logs"),
]


@pytest.mark.parametrize(("method", "path"), WRITE_CALLS)
@pytest.mark.parametrize(
    "raw",
    [
        b'{"credits": NaN, "limit": Infinity}',
        b"[" * 100_000,
        b"{not json",
        b"[1, 2]",
        b'"text"',
        b"\xff\xfe",
        b'{"name": 5, "value": [], "secret": "yes", "user_id": 7, "limit": "all"}',
    ],
)
def test_malformed_or_mistyped_bodies_are_400(
    api: SyncApi, shared_world: World, method: str, path: str, raw: bytes
) -> None:
    """Malformed JSON, non-object JSON and wrongly typed fields get a 400 on every write."""
    project = shared_world.projects[shared_world.project_names[0]]
    url = path.format(p=project.name, v=next(iter(project.env_vars)))
    response = api.request(method, url, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert_client_error(response.status_code, response.content)


def test_errors_quote_client_values_briefly(api: SyncApi, shared_world: World) -> None:
    """An error names the bad value but does not mirror a huge one back."""
    project = shared_world.project_names[0]
    huge = "9" * 5_000
    responses = [
        api.get(
            f"/projects/{project}/requests", params={"object_type": "deployment", "limit": huge}
        ),
        api.get(f"/projects/{'x' * 3_000}"),
        api.post(f"/projects/{project}/logs", json={"filters": {"k" * 3_000: "v"}}),
    ]
    for response in responses:
        assert 400 <= response.status_code < 500
        assert len(response.json()["error"]) < 200
