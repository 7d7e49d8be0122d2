"""Fixtures of the simulator tests: a small seeded world on a manual clock, and clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from simulator import Faults, ManualClock, World, WorldSpec, create_app, generate_world

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SPEC = WorldSpec(seed=7, projects=2, days=10, logs_per_day=1_500, requests_per_day=150)
# Tests that change the world get their own, lighter one (still past the one-week retention).
LIGHT_SPEC = WorldSpec(seed=7, projects=2, days=8, logs_per_day=700, requests_per_day=100)

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def world(clock: ManualClock) -> World:
    return generate_world(LIGHT_SPEC, now=clock.now())


@pytest.fixture(scope="module")
def shared_world() -> World:
    """A world that tests only read: generated once per module."""
    return generate_world(SPEC, now=NOW)


@pytest.fixture
def project(world: World) -> str:
    return world.project_names[0]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Token {token}"}


@pytest.fixture
def make_client(world: World, clock: ManualClock) -> ClientFactory:
    """An httpx client on the ASGI app of `world`; keyword arguments go to create_app."""

    @asynccontextmanager
    async def factory(
        target: World | None = None, token: str | None = None, **options: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        the_world = target or world
        options.setdefault("clock", clock)
        options.setdefault("faults", Faults())
        app = create_app(the_world, **options)
        transport = httpx.ASGITransport(app=app)
        headers = auth(token or the_world.token)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sim/v2.1", headers=headers
        ) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client

    return factory


@pytest.fixture
async def client(make_client: ClientFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as c:
        yield c
