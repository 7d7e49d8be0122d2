"""Fixtures of the simulator's socket-level tests: a real uvicorn server per fault plan."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from simulator import ManualClock, ServerHandle, World, WorldSpec, create_app, generate_world
from simulator import serve_in_thread as serve

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
Serve = Callable[..., AbstractContextManager[ServerHandle]]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def world(clock: ManualClock) -> World:
    spec = WorldSpec(seed=3, projects=2, days=9, logs_per_day=1_200, requests_per_day=120)
    return generate_world(spec, now=clock.now())


@pytest.fixture
def serve_world(world: World, clock: ManualClock) -> Serve:
    """Start the app of `world` on a free loopback port; keyword arguments go to create_app."""

    @contextmanager
    def start(**options: Any) -> Iterator[ServerHandle]:
        options.setdefault("clock", clock)
        with serve(create_app(world, **options), host="127.0.0.1", port=0) as server:
            yield server

    return start
