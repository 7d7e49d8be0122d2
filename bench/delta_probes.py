"""Probes behind the write path's settings (bench/lake-analysis.md, "Update, 2026-12-01").

    .venv/bin/python -m bench.delta_probes                # all three, about 4 minutes
    .venv/bin/python -m bench.delta_probes --only writer  # writer | commits | keyspan

- writer: twenty 50,000-log appends (`write_deltalake`, one warm-up append first) with
  dictionary pages on every column (delta-rs's default), on none, as the product writes
  (`warehouse.tables.WRITER`: none on the schemas' distinct columns), and uncompressed;
  CPU s and bytes of Parquet written.
- commits: CPU ms of 10-row appends, in means over 20 commits, when the table is opened
  for every commit, through one handle kept up to date, and through a handle reopened
  every `warehouse.tables.REOPEN_AFTER` versions (what the lake does).
- keyspan: CPU s to open a 1,000,000-log table and read stored ids, from every file and
  from the files an insert-if-absent reads (`warehouse.merge.stored_keys_predicate`: the
  batch's days, and an id range that meets its own) for the last 1,000 logs again.

Every variant runs in a fresh process, twice, alternating; results go to
bench/delta-probes.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import ROOT, machine, tree

OUT = ROOT / "bench" / "delta-probes.md"
ROWS, BATCH = 1_000_000, 50_000
PARTITIONS = ["project", "day"]


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _frames(rows: int, batch: int) -> list[Any]:
    from bench.lake_frames import log_frame
    from warehouse.tables import to_arrow

    return [to_arrow(log_frame(s, batch, 30, rows)) for s in range(0, rows, batch)]


def probe_writer(variant: str, work: Path) -> dict[str, Any]:
    from deltalake import ColumnProperties, WriterProperties, write_deltalake

    from warehouse.tables import WRITER

    base: dict[str, Any] = {"compression": "ZSTD", "max_row_group_size": 128 * 1024}
    properties = {
        "dictionary everywhere": WriterProperties(**base),
        "no dictionary": WriterProperties(
            **base, default_column_properties=ColumnProperties(dictionary_enabled=False)
        ),
        "product (plain distinct columns)": WRITER,
        "no dictionary, uncompressed": WriterProperties(
            compression="UNCOMPRESSED",
            max_row_group_size=128 * 1024,
            default_column_properties=ColumnProperties(dictionary_enabled=False),
        ),
    }[variant]
    frames = _frames(ROWS, BATCH)
    write_deltalake(str(work / "warm"), frames[0], partition_by=PARTITIONS)
    table = str(work / "table")
    c0 = cpu()
    for frame in frames:
        write_deltalake(
            table, frame, mode="append", partition_by=PARTITIONS, writer_properties=properties
        )
    spent = cpu() - c0
    size = sum(p.stat().st_size for p in Path(table).rglob("*.parquet"))
    return {"cpu_s": spent, "parquet_mb": size / 1e6}


def probe_commits(variant: str, work: Path) -> dict[str, Any]:
    from deltalake import DeltaTable, write_deltalake

    from bench.lake_frames import log_frame
    from warehouse.tables import REOPEN_AFTER, WRITER, to_arrow

    small = to_arrow(log_frame(0, 10, 1, ROWS))
    uri = str(work / "table")
    write_deltalake(uri, small, partition_by=PARTITIONS, writer_properties=WRITER)
    table, opened_at = DeltaTable(uri), 0
    means = []
    for _ in range(20):
        c0 = cpu()
        for _ in range(20):
            if variant == "open the table for each commit":
                table = DeltaTable(uri)
            else:
                table.update_incremental()
                if variant == "handle reopened (the lake)" and (
                    table.version() - opened_at >= REOPEN_AFTER
                ):
                    table = DeltaTable(uri)
                    opened_at = table.version()
            write_deltalake(
                table, small, mode="append", partition_by=PARTITIONS, writer_properties=WRITER
            )
        means.append(round((cpu() - c0) / 20 * 1000, 1))
    return {"ms_per_commit_by_20": means, "mean_ms": sum(means) / len(means)}


def probe_keyspan(variant: str, work: Path) -> dict[str, Any]:
    from deltalake import DeltaTable, write_deltalake

    from bench.lake_frames import log_frame
    from transform.schemas import LOGS
    from warehouse.merge import stored_keys_predicate
    from warehouse.tables import WRITER

    uri = str(work / "table")
    for frame in _frames(ROWS, BATCH):
        write_deltalake(
            uri, frame, mode="append", partition_by=PARTITIONS, writer_properties=WRITER
        )
    batch = log_frame(ROWS - 1_000, 1_000, 30, ROWS)
    partitions = [tuple(r) for r in batch.select(PARTITIONS).unique().iter_rows()]
    predicate = (
        None if variant == "every stored file" else stored_keys_predicate(LOGS, partitions, batch)
    )
    c0 = cpu()
    read = 0
    for _ in range(10):
        dataset = DeltaTable(uri).to_pyarrow_dataset(file_pruning_predicate=predicate)
        read = dataset.to_table(columns=["id"]).num_rows
    return {"cpu_s": (cpu() - c0) / 10, "ids_read": read}


PROBES = {
    "writer": (
        probe_writer,
        [
            "dictionary everywhere",
            "no dictionary",
            "product (plain distinct columns)",
            "no dictionary, uncompressed",
        ],
    ),
    "commits": (
        probe_commits,
        [
            "open the table for each commit",
            "one handle, kept up to date",
            "handle reopened (the lake)",
        ],
    ),
    "keyspan": (
        probe_keyspan,
        [
            "every stored file",
            "the lake, re-run of the last 1,000 logs",
        ],
    ),
}


def child_main(probe: str, variant: str) -> None:
    work = Path(tempfile.mkdtemp(prefix="delta-probe-"))
    try:
        print(json.dumps(PROBES[probe][0](variant, work)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(probe: str, variant: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.delta_probes", "--child", probe, variant],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


SECTIONS: dict[str, tuple[str, str, Any]] = {
    "writer": (
        f"Writer: {ROWS:,} logs in {ROWS // BATCH} appends",
        "writer properties | CPU s (both runs) | Parquet MB",
        lambda runs: [
            ", ".join(f"{r['cpu_s']:.2f}" for r in runs),
            f"{runs[0]['parquet_mb']:.1f}",
        ],
    ),
    "commits": (
        "Commits: CPU ms per 10-row append, means over 20 commits (400 in all)",
        "how the table is held | mean ms (both runs) | first run, by 20 commits",
        lambda runs: [
            ", ".join(f"{r['mean_ms']:.1f}" for r in runs),
            " ".join(str(x) for x in runs[0]["ms_per_commit_by_20"]),
        ],
    ),
    "keyspan": (
        f"Stored keys: a {ROWS:,}-log table opened and its ids read for a 1,000-log batch",
        "read | CPU s per read (both runs) | ids read",
        lambda runs: [
            ", ".join(f"{r['cpu_s']:.3f}" for r in runs),
            f"{runs[0]['ids_read']:,}",
        ],
    ),
}
"""Per probe: the section's title, its table's header, and the cells of a variant's row."""


