"""The baseline: what a UbiOps user writes without ubiops-etl.

The official client (`ubiops` 4.12.0, pinned in the dev lock), sequential, as its docs show:

- logs: `projects_log_list` with `LogsCreate(date=..., date_range=86400, limit=500)`, then
  the id cursor `LogsCreate(id=<last id>, date_range=86400, limit=500)`; the cursor log comes
  back first on every page and is dropped; a short page means "nothing more within 24 h of
  the cursor", so the next call starts 24 h later by date (a quiet day is not the end);
- requests: `project_requests_list` per object type with `start_date`/`end_date` and
  `limit`/`offset` until a short page; audit events: `project_audit_events_list` likewise;
- then one polars frame per table, written to Parquet.

It is correct on the benchmark's data (static world): the runner compares its ids with the
ETL's lake. Run it in its own process to measure it:

    python -m bench.baseline '{"host": ..., "token": ..., "since": ..., "until": ..., "out": ...}'
"""

from __future__ import annotations

import resource
import time

T0_WALL = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import polars as pl  # noqa: E402
import ubiops  # noqa: E402

LOG_LIMIT = 500
REQUEST_LIMIT = 50
AUDIT_LIMIT = 100
DAY = timedelta(days=1)


def _to_dt(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def fetch_logs(api: ubiops.CoreApi, project: str, since: datetime, until: datetime) -> list[dict]:
    """Every log with since <= date < until, by the id cursor."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    start = since
    cursor: str | None = None
    cursor_date = since
    while True:
        if cursor is not None:
            body = ubiops.LogsCreate(id=cursor, date_range=86400, limit=LOG_LIMIT)
        else:
            assert start is not None
            body = ubiops.LogsCreate(date=start.isoformat(), date_range=86400, limit=LOG_LIMIT)
        page = api.projects_log_list(project, data=body)
        records = [log.to_dict() for log in page]
        fresh = [r for r in records if r["id"] not in seen]
        past_end = False
        for record in fresh:
            if _to_dt(record["date"]) >= until:
                past_end = True
                continue
            seen.add(record["id"])
            out.append(record)
        if past_end:
            return out
        if len(records) >= LOG_LIMIT:
            cursor, cursor_date = records[-1]["id"], _to_dt(records[-1]["date"])
            continue
        # Short page: nothing more within 24 h of where this call started, which is the
        # cursor log's date (or `start` for a call by date); go on 24 h later by date.
        start = (cursor_date if cursor is not None else start) + DAY
        cursor = None
        if start >= until:
            return out


def fetch_requests(
    api: ubiops.CoreApi, project: str, object_type: str, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = api.project_requests_list(
            project,
            object_type,
            start_date=since.isoformat(),
            end_date=until.isoformat(),
            limit=REQUEST_LIMIT,
            offset=offset,
        )
        for item in page:
            record = item.to_dict()
            record["object_type"] = object_type
            out.append(record)
        if len(page) < REQUEST_LIMIT:
            return out
        offset += REQUEST_LIMIT


def fetch_audit(api: ubiops.CoreApi, project: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = api.project_audit_events_list(project, limit=AUDIT_LIMIT, offset=offset)
        out.extend(item.to_dict() for item in page)
        if len(page) < AUDIT_LIMIT:
            return out
        offset += AUDIT_LIMIT


def write(records: list[dict[str, Any]], path: Path) -> int:
    if not records:
        return 0
    frame = pl.DataFrame(records, infer_schema_length=None)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return frame.height


def run(host: str, token: str, since: datetime, until: datetime, out: Path) -> dict[str, Any]:
    configuration = ubiops.Configuration(host=host)
    configuration.api_key["Authorization"] = f"Token {token}"
    api_client = ubiops.ApiClient(configuration)
    api = ubiops.CoreApi(api_client)
    rows: dict[str, int] = {"logs": 0, "requests": 0, "audit_events": 0}
    try:
        for project in [p.name for p in api.projects_list()]:
            logs = fetch_logs(api, project, since, until)
            rows["logs"] += write(logs, out / "logs" / f"{project}.parquet")
            del logs
            requests = fetch_requests(api, project, "deployment", since, until)
            requests += fetch_requests(api, project, "pipeline", since, until)
            rows["requests"] += write(requests, out / "requests" / f"{project}.parquet")
            audit = fetch_audit(api, project)
            rows["audit_events"] += write(audit, out / "audit_events" / f"{project}.parquet")
    finally:
        api_client.close()
    return rows


def peak_rss_mb() -> float:
    """Peak RSS of this process's own address space (see bench/etl_child.py)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    params = json.loads(sys.argv[1])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0, wall0 = usage.ru_utime + usage.ru_stime, time.perf_counter()
    rows = run(
        params["host"],
        params["token"],
        datetime.fromisoformat(params["since"]),
        datetime.fromisoformat(params["until"]),
        Path(params["out"]),
    )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "wall_s": time.perf_counter() - wall0,
        "cpu_s": usage.ru_utime + usage.ru_stime - cpu0,
        "peak_rss_mb": peak_rss_mb(),
        "rows": rows,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
