"""A server that moves to today's API between two syncs: the second sync goes on through
GET /logs and the current requests list, and the lake holds every log once, judged by
content (the two endpoints' ids differ), and every request once.

Over real sockets, through `flows.core.runner.execute` (no Prefect engine needed).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from extract.timeutil import parse_api_datetime
from flows.core.runner import execute
from flows.core.settings import Settings
from simulator import ManualClock, WorldSpec, create_app, generate_world, serve_in_thread
from warehouse import LakeLocation, run_sql

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
SPEC = WorldSpec(seed=8, projects=1, days=2, logs_per_day=1_500, requests_per_day=10)


async def sync(base_url: str, token: str, root: Path, until: datetime) -> str | None:
    settings = Settings(
        api_host=base_url,
        api_token=token,
        warehouse=root,
        streams=("logs", "requests"),
        initial_history="2d",
    )
    summary = await execute(
        settings,
        since=None,
        until=None,
        backfill=False,
        clock=lambda: until,
        logger=logging.getLogger("t"),
    )
    assert summary.ok, [(r.stream, r.error) for r in summary.results]
    return summary.log_api


async def test_second_sync_after_the_post_is_gone_stores_nothing_twice(tmp_path: Path):
    """Sync 1 on the v2.1 API, sync 2 (one lookback later) on the current one: every log
    once by (date, text, source), the first sync's under ids, the rest under content ids."""
    clock = ManualClock(NOW)
    world = generate_world(SPEC, now=NOW)
    project = world.project_names[0]
    root = tmp_path / "lake"
    first_until = NOW - timedelta(minutes=30)
    with serve_in_thread(create_app(world, clock=clock, api="legacy")) as legacy:
        assert await sync(legacy.base_url, world.token, root, first_until) == "legacy"
    with serve_in_thread(create_app(world, clock=clock, api="current")) as current:
        assert await sync(current.base_url, world.token, root, NOW) == "current"
    lake = LakeLocation.parse(root)
    stored = run_sql(
        lake, "SELECT date, log, deployment_name, pipeline_name, length(id) FROM logs"
    ).rows
    truth = [
        r for r in world.truth_logs(project) if parse_api_datetime(r["date"]) >= NOW - SPEC_DAYS
    ]
    want = Counter(
        (parse_api_datetime(r["date"]), r["log"], r.get("deployment_name"), r.get("pipeline_name"))
        for r in truth
    )
    got = Counter((row[0], row[1], row[2], row[3]) for row in stored)
    assert got == want
    id_lengths = Counter(row[4] for row in stored)
    assert id_lengths[24] > 0
    assert id_lengths[32] > 0
    statuses = dict(run_sql(lake, "SELECT status::VARCHAR, count(*) FROM requests GROUP BY 1").rows)
    assert statuses.get("failed", 0) > 0
    ids = run_sql(lake, "SELECT count(*), count(DISTINCT id) FROM requests").rows[0]
    assert ids[0] == ids[1]


SPEC_DAYS = timedelta(days=2)
