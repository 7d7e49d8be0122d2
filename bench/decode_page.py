"""Issue 14, one page at a time: CPU ms per page of the record path and of the columnar
path, step by step (decode, paginator, normalise), on a page the simulator serves.

    .venv/bin/python -m bench.decode_page [--stream logs] [--limit 500] [--rounds 300]

`--stream logs` (POST /logs, columns), `lines` (GET /logs of today's API, structs; limit
5000 as the ETL asks), `requests` (GET /requests with `sort=asc`, structs; limit 50 as the
ETL asks) or `audit_events` (GET /audit, structs; limit 100). The struct paths' columns are
built in the decode step (requests, audit) or the paginator step (lines, whose content ids
the paginator's occurrence counts decide).

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

from extract import (
    AuditPaginator,
    LogCursor,
    LogPaginator,
    RequestCursor,
    RequestPaginator,
)
from extract.line_columns import LinePage, decode_line_page
from extract.log_columns import LogColumns, decode_log_page
from extract.log_lines import datetime_to_ns, format_ns
from extract.logs_current import CurrentLogPaginator
from extract.paging import Paginator
from extract.record_columns import RecordColumns, decode_audit_page, decode_request_page
from simulator import Faults, ManualClock, WorldSpec, create_app, generate_world
from transform import normalize, normalize_columns

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


START = NOW - timedelta(days=2)


async def fetch_page(limit: int, stream: str = "logs") -> bytes:
    """The body of one call for `limit` records of `stream`, two days back in a generated
    world (audit events: the newest)."""
    spec = WorldSpec(seed=5, projects=1, days=3, logs_per_day=20_000, requests_per_day=2_000)
    world = generate_world(spec, now=NOW)
    api = "current" if stream == "lines" else "legacy"
    app = create_app(world, clock=ManualClock(NOW), faults=Faults(), api=api)
    project = world.project_names[0]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=f"http://sim/v2.1/projects/{project}",
        headers={"Authorization": f"Token {world.token}"},
    ) as http:
        if stream == "logs":
            body = {"filters": {}, "limit": limit, "date": START.isoformat()}
            response = await http.post("/logs", json={**body, "date_range": 86_400})
        elif stream == "lines":
            params = {"start": format_ns(datetime_to_ns(START)), "limit": str(limit)}
            params["end"] = format_ns(datetime_to_ns(START + timedelta(days=1)))
            response = await http.get("/logs", params=params)
        elif stream == "requests":
            params = {"object_type": "deployment", "start_date": START.isoformat()}
            params |= {"end_date": NOW.isoformat(), "sort": "asc", "limit": str(limit)}
            response = await http.get("/requests", params=params)
        else:
            response = await http.get("/audit", params={"limit": str(limit)})
        response.raise_for_status()
        return response.content


def paginator_for(stream: str, limit: int) -> Paginator[object]:
    if stream == "logs":
        return LogPaginator("p", LogCursor(START, START + timedelta(days=1)), limit=limit)
    if stream == "requests":
        return RequestPaginator("p", RequestCursor("deployment", START, NOW), limit=limit)
    return AuditPaginator("p", limit=limit)


DECODERS = {
    "logs": decode_log_page,
    "lines": decode_line_page,
    "requests": decode_request_page,
    "audit_events": decode_audit_page,
}


def _frame_of(page: Any) -> Any:
    """The page's columns, built (structs build them on first use)."""
    return page.frame


def cpu_ms(step: Callable[[], Any], rounds: int) -> float:
    step()
    start = time.process_time()
    for _ in range(rounds):
        step()
    return (time.process_time() - start) / rounds * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stream", default="logs", choices=sorted(DECODERS))
    parser.add_argument("--limit", type=int, default=None, help="500, 50, 100 by stream")
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    stream = args.stream
    limits = {"logs": 500, "lines": 5000, "requests": 50, "audit_events": 100}
    limit = args.limit or limits[stream]
    body = asyncio.run(fetch_page(limit, stream))
    if stream == "lines":
        print_steps(stream, body, lines_steps(body, limit, args.rounds))
        return
    decode = DECODERS[stream]
    records, columns = json.loads(body), decode(body)
    if not isinstance(columns, LogColumns | RecordColumns):
        raise SystemExit("the simulator's page did not take the columnar path")
    paginator = paginator_for(stream, limit)
    options: dict[str, Any] = {"project": "p", "extracted_at": NOW}
    if stream == "requests":
        options["object_type"] = "deployment"
    rounds, batch = args.rounds, max(1, args.rounds // 10)
    steps = {
        "decode": (
            cpu_ms(lambda: json.loads(body), rounds),
            cpu_ms(lambda: _frame_of(decode(body)), rounds),
        ),
        "paginator advance": (
            cpu_ms(lambda: paginator.advance(records), rounds),
            cpu_ms(lambda: paginator.advance(columns), rounds),
        ),
        "normalise (per page, 10 at once)": (
            cpu_ms(lambda: normalize(stream, records * 10, **options), batch) / 10,
            cpu_ms(lambda: normalize_columns(stream, [columns] * 10, **options), batch) / 10,
        ),
    }
    print_steps(stream, body, steps)


def lines_steps(body: bytes, limit: int, rounds: int) -> dict[str, tuple[float, float]]:
    """The steps of a GET /logs page; the struct path's columns (content ids) are built in
    the paginator step."""
    records, page = json.loads(body), decode_line_page(body)
    if not isinstance(page, LinePage):
        raise SystemExit("the simulator's page did not take the struct path")
    paginator = CurrentLogPaginator("p", LogCursor(START, START + timedelta(days=1)), limit=limit)
    new_records, new_lines = paginator.advance(records)[1], paginator.advance(page)[1]
    batch = max(1, rounds // 10)
    return {
        "decode": (
            cpu_ms(lambda: json.loads(body), rounds),
            cpu_ms(lambda: decode_line_page(body), rounds),
        ),
        "paginator advance (+ columns)": (
            cpu_ms(lambda: paginator.advance(records), rounds),
            cpu_ms(lambda: _frame_of(paginator.advance(page)[1]), rounds),
        ),
        "normalise (per page)": (
            cpu_ms(lambda: normalize("logs", new_records, project="p", extracted_at=NOW), batch),
            cpu_ms(
                lambda: normalize_columns("logs", [new_lines], project="p", extracted_at=NOW), batch
            ),
        ),
    }


def print_steps(stream: str, body: bytes, steps: dict[str, tuple[float, float]]) -> None:
    count = len(json.loads(body))
    print(f"{count} {stream}, {len(body):,} bytes a page; CPU ms per page")
    print(f"{'step':34} {'records':>8} {'columns':>8}")
    for name, (old, new) in steps.items():
        print(f"{name:34} {old:8.3f} {new:8.3f}")
    total_old, total_new = (sum(pair[i] for pair in steps.values()) for i in (0, 1))
    print(f"{'sum':34} {total_old:8.3f} {total_new:8.3f}")


if __name__ == "__main__":
    main()
