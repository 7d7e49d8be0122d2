"""Both log endpoints against the simulator, API selection, and a switch between two syncs.

Judged by content (timestamp to the microsecond, text, source): the two endpoints give a
line different ids (an ObjectId, a content id), so content is what must match the truth.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta
from typing import Any

from extract import iter_logs
from extract.timeutil import parse_api_datetime
from simulator import Faults

NO_FAULTS = Faults()
SOURCE = ("deployment_name", "pipeline_name", "environment_name", "system", "level")


def content(record: dict[str, Any]) -> tuple[Any, ...]:
    return (parse_api_datetime(record["date"]), record["log"], *(record.get(k) for k in SOURCE))


def truth(world, project, since, until) -> Counter[tuple[Any, ...]]:
    return Counter(
        content(r)
        for r in world.truth_logs(project)
        if since <= parse_api_datetime(r["date"]) < until
    )


async def collect(client, project, since, until, **options):
    records = []
    async for page in iter_logs(client, project, since, until, **options):
        records += page.records
    return records


async def test_current_api_delivers_every_line_once_with_stable_content_ids(sim_client, world, now):
    """GET /logs: every line of three days once (by content), with content ids that are
    unique and the same on a second run, in ceil(N/5000) calls plus one per window."""
    project = world.project_names[0]
    since, until = now - timedelta(days=3), now
    client, app, _ = sim_client(faults=NO_FAULTS, api="current", log_api="current")
    first = await collect(client, project, since, until)
    expected = truth(world, project, since, until)
    assert Counter(content(r) for r in first) == expected
    assert len({r["id"] for r in first}) == len(first)
    assert all(len(r["id"]) == 32 for r in first)
    assert client.stats.calls <= math.ceil(len(first) / 5000) + 4
    again, _, _ = sim_client(faults=NO_FAULTS, api="current", log_api="current")
    assert sorted(r["id"] for r in await collect(again, project, since, until)) == sorted(
        r["id"] for r in first
    )
    assert app.state.stats.snapshot()["statuses"] == {"200": client.stats.calls}


async def test_current_api_is_exact_under_every_fault(sim_client, world, now, all_faults):
    """429s, 5xx, drops, truncation and small pages: still every line once (by content)."""
    project = world.project_names[1]
    since, until = now - timedelta(days=2), now - timedelta(hours=3)
    client, _, _ = sim_client(faults=all_faults, api="current", log_api="current")
    records = await collect(client, project, since, until, page_size=300, concurrency=3)
    valid = [r for r in records if "date" in r and "log" in r]
    assert Counter(content(r) for r in valid) == truth(world, project, since, until)


async def test_auto_uses_the_post_where_the_server_has_it(sim_client, world, now):
    """auto on a v2.1 server: POST /logs with its ids; 5,000 is refused (400) once per window
    at most, then 500 is asked for."""
    project = world.project_names[0]
    since, until = now - timedelta(days=2), now
    client, app, _ = sim_client(faults=NO_FAULTS, api="legacy")
    records = await collect(client, project, since, until, concurrency=1)
    assert client.traits.log_api == "legacy"
    assert client.traits.log_limit == 500
    assert all(len(r["id"]) == 24 for r in records)
    assert Counter(content(r) for r in records) == truth(world, project, since, until)
    assert app.state.stats.snapshot()["statuses"].get("400") == 1


async def test_auto_switches_to_get_when_the_post_is_gone(sim_client, world, now):
    """auto on a current server: POST /logs answers 404, the run switches to GET /logs
    once, and every line arrives once."""
    project = world.project_names[0]
    since, until = now - timedelta(days=2), now
    client, app, _ = sim_client(faults=NO_FAULTS, api="current")
    records = await collect(client, project, since, until, concurrency=1)
    assert client.traits.log_api == "current"
    assert Counter(content(r) for r in records) == truth(world, project, since, until)
    assert app.state.stats.snapshot()["statuses"].get("404") == 1


async def test_a_server_dropping_the_post_between_two_syncs_loses_and_repeats_nothing(
    sim_client, world, now
):
    """The first sync stops part-way on the POST; the next one finds it gone (404) and goes
    on with GET /logs from the committed cursors: the union is the truth, by content."""
    project = world.project_names[1]
    since, until = now - timedelta(days=3), now
    legacy, _, _ = sim_client(faults=NO_FAULTS, api="legacy", log_page_size=500)
    first: list[dict[str, Any]] = []
    cursors = {}
    async for page in iter_logs(legacy, project, since, until, concurrency=2):
        first += page.records
        cursors[page.cursor.window_start] = page.cursor
        if len(first) > 2_500:
            break
    assert any(not c.done for c in cursors.values())
    current, _, _ = sim_client(faults=NO_FAULTS, api="current")
    second = await collect(current, project, since, until, resume=list(cursors.values()))
    assert current.traits.log_api == "current"
    assert Counter(content(r) for r in first + second) == truth(world, project, since, until)
