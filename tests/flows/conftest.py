"""The flows suite: the real Prefect engine (one session-scoped test harness) running the
real flows against the simulator over a loopback socket, checked against its ground truth."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from prefect.testing.utilities import prefect_test_harness

from simulator import ManualClock, World, WorldSpec, create_app, generate_world, serve_in_thread

SPEC = WorldSpec(
    seed=11,
    projects=2,
    days=2,
    logs_per_day=600,
    requests_per_day=60,
    burst_size=150,
    quiet_period_hours=26,
)


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API and database for the whole flows suite."""
    with prefect_test_harness(server_startup_timeout=120):
        yield


@dataclass
class Sim:
    world: World
    clock: ManualClock
    app: object
    base_url: str

    def calls(self, operation: str) -> int:
        """How many times the simulator served `operation` (e.g. 'projects_log_list')."""
        stats = self.app.state.stats  # type: ignore[attr-defined]
        return int(stats.calls[operation])


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sim]:
    """A live simulator on a manual clock; the tests pass the same clock to the flows."""
    clock = ManualClock(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    world = generate_world(SPEC, now=clock.now())
    app = create_app(world, clock=clock, live=True)
    with serve_in_thread(app) as server:
        monkeypatch.setenv("UBIOPS_API_HOST", server.base_url)
        monkeypatch.setenv("UBIOPS_API_TOKEN", world.token)
        monkeypatch.setenv("UBIOPS_ETL_INITIAL_HISTORY", "4d")
        # The simulator enforces no rate limit here; pacing has its own tests in extract.
        monkeypatch.setenv("UBIOPS_ETL_RATE_PER_MINUTE", "60000")
        yield Sim(world, clock, app, server.base_url)


def lake_ids(root: Path, table: str, extra: str = "") -> list[tuple[object, ...]]:
    """Rows of `table` read straight from the Parquet files (not through the views)."""
    glob = f"{root}/{table}/project=*/**/*.parquet"  # not _delta_log/'s checkpoints
    return duckdb.sql(
        f"SELECT id{extra} FROM read_parquet('{glob}', hive_partitioning = true) ORDER BY id"
    ).fetchall()
