"""Requests with today's semantics against the simulator's current API."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from extract import iter_requests
from extract.timeutil import parse_api_datetime
from simulator import Faults

NO_FAULTS = Faults()


async def test_current_requests_list_every_finished_request_once(sim_client, world, now):
    """The current list (no sort, one status per call): every finished request of the window
    once, failures and cancellations included; in-flight ones are not listed yet."""
    project = world.project_names[0]
    since, until = now - timedelta(days=2), now - timedelta(hours=1)
    client, _, _ = sim_client(faults=NO_FAULTS, api="current")
    delivered = [
        r
        async for page in iter_requests(client, project, "deployment", since, until)
        for r in page.records
    ]
    assert client.traits.requests_api == "current"
    finished = {
        r["id"]: r["status"]
        for r in world.truth_requests(project, still_served=True)
        if r.get("deployment")
        and r["status"] in ("completed", "failed", "cancelled")
        and since <= parse_api_datetime(r["time_created"]) < until
    }
    assert Counter(r["id"] for r in delivered) == Counter(finished.keys())
    assert {r["status"] for r in delivered} >= {"completed", "failed"}
