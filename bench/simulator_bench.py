"""Benchmark of the simulator: generating ~1M logs, and serving pages of 500.

Run: .venv/bin/python bench/simulator_bench.py   (figures recorded in bench/simulator.md)
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import psutil

from simulator import ManualClock, World, WorldSpec, create_app, generate_world, serve_in_thread

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
SPEC = WorldSpec(
    seed=1, projects=1, days=10, logs_per_day=115_000, requests_per_day=2_000, foreign_projects=0
)


def rss_mb() -> float:
    return float(psutil.Process(os.getpid()).memory_info().rss) / 1e6


def bench_generation() -> World:
    before = rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    world = generate_world(SPEC, now=NOW)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    project = world.projects[world.project_names[0]]
    count = len(project.logs)
    print(
        f"generate: {count:,} logs, {len(project.requests['deployment']):,} deployment "
        f"requests in {seconds:.2f} s wall / {cpu:.2f} s CPU ({count / seconds:,.0f} logs/s), "
        f"+{rss_mb() - before:.0f} MB RSS"
    )
    return world


def sweep_bodies(world: World) -> tuple[str, dict[str, Any]]:
    project = world.project_names[0]
    first = world.projects[project].logs
    start = first.render(first.visible_seqs(world.as_of_ns)[0])["date"]
    return project, {"date": start, "date_range": 86_400, "limit": 500}


async def sweep_async(
    client: httpx.AsyncClient, project: str, body: dict[str, Any], pages: int
) -> list[float]:
    """Page forward by id cursor, timing each call."""
    timings: list[float] = []
    for _ in range(pages):
        started = time.perf_counter()
        response = await client.post(f"/projects/{project}/logs", json=body)
        timings.append(time.perf_counter() - started)
        page = response.json()
        if len(page) < 2:
            break
        body = {"id": page[-1]["id"], "date_range": 86_400, "limit": 500}
    return timings


def sweep_socket(
    client: httpx.Client, project: str, body: dict[str, Any], pages: int
) -> list[float]:
    timings: list[float] = []
    for _ in range(pages):
        started = time.perf_counter()
        response = client.post(f"/projects/{project}/logs", json=body)
        timings.append(time.perf_counter() - started)
        page = response.json()
        if len(page) < 2:
            break
        body = {"id": page[-1]["id"], "date_range": 86_400, "limit": 500}
    return timings


def report(label: str, timings: list[float], per_page: int = 500) -> None:
    total = sum(timings)
    p50 = statistics.median(timings) * 1000
    p95 = sorted(timings)[int(len(timings) * 0.95) - 1] * 1000
    print(
        f"{label}: {len(timings)} pages, {len(timings) / total:,.0f} pages/s, "
        f"{len(timings) * per_page / total:,.0f} logs/s, p50 {p50:.1f} ms, p95 {p95:.1f} ms"
    )


async def bench_in_process(world: World) -> None:
    app = create_app(world, clock=ManualClock(NOW))
    project, body = sweep_bodies(world)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Token {world.token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sim/v2.1", headers=headers
    ) as client:
        timings = await sweep_async(client, project, body, 400)
        report("logs, in-process (ASGITransport), limit 500", timings)
        filtered = {"filters": {"level": "error"}, "date_range": -86_400, "limit": 500}
        report(
            "logs filtered level=error, in-process",
            await sweep_async(client, project, filtered, 1),
            per_page=500,
        )
        timings = []
        for offset in range(0, 5_000, 500):
            started = time.perf_counter()
            await client.get(
                f"/projects/{project}/requests",
                params={"object_type": "deployment", "limit": 500, "offset": offset, "sort": "asc"},
            )
            timings.append(time.perf_counter() - started)
        report("requests, in-process, limit 500", timings)


def bench_socket(world: World) -> None:
    app = create_app(world, clock=ManualClock(NOW))
    project, body = sweep_bodies(world)
    with (
        serve_in_thread(app) as server,
        httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Token {world.token}"}
        ) as client,
    ):
        report(
            "logs, real socket (uvicorn + httpx), limit 500",
            sweep_socket(client, project, body, 400),
        )
        print(f"stats: {app.state.stats.snapshot()['calls']}")


def main() -> None:
    print(f"python {sys.version.split()[0]} on {platform.machine()}, {os.cpu_count()} CPUs")
    world = bench_generation()
    asyncio.run(bench_in_process(world))
    bench_socket(world)


if __name__ == "__main__":
    main()
