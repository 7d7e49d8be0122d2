"""Issue 14, one page at a time: CPU ms per POST /logs page of the record path and of the
columnar path, step by step (decode, paginator, normalise), on a page the simulator serves.

    .venv/bin/python -m bench.decode_page [--limit 500] [--rounds 300]

Normalisation is timed on ten pages at once (the sink's 5,000-row batches) and divided by
ten. CPU time of the process (all threads).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from extract import LogCursor, LogPaginator
from extract.log_columns import LogColumns, decode_log_page
from simulator import Faults, ManualClock, WorldSpec, create_app, generate_world
from transform import normalize, normalize_columns

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def fetch_page(limit: int) -> bytes:
    """The body of one POST /logs call of `limit` logs, two days back in a generated world."""
    spec = WorldSpec(seed=5, projects=1, days=3, logs_per_day=20_000, requests_per_day=10)
    world = generate_world(spec, now=NOW)
    app = create_app(world, clock=ManualClock(NOW), faults=Faults(), api="legacy")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        body = {"filters": {}, "limit": limit, "date": (NOW - timedelta(days=2)).isoformat()}
        response = await http.post(
            f"http://sim/v2.1/projects/{world.project_names[0]}/logs",
            json={**body, "date_range": 86_400},
            headers={"Authorization": f"Token {world.token}"},
        )
        response.raise_for_status()
        return response.content


def cpu_ms(step: Callable[[], Any], rounds: int) -> float:
    step()
    start = time.process_time()
    for _ in range(rounds):
        step()
    return (time.process_time() - start) / rounds * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    body = asyncio.run(fetch_page(args.limit))
    records, columns = json.loads(body), decode_log_page(body)
    if not isinstance(columns, LogColumns):
        raise SystemExit("the simulator's page did not take the columnar path")
    start = NOW - timedelta(days=2)
    paginator = LogPaginator("p", LogCursor(start, start + timedelta(days=1)), limit=args.limit)
    rounds, batch = args.rounds, max(1, args.rounds // 10)
    steps = {
        "decode": (
            cpu_ms(lambda: json.loads(body), rounds),
            cpu_ms(lambda: decode_log_page(body), rounds),
        ),
        "paginator advance": (
            cpu_ms(lambda: paginator.advance(records), rounds),
            cpu_ms(lambda: paginator.advance(columns), rounds),
        ),
        "normalise (per page, 10 at once)": (
            cpu_ms(lambda: normalize("logs", records * 10, project="p", extracted_at=NOW), batch)
            / 10,
            cpu_ms(
                lambda: normalize_columns("logs", [columns] * 10, project="p", extracted_at=NOW),
                batch,
            )
            / 10,
        ),
    }
    print(f"{len(records)} logs, {len(body):,} bytes a page; CPU ms per page")
    print(f"{'step':34} {'records':>8} {'columns':>8}")
    for name, (old, new) in steps.items():
        print(f"{name:34} {old:8.3f} {new:8.3f}")
    total_old, total_new = (sum(pair[i] for pair in steps.values()) for i in (0, 1))
    print(f"{'sum':34} {total_old:8.3f} {total_new:8.3f}")


if __name__ == "__main__":
    main()
