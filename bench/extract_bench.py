"""Benchmark of the log extractor against the simulator over a real socket, with latency.

Reports API calls per N logs versus the minimum (ceil(N / page size) plus one per 24 h
window) and wall time with concurrent windows versus a sequential run of the same
paginators. Client-side pacing is switched off here: at the default 290 calls/min any
run is bounded below by calls / 290 minutes, which the report states separately.

    .venv/bin/python bench/extract_bench.py --logs 1000000 --latency 0.02 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection

from pydantic import SecretStr

from extract import ClientConfig, RetryPolicy, iter_logs, open_client
from extract.timeutil import parse_api_datetime
from simulator import (
    Faults,
    ManualClock,
    World,
    WorldSpec,
    create_app,
    generate_world,
    serve_in_thread,
)

NOW = datetime(2026, 3, 10, tzinfo=UTC)
DAYS = 10
# The generator's quiet period and daily rhythm leave ~86% of the nominal rate.
YIELD = 0.865


@dataclass
class RunResult:
    label: str
    concurrency: int
    calls: int
    logs: int
    unique: int
    seconds: float
    client_cpu_s: float
    load_before: float


def build_world(target_logs: int) -> World:
    per_day = target_logs / DAYS / YIELD
    spec = WorldSpec(seed=1, projects=1, days=DAYS, logs_per_day=per_day, requests_per_day=5)
    return generate_world(spec, now=NOW)


async def run_once(
    base_url: str, token: str, project: str, concurrency: int, page: int
) -> RunResult:
    config = ClientConfig(
        host=base_url,
        token=SecretStr(token),
        rate_per_minute=1e9,
        max_concurrency=max(concurrency, 1),
        retry=RetryPolicy(wait=False),
    )
    ids: set[str] = set()
    delivered = 0
    load_before = os.getloadavg()[0]
    cpu_started = time.process_time()
    started = time.perf_counter()
    async with open_client(config) as client:
        since = NOW - timedelta(days=DAYS)
        async for result_page in iter_logs(
            client, project, since, NOW, page_size=page, concurrency=concurrency
        ):
            delivered += len(result_page.records)
            ids.update(r["id"] for r in result_page.records)
        calls = client.stats.calls
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    label = "sequential" if concurrency == 1 else f"{concurrency} windows at once"
    return RunResult(label, concurrency, calls, delivered, len(ids), seconds, cpu, load_before)


def report(n_logs: int, page: int, latency: float, results: list[RunResult], where: str) -> str:
    minimum = math.ceil(n_logs / page) + DAYS
    lines = [
        f"logs in range: {n_logs:,}; page size {page}; {DAYS} windows of 24 h; "
        f"simulator latency {latency * 1000:.0f} ms per call; real loopback socket; "
        f"simulator in {where}",
        f"minimum calls (ceil(N/page) + one per window): {minimum:,}",
        "",
        "| run | API calls | calls / minimum | per 1,000,000 logs | delivered (unique) | wall s "
        "| client CPU s | load avg before |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        per_million = r.calls * 1_000_000 / n_logs
        lines.append(
            f"| {r.label} | {r.calls:,} | {r.calls / minimum:.3f} | {per_million:,.0f} | "
            f"{r.logs:,} ({r.unique:,}) | {r.seconds:.1f} | {r.client_cpu_s:.1f} | "
            f"{r.load_before:.1f} |"
        )
    sequential = next(r for r in results if r.concurrency == 1)
    for r in results:
        if r.concurrency > 1:
            lines.append(
                f"\nspeed-up of {r.label} over sequential: {sequential.seconds / r.seconds:.1f}x"
            )
    floor_min = min(r.calls for r in results) / 290
    lines.append(f"at the default pace of 290 calls/min the same calls take >= {floor_min:.1f} min")
    return "\n".join(lines)


def serve_child(target_logs: int, latency: float, conn: Connection) -> None:
    """The simulator in its own process (its own GIL), so client and server do not share a
    CPU the way two threads of one interpreter would."""
    world = build_world(target_logs)
    app = create_app(world, clock=ManualClock(NOW), faults=Faults(latency_s=latency))
    with serve_in_thread(app) as server:
        conn.send(server.base_url)
        conn.recv()  # until the parent says stop


@contextmanager
def simulator(target_logs: int, latency: float, separate: bool) -> Iterator[str]:
    """The base URL of a simulator serving the benchmark world."""
    if not separate:
        world = build_world(target_logs)
        app = create_app(world, clock=ManualClock(NOW), faults=Faults(latency_s=latency))
        with serve_in_thread(app) as server:
            yield server.base_url
        return
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=serve_child, args=(target_logs, latency, child))
    process.start()
    try:
        yield parent.recv()
    finally:
        parent.send("stop")
        process.join(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=1_000_000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 8])
    parser.add_argument(
        "--same-process", action="store_true", help="serve from a thread of this process"
    )
    args = parser.parse_args()
    world = build_world(args.logs)  # the same seed gives the server's world: the truth
    project = world.project_names[0]
    since = NOW - timedelta(days=DAYS)
    n_logs = sum(
        1 for r in world.truth_logs(project) if since <= parse_api_datetime(r["date"]) < NOW
    )
    results = []
    with simulator(args.logs, args.latency, separate=not args.same_process) as base_url:
        for concurrency in (1, *args.concurrency):
            result = asyncio.run(
                run_once(base_url, world.token, project, concurrency, args.page_size)
            )
            print(
                f"{result.label}: {result.calls} calls, {result.unique} logs, {result.seconds:.1f}s"
            )
            if not result.logs == result.unique == n_logs:
                raise SystemExit(f"not exactly once: {result.logs} delivered, {n_logs} expected")
            results.append(result)
    where = "a thread of the client's process" if args.same_process else "its own process"
    print(report(n_logs, args.page_size, args.latency, results, where))


if __name__ == "__main__":
    main()
