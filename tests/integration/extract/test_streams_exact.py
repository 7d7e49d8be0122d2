"""Every stream delivers exactly what the simulator holds, with all fault modes on."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from extract import (
    OBJECT_TYPES,
    LogCursor,
    fetch_snapshot,
    iter_audit_events,
    iter_logs,
    iter_requests,
    list_projects,
)
from extract.timeutil import parse_api_datetime


def split_by_corruption(records, faults):
    """(ids of records served intact, ids of records served broken but still with an id)."""
    intact, broken = set(), set()
    for record in records:
        how = faults.corruption(record["id"])
        if how is None:
            intact.add(record["id"])
        elif how != 3:  # 3 drops the id: such a record cannot be matched by id
            broken.add(record["id"])
    return intact, broken


def assert_exactly_once(delivered, truth, faults):
    """Intact records exactly once; broken ones that kept an id at most once."""
    counts = Counter(r["id"] for r in delivered if isinstance(r.get("id"), str))
    intact, broken = split_by_corruption(truth, faults)
    assert {i: c for i, c in counts.items() if i in intact} == dict.fromkeys(intact, 1)
    assert all(counts[i] <= 1 for i in broken)
    assert set(counts) <= intact | broken


async def test_logs_arrive_exactly_once_under_all_faults(sim_client, world, now, all_faults):
    """Logs of three days, paged concurrently through every fault, arrive exactly once."""
    client, app, _ = sim_client()
    project = world.project_names[0]
    since, until = now - timedelta(days=3), now - timedelta(minutes=15)
    delivered = []
    async for page in iter_logs(client, project, since, until, page_size=200, concurrency=4):
        delivered += page.records
    in_range = [
        r for r in world.truth_logs(project) if since <= parse_api_datetime(r["date"]) < until
    ]
    assert len(in_range) > 1000
    assert_exactly_once(delivered, in_range, all_faults)
    fired = app.state.stats.snapshot()["faults"]
    assert {"429", "5xx", "drop", "truncate", "invalid", "mutate", "latency"} <= set(fired)
    assert client.stats.retries >= fired["429"] + fired["5xx"] + fired["drop"]


async def test_requests_arrive_exactly_once_while_created_and_expiring(
    sim_client, world, now, all_faults
):
    """Both object types: every request that survives the scan arrives exactly once."""
    client, app, _ = sim_client()
    project = world.project_names[0]
    since, until = now - timedelta(days=3), now - timedelta(minutes=1)
    for object_type in OBJECT_TYPES:
        delivered = []
        async for page in iter_requests(client, project, object_type, since, until, page_size=50):
            delivered += page.records
            assert page.cursor.object_type == object_type
        survivors = [
            r
            for r in world.truth_requests(project, still_served=True)
            if (r["pipeline"] is not None) == (object_type == "pipeline")
            and since <= parse_api_datetime(r["time_created"]) < until
        ]
        counts = Counter(r["id"] for r in delivered if isinstance(r.get("id"), str))
        intact, _ = split_by_corruption(survivors, all_faults)
        assert len(intact) > 100
        assert all(counts[i] == 1 for i in intact)
        assert max(counts.values()) == 1
        ever = {r["id"] for r in world.truth_requests(project)}
        assert set(counts) <= ever
    fired = app.state.stats.snapshot()["faults"]
    assert fired["clamp"] > 0
    assert fired["mutate"] > 0


async def test_audit_events_arrive_exactly_once_across_scans(sim_client, world, all_faults):
    """A full scan and an incremental one, with events added meanwhile, miss and repeat none."""
    client, _, _ = sim_client()
    project = world.project_names[1]
    delivered = []
    cursor = None
    for _ in range(2):
        before_scan = world.truth_audit_events(project)
        async for page in iter_audit_events(client, project, known=cursor, page_size=7):
            delivered += page.records
            cursor = page.cursor
    counts = Counter(r["id"] for r in delivered if isinstance(r.get("id"), str))
    intact, _ = split_by_corruption(before_scan, all_faults)
    assert all(counts[i] == 1 for i in intact)
    assert max(counts.values()) == 1
    assert len(intact) > 20


async def test_projects_listed_are_the_visible_valid_ones(sim_client, world):
    """The token sees its organisation's projects, all with valid names."""
    client, _, _ = sim_client()
    listing = await list_projects(client)
    assert set(listing.valid) == set(world.project_names)
    assert listing.invalid == ()


async def test_snapshot_has_every_table_and_no_secret_values(sim_client, world):
    """A snapshot returns every table; secret variables come without values."""
    client, _, _ = sim_client()
    tables = await fetch_snapshot(client, world.project_names[0])
    assert all(tables[name] for name in ("projects", "project_users", "instance_types"))
    assert all(row["value"] is None for row in tables["environment_variables"] if row["secret"])


async def test_resuming_from_committed_cursors_after_a_crash_is_exact(
    sim_client, world, now, all_faults
):
    """A run stopped mid-range, resumed from each window's last committed cursor, is exact."""
    client, _, _ = sim_client()
    project = world.project_names[0]
    since, until = now - timedelta(days=3), now - timedelta(minutes=15)
    delivered, committed, done = [], {}, set()
    async for page in iter_logs(client, project, since, until, page_size=150, concurrency=3):
        delivered += page.records
        committed[page.window] = page.cursor.to_json()
        if page.window_done:
            done.add(page.window)
        if len(delivered) > 4000:
            break  # the crash: later pages of every window are lost
    resume = [LogCursor.from_json(c) for c in committed.values()]
    async for page in iter_logs(client, project, since, until, resume, page_size=150):
        delivered += page.records
    in_range = [
        r for r in world.truth_logs(project) if since <= parse_api_datetime(r["date"]) < until
    ]
    intact, _ = split_by_corruption(in_range, all_faults)
    assert {r["id"] for r in delivered if isinstance(r.get("id"), str)} >= intact
    assert len(done) < 3
