"""The client against the simulator: auth failures, server rate limits, and a real socket."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from pydantic import SecretStr

from extract import (
    AuthError,
    ClientConfig,
    RetryPolicy,
    iter_audit_events,
    iter_logs,
    iter_requests,
    open_client,
)
from extract.timeutil import parse_api_datetime
from simulator import Faults, ManualClock, create_app, serve_in_thread


async def test_401_ends_with_one_line_naming_host_and_variable(sim_client, world, now, caplog):
    """A rejected token: one call, no retry, a one-line message with host and variable."""
    bad_token = "not-the-token-" + world.token[::-1]
    client, app, _ = sim_client(faults=Faults(), token=bad_token)
    with pytest.raises(AuthError) as raised:
        async for _ in iter_logs(client, world.project_names[0], now - timedelta(days=1), now):
            pass
    message = str(raised.value)
    assert app.state.stats.snapshot()["statuses"] == {"401": 1}
    assert "http://simulator.test/v2.1" in message
    assert "UBIOPS_API_TOKEN" in message
    assert "\n" not in message
    assert bad_token not in message
    assert bad_token not in caplog.text
    assert bad_token not in repr(raised.value)


async def test_pacing_follows_the_server_limit_at_95_percent_without_429(sim_client, world, now):
    """A server enforcing (and stating) 300/min: the client, with no cap of its own, uses at
    least 95% of it and collects at most 2 responses 429."""
    faults = Faults(rate_limit_per_min=300)
    client, app, clock = sim_client(faults=faults)
    async for _ in iter_logs(
        client, world.project_names[0], now - timedelta(days=3), now, page_size=20, concurrency=4
    ):
        pass
    calls = client.stats.calls
    assert calls > 600
    assert app.state.stats.served_429 <= 2
    assert calls / (clock.now / 60) >= 0.95 * 300
    assert calls / (clock.now / 60) <= 300


async def test_throttled_client_honours_reset_headers_and_loses_nothing(sim_client, world, now):
    """A server that throttles beyond its stated limit (other clients share it): the client
    waits each reset, slows down, and loses nothing."""
    faults = Faults(rate_limit_per_min=300, p_429=0.05, seed=3)
    client, app, _ = sim_client(
        faults=faults,
        retry=RetryPolicy(max_attempts=10, max_total_s=600),
    )
    project = world.project_names[0]
    since, until = now - timedelta(days=3), now
    delivered = []
    async for page in iter_logs(client, project, since, until, page_size=20, concurrency=4):
        delivered += page.records
    expected = [
        r for r in world.truth_logs(project) if since <= parse_api_datetime(r["date"]) < until
    ]
    assert Counter(r["id"] for r in delivered) == Counter(r["id"] for r in expected)
    assert app.state.stats.served_429 > 0
    assert client.stats.groups["general"].throttled == app.state.stats.served_429


async def test_real_socket_delivers_every_stream_exactly_once(world, now):
    """Over a real loopback socket (connections really dropped), every stream is exact."""
    all_faults = Faults(
        p_429=0.05,
        p_5xx=0.05,
        latency_s=0.002,
        p_drop=0.1,
        p_truncate=0.05,
        clamp_limit=40,
        p_invalid=0.01,
        mutate_during_paging=True,
        seed=3,
    )
    app = create_app(world, clock=ManualClock(now), faults=all_faults)
    project = world.project_names[1]
    since, until = now - timedelta(days=3), now - timedelta(minutes=15)
    with serve_in_thread(app) as server:
        config = ClientConfig(
            host=server.base_url,
            token=SecretStr(world.token),
            retry=RetryPolicy(wait=False, max_attempts=25),
        )
        async with open_client(config) as client:
            logs = [
                r
                async for p in iter_logs(client, project, since, until, page_size=100)
                for r in p.records
            ]
            requests = [
                r
                async for p in iter_requests(client, project, "pipeline", since, until)
                for r in p.records
            ]
            events_before = world.truth_audit_events(project)
            events = [r async for p in iter_audit_events(client, project) for r in p.records]
    fired = app.state.stats.snapshot()["faults"]
    assert {"429", "5xx", "drop", "truncate", "invalid", "mutate", "clamp"} <= set(fired)
    for delivered in (logs, requests, events):
        counts = Counter(r["id"] for r in delivered if isinstance(r.get("id"), str))
        assert max(counts.values()) == 1
    assert _ids(logs) == _intact(
        world.truth_logs(project), "date", since, until, all_faults, expect_id=True
    )
    survivors = [r for r in world.truth_requests(project, still_served=True) if r["pipeline"]]
    assert _ids(requests) >= _intact(survivors, "time_created", since, until, all_faults)
    assert _ids(requests) <= {r["id"] for r in world.truth_requests(project)}
    assert _ids(events) >= _intact(events_before, "date", None, None, all_faults)


def _ids(records):
    return {r["id"] for r in records if isinstance(r.get("id"), str)}


def _intact(truth, field, since, until, faults, expect_id=False):
    """Ids of truth records in [since, until) that the fault plan serves with their id."""
    out = set()
    for record in truth:
        how = faults.corruption(record["id"])
        if how == 3 or (how is not None and not expect_id):
            continue
        moment = parse_api_datetime(record[field])
        if since is None or since <= moment < until:
            out.add(record["id"])
    return out