def render(results: dict[str, dict[str, list[dict[str, Any]]]], started: dict[str, str]) -> str:
    lines = [
        "# Delta write-path probes (issue 10)",
        "",
        "Command: `.venv/bin/python -m bench.delta_probes` (generated; read in "
        '[lake-analysis.md](lake-analysis.md), "Update, 2026-12-01").',
        "",
        f"Run: {started['date']}; tree {tree()}; {started['nproc']} CPUs ({started['cpu']}), "
        f"Python {started['python']}; load average at the start "
        f"{started['load average at start']}. Each variant in a fresh process, twice, "
        "alternating.",
        "",
    ]
    for probe, (title, header, cells) in SECTIONS.items():
        if probe not in results:
            continue
        lines += [f"## {title}", "", f"| {header} |", "|---|---|---|"]
        for variant, runs in results[probe].items():
            lines.append(f"| {' | '.join([variant, *cells(runs)])} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="writer, commits or keyspan (comma-separated)")
    parser.add_argument("--child", nargs=2, metavar=("PROBE", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(*args.child)
        return
    started = machine()
    chosen = args.only.split(",") if args.only else list(PROBES)
    results: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for probe in chosen:
        variants = PROBES[probe][1]
        results[probe] = {v: [] for v in variants}
        for _ in range(2):
            for variant in variants:
                result = run(probe, variant)
                results[probe][variant].append(result)
                print(f"{probe} / {variant}: {result}", flush=True)
    OUT.write_text(render(results, started) + "\n")
    OUT.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
