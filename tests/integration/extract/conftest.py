"""The simulator in-process (ASGI transport) or on a socket, with every fault mode on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from extract import ClientConfig, RetryPolicy, UbiOpsClient
from simulator import Faults, ManualClock, World, WorldSpec, create_app, generate_world

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SIM_HOST = "http://simulator.test/v2.1"
ALL_FAULTS = Faults(
    p_429=0.04,
    p_5xx=0.04,
    latency_s=0.001,
    p_drop=0.02,
    p_truncate=0.03,
    clamp_limit=40,
    p_invalid=0.01,
    mutate_during_paging=True,
    seed=11,
)


class SimClock:
    """The client's clock: sleeping moves the simulator's manual clock as well, so the
    server's rate-limit windows pass without anyone waiting on the wall clock."""

    def __init__(self, manual: ManualClock) -> None:
        self.manual = manual
        self.now = 0.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds
        self.manual.advance(timedelta(seconds=seconds))


async def no_latency(seconds: float) -> None:
    """The simulator's latency fault, recorded but not waited for in-process."""


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def all_faults() -> Faults:
    return ALL_FAULTS


@pytest.fixture
def world() -> World:
    spec = WorldSpec(seed=5, projects=2, days=3, logs_per_day=3000, requests_per_day=300)
    return generate_world(spec, now=NOW)


@pytest.fixture
async def sim_client(world: World) -> AsyncIterator[Callable[..., Any]]:
    """Build (client, app, clock) against the in-process simulator with the given faults and
    API mode (`api`); other keyword arguments go to ClientConfig."""
    opened: list[httpx.AsyncClient] = []

    def build(
        faults: Faults = ALL_FAULTS, token: str | None = None, api: str = "legacy", **config: Any
    ) -> Any:
        manual = ManualClock(NOW)
        app = create_app(world, clock=manual, faults=faults, sleep=no_latency, api=api)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
        opened.append(http)
        values: dict[str, Any] = {
            "host": SIM_HOST,
            "token": SecretStr(token or world.token),
            "retry": RetryPolicy(wait=False, max_attempts=25),
        }
        values.update(config)
        clock = SimClock(manual)
        return UbiOpsClient(http, ClientConfig(**values), clock=clock), app, clock

    yield build
    for http in opened:
        await http.aclose()
