"""Issue 14: the Parquet write settings against both what they cost to write and the marts'
query time.

    .venv/bin/python -m bench.write_settings [--logs 5000000] [--requests 1000000]

The same logs and requests (bench/lake_frames.py: 30 days, 2 % error logs) are written as
one file per day by pyarrow with each variant of the settings `warehouse.files.encode` uses
(compression and level, row-group size, which columns get dictionary pages), and the
product's two marts are then run by DuckDB over each variant's files (five runs each, the
median). The write CPU is this process's, per 1M rows. Variants alternate and run twice.
Writes bench/write-settings.md and bench/write-settings.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from bench.harness import ROOT, machine, tree
from bench.lake_frames import log_frame, request_frame
from warehouse.files import NO_STATISTICS, ROW_GROUP_ROWS, ZSTD_LEVEL
from warehouse.tables import PLAIN_COLUMNS
from warehouse.views import MARTS

OUT = ROOT / "bench" / "write-settings.md"
DAYS = 30


@dataclass(frozen=True)
class Variant:
    name: str
    compression: str = "zstd"
    level: int | None = ZSTD_LEVEL
    row_group: int = ROW_GROUP_ROWS
    dictionary: str = "product"  # product: none on the distinct columns; all; none


VARIANTS = (
    Variant("product (ZSTD 1, 128 Ki rows, no dictionary on distinct columns)"),
    Variant("ZSTD 3", level=3),
    Variant("Snappy", compression="snappy", level=None),
    Variant("uncompressed", compression="none", level=None),
    Variant("dictionary on every column", dictionary="all"),
    Variant("no dictionary", dictionary="none"),
    Variant("1 Mi-row groups", row_group=1024 * 1024),
)


def _dictionary(variant: Variant, columns: Collection[str]) -> list[str] | bool:
    if variant.dictionary == "all":
        return True
    if variant.dictionary == "none":
        return False
    return [name for name in columns if name not in PLAIN_COLUMNS]


def write(variant: Variant, parts: dict[Any, pa.Table], folder: Path) -> tuple[float, int]:
    """One file per day under `folder/day=.../`; (CPU s of the writes, bytes)."""
    cpu, size = 0.0, 0
    for day, part in parts.items():
        path = folder / f"day={day}" / "part.parquet"
        path.parent.mkdir(parents=True)
        start = time.process_time()
        pq.write_table(
            part,
            path,
            row_group_size=variant.row_group,
            compression=variant.compression,
            compression_level=variant.level,
            use_dictionary=_dictionary(variant, part.column_names),
            write_statistics=[n for n in part.column_names if n not in NO_STATISTICS],
            store_schema=False,
        )
        cpu += time.process_time() - start
        size += path.stat().st_size
    return cpu, size


def by_day(frame: pl.DataFrame) -> dict[Any, pa.Table]:
    """The frame's rows per day, as Arrow (enums as text), without the partition columns."""
    enums = [n for n, t in frame.schema.items() if isinstance(t, pl.Enum | pl.Categorical)]
    frame = frame.with_columns(pl.col(enums).cast(pl.String)) if enums else frame
    parts = frame.partition_by("day", as_dict=True, maintain_order=True)
    return {key[0]: pa.table(part.drop("day", "project")) for key, part in parts.items()}


def query_seconds(folder: Path, mart: str, runs: int = 5) -> list[float]:
    """Wall seconds of the mart over the variant's files (views as the lake's, no dedupe)."""
    con = duckdb.connect()
    for table in ("logs", "requests"):
        glob = (folder / table / "*" / "*.parquet").as_posix()
        con.execute(
            f"CREATE VIEW {table} AS SELECT 'bench' AS project, * "
            f"FROM read_parquet('{glob}', hive_partitioning = true)"
        )
    sql = f"SELECT * FROM ({MARTS[mart]})"
    con.execute(sql).fetchall()  # warm the file metadata cache, as a BI session would
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        con.execute(sql).fetchall()
        times.append(time.perf_counter() - start)
    con.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=5_000_000)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    tables = {
        "logs": by_day(log_frame(0, args.logs, DAYS, args.logs)),
        "requests": by_day(request_frame(0, args.requests, DAYS, args.requests)),
    }
    rows = {name: sum(t.num_rows for t in parts.values()) for name, parts in tables.items()}
    runs: dict[str, list[dict[str, Any]]] = {v.name: [] for v in VARIANTS}
    work = Path(tempfile.mkdtemp(prefix="write-settings-"))
    try:
        for repeat in range(args.repeats):
            for variant in VARIANTS:
                folder = work / f"{repeat}-{VARIANTS.index(variant)}"
                result: dict[str, Any] = {}
                for name, table in tables.items():
                    cpu, size = write(variant, table, folder / name)
                    result[f"{name}_cpu_per_million"] = cpu * 1e6 / rows[name]
                    result[f"{name}_mb"] = size / 1e6
                for mart in ("mart_error_logs_daily", "mart_requests_daily"):
                    result[mart] = query_seconds(folder, mart)
                runs[variant.name].append(result)
                shutil.rmtree(folder)
                print(f"  {variant.name}: {_line(result)}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = {"machine": machine(), "tree": tree(), "rows": rows, "runs": runs}
    OUT.with_suffix(".json").write_text(json.dumps(out, indent=1) + "\n")
    OUT.write_text(render(out))
    print(f"wrote {OUT}")


def _line(result: dict[str, Any]) -> str:
    return (
        f"logs {result['logs_cpu_per_million']:.2f} CPU s per 1M, {result['logs_mb']:.1f} MB; "
        f"error mart {statistics.median(result['mart_error_logs_daily']):.3f} s; "
        f"requests mart {statistics.median(result['mart_requests_daily']):.3f} s"
    )


def render(out: dict[str, Any]) -> str:
    m = out["machine"]
    lines = [
        "# Parquet write settings: write cost and the marts' query time (issue 14)",
        "",
        "Command: `.venv/bin/python -m bench.write_settings` (generated; read in "
        "[analysis.md](analysis.md)).",
        "",
        f"Run: {m['date']}; tree {out['tree']}; {m['nproc']} CPUs, Python {m['python']}; "
        f"load average at the start {m['load average at start']}. "
        f"{out['rows']['logs']:,} logs and {out['rows']['requests']:,} requests over {DAYS} "
        "days, one file per day, written by pyarrow with each variant; the marts are the "
        "product's SQL (`warehouse.views.MARTS`) over the files, median of five runs after "
        "one warm-up. Variants alternate; each ran twice (both figures shown).",
        "",
        "| variant | logs: write CPU s per 1M | logs MB | requests: write CPU s per 1M "
        "| requests MB | error-log mart s | requests mart s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, results in out["runs"].items():

        def both(key: str, fmt: str, rs: list[dict[str, Any]] = results) -> str:
            return ", ".join(format(r[key], fmt) for r in rs)

        def median_of(mart: str, rs: list[dict[str, Any]] = results) -> str:
            return ", ".join(f"{statistics.median(r[mart]):.3f}" for r in rs)

        lines.append(
            f"| {name} | {both('logs_cpu_per_million', '.2f')} | {both('logs_mb', '.1f')} "
            f"| {both('requests_cpu_per_million', '.2f')} | {both('requests_mb', '.1f')} "
            f"| {median_of('mart_error_logs_daily')} | {median_of('mart_requests_daily')} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
