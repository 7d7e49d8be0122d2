"""Warehouse benchmark: write cost and memory of a 1,000,000-log backfill, and day pruning.

Run: .venv/bin/python bench/warehouse_bench.py [--rows 1000000] [--batch 20000] [--days 90]

1. Writes `rows` typed log rows (as transform returns them) in batches of `batch`, the way a
   sync commits windows, into a fresh lake spread over `days` days; reports CPU seconds (all
   threads) per 1,000,000 logs, wall time, files, and the peak RSS of that process. The same
   is done in a child process for a quarter of the rows: if the peaks are close, memory
   follows the batch, not the backfill.
2. Writes the same batches again (a re-run: every row a duplicate) and reports its CPU.
3. Queries one day out of `days` through the `logs` view with EXPLAIN ANALYZE and reports how
   many files DuckDB scanned, against a filter on the timestamp that cannot prune partitions.
Results are printed as Markdown (recorded in bench/warehouse.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from transform.schemas import LOGS
from warehouse import Lake, LakeLocation, connect

BASE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DEPLOYMENTS = [f"model-{i}" for i in range(20)]


def log_batches(rows: int, batch: int, days: int) -> Iterator[pl.DataFrame]:
    """Typed log frames in creation order, `batch` rows each, evenly over `days` days."""
    step = days * 86_400 / rows
    extracted = BASE + dt.timedelta(days=days + 1)
    for start in range(0, rows, batch):
        n = min(batch, rows - start)
        numbers = range(start, start + n)
        seconds = [int(i * step) for i in numbers]
        dates = [BASE + dt.timedelta(seconds=s) for s in seconds]
        frame = pl.DataFrame(
            {
                "project": ["bench"] * n,
                "day": [d.date() for d in dates],
                "id": [
                    f"{int(d.timestamp()):08x}{i:016x}" for d, i in zip(dates, numbers, strict=True)
                ],
                "date": dates,
                "log": [
                    f"request {i} processed by worker {i % 7}: ok in {i % 997} ms" for i in numbers
                ],
                "level": ["error" if i % 50 == 0 else "info" for i in numbers],
                "system": [i % 3 == 0 for i in numbers],
                "deployment_name": [DEPLOYMENTS[i % 20] for i in numbers],
                "deployment_version": ["v1"] * n,
                "deployment_request_id": [f"req-{i // 10}" for i in numbers],
                "_extracted_at": [extracted] * n,
            }
        )
        yield (
            frame.with_columns(
                [
                    pl.lit(None, dtype).alias(name)
                    for name, dtype in LOGS.polars_schema.items()
                    if name not in frame.columns
                ]
            )
            .select(LOGS.names)
            .cast(dict(LOGS.polars_schema))
        )


def timed_writes(lake: Lake, rows: int, batch: int, days: int) -> dict[str, float]:
    """Write all batches; CPU and wall seconds spent inside `lake.write` only."""
    cpu = wall = 0.0
    written = 0
    for frame in log_batches(rows, batch, days):
        c0, w0 = time.process_time(), time.perf_counter()
        written += lake.write("logs", frame).rows_written
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
    return {"cpu_s": cpu, "wall_s": wall, "rows_written": written}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(rows: int, batch: int, days: int, root: Path) -> dict[str, Any]:
    """One backfill in this process (so the peak RSS is its own)."""
    baseline = peak_rss_mb()
    lake = Lake.open(root)
    first = timed_writes(lake, rows, batch, days)
    result: dict[str, Any] = {"rows": rows, "batch": batch, "baseline_rss_mb": baseline}
    result["first"] = first
    result["peak_rss_mb"] = peak_rss_mb()
    files = [p for p in (root / "logs").rglob("*.parquet") if "_delta_log" not in p.parts]
    result["files"] = len(files)
    result["bytes"] = sum(p.stat().st_size for p in files)
    result["rerun"] = timed_writes(lake, rows, batch, days)
    return result


def run_child(rows: int, batch: int, days: int, root: Path) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", "--rows", str(rows), "--batch", str(batch)]
    cmd += ["--days", str(days), "--root", str(root)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


SCAN_LINES = ("Function:", "File Filters:", "Filters:", "Scanning Files:", "Total Files Read:")


def scanned_files(con: Any, sql: str) -> tuple[str, float, list[str]]:
    """'scanned/total' files from EXPLAIN ANALYZE, the best of three times, the scan lines."""
    plan = con.execute(f"EXPLAIN ANALYZE {sql}").fetchall()[0][1]
    match = re.search(r"Scanning Files: (\d+/\d+)", plan)
    read = re.search(r"Total Files Read: (\d+)", plan)
    label = match.group(1) if match else (read.group(1) if read else "?")
    cells = [cell.strip() for line in plan.splitlines() for cell in line.split("│")]
    scan = [cell for cell in cells if cell.startswith(SCAN_LINES)]
    best = min(_timed(con, sql) for _ in range(3))
    return label, best, scan


def _timed(con: Any, sql: str) -> float:
    t0 = time.perf_counter()
    con.execute(sql).fetchall()
    return time.perf_counter() - t0


def query_report(root: Path, days: int) -> dict[str, Any]:
    day = (BASE + dt.timedelta(days=days // 2)).date()
    by_day = f"SELECT count(*), count(DISTINCT deployment_name) FROM logs WHERE day = DATE '{day}'"
    by_ts = (
        "SELECT count(*), count(DISTINCT deployment_name) FROM logs "
        f"WHERE date >= TIMESTAMPTZ '{day} 00:00:00+00' "
        f"AND date < TIMESTAMPTZ '{day} 00:00:00+00' + INTERVAL 1 DAY"
    )
    with connect(LakeLocation.parse(root)) as con:
        report = {"day": str(day)}
        report["by_day"] = scanned_files(con, by_day)
        report["by_timestamp"] = scanned_files(con, by_ts)
        report["full_count"] = min(_timed(con, "SELECT count(*) FROM logs") for _ in range(3))
        report["answer"] = con.execute(by_day).fetchone()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--root", type=Path)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.rows, args.batch, args.days, args.root)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        small = run_child(args.rows // 4, args.batch, args.days, Path(tmp) / "small")
        full = run_child(args.rows, args.batch, args.days, Path(tmp) / "full")
        root = Path(tmp) / "full"
        before = query_report(root, args.days)
        t0 = time.process_time()
        report = Lake.open(root).compact("bench-compaction")
        compact_cpu = time.process_time() - t0
        after = query_report(root, args.days)
    print_markdown(args, small, full, before, after, report, compact_cpu)


def print_markdown(
    args: Any, small: Any, full: Any, before: Any, after: Any, report: Any, compact_cpu: float
) -> None:
    scale = 1_000_000 / full["rows"]
    first, rerun = full["first"], full["rerun"]
    rows = [
        (
            "CPU s per 1,000,000 logs, typed frames -> committed Parquet",
            f"{first['cpu_s'] * scale:.2f}",
        ),
        ("wall s of the backfill's writes", f"{first['wall_s']:.2f}"),
        ("CPU s per 1,000,000 logs, re-run (all duplicates)", f"{rerun['cpu_s'] * scale:.2f}"),
        ("rows written first / re-run", f"{first['rows_written']:,} / {rerun['rows_written']:,}"),
        ("files / MB after backfill", f"{full['files']} / {full['bytes'] / 2**20:.1f}"),
    ]
    for run in (full, small):
        peak, base = run["peak_rss_mb"], run["baseline_rss_mb"]
        rows.append(
            (f"peak RSS (MB), {run['rows']:,}-log backfill", f"{peak:.0f} (imports: {base:.0f})")
        )
    compacted = f"{report.projects} / {report.files_removed} -> {report.files_added}"
    rows.append(("compaction: projects / files removed -> added", compacted))
    rows.append(("compaction CPU s", f"{compact_cpu:.2f}"))
    for label, q in (("before compaction", before), ("after compaction", after)):
        by_day, by_ts = q["by_day"], q["by_timestamp"]
        rows.append(
            (f"one day by `day`, {label}: files scanned, s", f"{by_day[0]}, {by_day[1]:.4f}")
        )
        rows.append((f"one day by `date` range, {label}: files, s", f"{by_ts[0]}, {by_ts[1]:.4f}"))
        rows.append((f"count(*) over {args.days} days, {label}: s", f"{q['full_count']:.4f}"))
    print(f"rows={full['rows']:,} batch={args.batch:,} days={args.days}\n")
    print("| measure | value |\n|---|---|")
    for measure, value in rows:
        print(f"| {measure} | {value} |")
    print(f"\nanswer for {before['day']} (rows, deployments): {before['answer']}")
    print("\nEXPLAIN ANALYZE scan node, one day by `day`, before compaction:\n")
    print("\n".join(f"    {line}" for line in before["by_day"][2]))
    print("\nsame day by `date` range:\n")
    print("\n".join(f"    {line}" for line in before["by_timestamp"][2]))


if __name__ == "__main__":
    main()
