"""One lake measurement in a fresh process, with whichever `warehouse` package is first on the path.

    python -m bench.lake_child '{"mode": "write" | "queries" | "compaction", "root": ..., ...}'

bench/lake_bench.py runs it twice per figure: with the current tree (Delta tables) and with the
plain-Parquet `warehouse` and `transform` of commit 0169d41 extracted to bench/.work/legacy and
put first on PYTHONPATH (and as the working directory, since `-m` puts the cwd first). CPU is
`getrusage(RUSAGE_SELF)` (user + system, all threads) summed over the `Lake.write` calls only
(generating the frames is not counted); peak RSS is `VmHWM`. Prints one JSON line.
"""

from __future__ import annotations

import json
import re
import resource
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import warehouse
from bench.lake_frames import BASE, log_frame, request_frame
from warehouse import Lake, run_sql

FLAVOR = "delta" if hasattr(warehouse, "LakeLocation") else "legacy"
ERROR_MART = """SELECT day, deployment_name, error_logs FROM mart_error_logs_daily
ORDER BY day, deployment_name"""
REQUESTS_MART = """SELECT day, object_name AS deployment, requests, failure_rate, p95_run_seconds
FROM mart_requests_daily WHERE object_type = 'deployment' ORDER BY day, deployment"""
FULL_COUNT = "SELECT count(*), count(DISTINCT deployment_name), max(date) FROM logs"


def cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def location(root: str) -> Any:
    """What `run_sql`/`connect` take in this flavor: a LakeLocation, or the old Path."""
    if FLAVOR == "delta":
        return warehouse.LakeLocation.parse(root)
    return Path(root)


def data_files(root: str, table: str) -> Counter[str]:
    """Parquet data files on disk per partition directory (Delta's `_delta_log` excluded)."""
    base = Path(root) / table
    found = [p for p in base.rglob("*.parquet") if "_delta_log" not in p.parts]
    return Counter(str(p.parent.relative_to(base)) for p in found)


def live_files(lake: Lake, root: str, table: str) -> Counter[str]:
    """Files of the table's current version per partition (Delta), else the files on disk."""
    if FLAVOR != "delta":
        return data_files(root, table)
    uris = lake.tables.live_files(table) or []
    base = str(Path(root) / table) + "/"
    return Counter(u.removeprefix("file://").removeprefix(base).rsplit("/", 1)[0] for u in uris)


def timed_writes(lake: Lake, table: str, frames: Any) -> dict[str, Any]:
    """Write every frame; CPU and wall seconds inside `Lake.write` only, in all and each."""
    cpu = wall = 0.0
    rows = 0
    each: list[float] = []
    for frame in frames:
        c0, w0 = cpu_now(), time.perf_counter()
        rows += lake.write(table, frame).rows_written
        each.append(cpu_now() - c0)
        cpu += each[-1]
        wall += time.perf_counter() - w0
    return {
        "cpu_s": cpu,
        "wall_s": wall,
        "rows_written": rows,
        "writes": len(each),
        "cpu_per_write_s": each,
    }


def logs(total: int, batch: int, days: float) -> Any:
    return (log_frame(s, min(batch, total - s), days, total) for s in range(0, total, batch))


def mode_write(p: dict[str, Any]) -> dict[str, Any]:
    """CPU of writing `rows` logs in batches of `batch` into a fresh lake, then a re-run."""
    lake = Lake.open(p["root"])
    first = timed_writes(lake, "logs", logs(p["rows"], p["batch"], p["days"]))
    rss = peak_rss_mb()
    rerun = timed_writes(lake, "logs", logs(p["rows"], p["batch"], p["days"]))
    files = data_files(p["root"], "logs")
    return {"first": first, "rerun": rerun, "peak_rss_mb": rss, "files": sum(files.values())}


def _times(sql: str, loc: Any, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run_sql(loc, sql)
        out.append(time.perf_counter() - t0)
    return out


def _scan_lines(plan: str) -> list[str]:
    keys = ("Scanning Files:", "Total Files Read:", "File Filters:")
    cells = [c.strip() for line in plan.splitlines() for c in line.split("│")]
    return [c for c in cells if c.startswith(keys)]


def explain(loc: Any, sql: str) -> dict[str, Any]:
    """EXPLAIN ANALYZE through run_sql: the scan nodes' file counts."""
    result = run_sql(loc, f"EXPLAIN ANALYZE {sql}")
    plan = "\n".join(str(cell) for row in result.rows for cell in row)
    read = [int(n) for n in re.findall(r"Total Files Read: (\d+)", plan)]
    return {"lines": _scan_lines(plan), "files_read": read}


def mode_queries(p: dict[str, Any]) -> dict[str, Any]:
    """Scenario of issue 10: build a large lake with big commits, time the marts via run_sql."""
    root, days, batch = p["root"], p["days"], p["batch"]
    lake = Lake.open(root)
    t0 = time.perf_counter()
    built_logs = timed_writes(lake, "logs", logs(p["logs"], batch, days))
    reqs = (
        request_frame(s, min(batch, p["requests"] - s), days, p["requests"])
        for s in range(0, p["requests"], batch)
    )
    built_requests = timed_writes(lake, "requests", reqs)
    build_s = time.perf_counter() - t0
    loc = location(root)
    repeats = p["repeats"]
    day = (BASE + timedelta(days=days // 2)).date().isoformat()
    day_error = f"SELECT * FROM mart_error_logs_daily WHERE day = DATE '{day}'"
    day_requests = f"SELECT * FROM mart_requests_daily WHERE day = DATE '{day}'"
    error_rows = run_sql(loc, ERROR_MART).rows
    requests_rows = run_sql(loc, REQUESTS_MART).rows
    out: dict[str, Any] = {
        "flavor": FLAVOR,
        "logs": p["logs"],
        "requests": p["requests"],
        "days": days,
        "batch": batch,
        "build_s": build_s,
        "build_logs": built_logs,
        "build_requests": built_requests,
        "files": {t: sum(data_files(root, t).values()) for t in ("logs", "requests")},
        "error_rows": len(error_rows),
        "error_logs_total": sum(int(r[2]) for r in error_rows),
        "requests_rows": len(requests_rows),
        "requests_total": sum(int(r[2]) for r in requests_rows),
        "error_mart_s": _times(ERROR_MART, loc, repeats),
        "requests_mart_s": _times(REQUESTS_MART, loc, repeats),
        "connect_only_s": _times("SELECT 1", loc, repeats),
        "day": day,
        "day_error_s": _times(day_error, loc, repeats),
        "day_requests_s": _times(day_requests, loc, repeats),
        "day_error_scan": explain(loc, day_error),
        "day_requests_scan": explain(loc, day_requests),
        "full_error_scan": explain(loc, ERROR_MART),
        "peak_rss_mb": peak_rss_mb(),
    }
    for key in ("error_mart_s", "requests_mart_s", "connect_only_s"):
        out[key.replace("_s", "_median_s")] = statistics.median(out[key])
    return out


def mode_compaction(p: dict[str, Any]) -> dict[str, Any]:
    """`runs` small writes of `per_run` logs (one 15-minute sync each), then compact."""
    root, runs, per_run = p["root"], p["runs"], p["per_run"]
    lake = Lake.open(root)
    total = runs * per_run
    days = runs * 15 / (24 * 60)
    written = timed_writes(
        lake, "logs", (log_frame(k * per_run, per_run, days, total) for k in range(runs))
    )
    loc = location(root)
    answer_before = [str(v) for v in run_sql(loc, FULL_COUNT).rows[0]]
    before_live, before_disk = live_files(lake, root, "logs"), data_files(root, "logs")
    query_before = _times(FULL_COUNT, loc, p["repeats"])
    c0, w0 = cpu_now(), time.perf_counter()
    compact: Any = lake.compact  # Lake.compact(run_id) now, Lake.compact() in 0169d41
    report = compact("bench-compact") if FLAVOR == "delta" else compact()
    compact_cpu, compact_wall = cpu_now() - c0, time.perf_counter() - w0
    after_live, after_disk = live_files(lake, root, "logs"), data_files(root, "logs")
    answer_after = [str(v) for v in run_sql(loc, FULL_COUNT).rows[0]]
    return {
        "flavor": FLAVOR,
        "runs": runs,
        "per_run": per_run,
        "write": written,
        "before_live": dict(before_live),
        "before_disk": dict(before_disk),
        "after_live": dict(after_live),
        "after_disk": dict(after_disk),
        "compact_cpu_s": compact_cpu,
        "compact_wall_s": compact_wall,
        "report": repr(report),
        "query_before_s": query_before,
        "query_after_s": _times(FULL_COUNT, loc, p["repeats"]),
        "answer_before": answer_before,
        "answer_after": answer_after,
        "peak_rss_mb": peak_rss_mb(),
    }


def mode_breakdown(p: dict[str, Any]) -> dict[str, Any]:
    """Delta only: CPU of each step of `DeltaTables.write` for the batches of `mode_write`
    (insert-if-absent: the stored keys of the touched partitions read and anti-joined, the
    rest written by pyarrow and committed as one fenced append), and, for the same rows,
    the Parquet encoding alone and delta-rs's own append (`write_deltalake`), the writer
    appends used before."""
    from deltalake import write_deltalake

    from transform.schemas import LOGS
    from warehouse import tables as t
    from warehouse.files import data_files
    from warehouse.merge import collapse_batch

    lake = Lake.open(p["root"])
    dt = lake.tables
    steps: dict[str, float] = defaultdict(float)

    def step(name: str, fn: Any) -> Any:
        c0 = cpu_now()
        value = fn()
        steps[name] += cpu_now() - c0
        return value

    keys = list(LOGS.partition_keys)
    append_uri = str(Path(p["root"]) / "append-only")
    for frame in logs(p["rows"], p["batch"], p["days"]):
        checked = step(
            "check_frame + collapse_batch",
            lambda f=frame: collapse_batch(LOGS, t.check_frame(LOGS, f)),
        )
        parts = [tuple(r) for r in checked.select(keys).unique().iter_rows()]
        table = step(
            "ensure (the open table, brought up to date)",
            lambda: dt.ensure("logs", LOGS.polars_schema, keys),
        )
        step(
            "read stored keys + anti-join + pyarrow files + fenced commit",
            lambda tb=table, c=checked, ps=parts: dt._append_absent(tb, LOGS, c, ps),
        )
        step(
            "for comparison: the Parquet files alone (pyarrow, not uploaded)",
            lambda c=checked: list(data_files(c, keys, t.PLAIN_COLUMNS)),
        )
        step(
            "for comparison: delta-rs's write_deltalake append, same rows",
            lambda c=checked: write_deltalake(
                append_uri,
                t.to_arrow(c),
                mode="append",
                partition_by=keys,
                writer_properties=t.WRITER,
            ),
        )
    scale = 1_000_000 / p["rows"]
    return {"cpu_per_million": {k: v * scale for k, v in steps.items()}}


MODES = {
    "write": mode_write,
    "queries": mode_queries,
    "compaction": mode_compaction,
    "breakdown": mode_breakdown,
}


def main() -> None:
    params: dict[str, Any] = json.loads(sys.argv[1])
    out = MODES[params["mode"]](params)
    out["flavor"] = FLAVOR
    out["warehouse_package"] = str(Path(warehouse.__file__).parent)
    print(json.dumps(out, default=str), flush=True)


if __name__ == "__main__":
    main()
