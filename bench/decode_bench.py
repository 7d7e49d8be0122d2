"""Issue 14: CPU s per 1M logs and peak RSS of the scenario-1 backfill, code trees A/B.

    python -m bench.decode_bench [--quick] [--pages 500,5000] [--repeats 2]
        [--tree before=/tmp/ubiops-etl-main] [--tree after=.] [--profile] [--api auto]
        [--baseline]

One simulator (bench scenario 1's world: 1.1M logs over 30 days, 20 ms per call, pages of
up to 5,000 logs allowed) serves every run, so every tree reads the same data. Each run is
`bench.etl_child` of that tree in a fresh process (its own CPU and peak RSS, imports
excluded), concurrency 8; trees alternate within each repeat. `--profile` adds one run per
tree and page size under py-spy (100 samples/s of every thread, idle ones left out, so the
samples are where the CPU goes; not counted in the figures): the folded stacks go to
`bench/profiles/<label>-<api>-<page>.folded` with a summary of the costliest frames beside
them (`.txt`). Prints one JSON document with every run and the medians.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench import scenarios
from bench.harness import ROOT, machine, simulator

PROFILES = ROOT / "bench" / "profiles"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the logs")
    parser.add_argument("--pages", default="500,5000", help="log page sizes to run")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--tree", action="append", default=[], help="label=path of a checkout")
    parser.add_argument("--profile", action="store_true", help="one pyinstrument run each")
    parser.add_argument("--api", default="auto", help="the ETL's --api")
    parser.add_argument("--sim-api", default="legacy", help="what the simulator serves")
    parser.add_argument("--baseline", action="store_true", help="also the official client's loop")
    args = parser.parse_args()
    scale = scenarios.QUICK if args.quick else scenarios.FULL
    trees = dict(t.split("=", 1) for t in args.tree) or {"this": str(ROOT)}
    pages = [int(p) for p in args.pages.split(",")]
    spec = {**scenarios.latency_world(scale), "log_limit_max": 5000, "api": args.sim_api}
    work = scenarios.workdir()
    runs: dict[str, list[dict[str, Any]]] = {}
    out: dict[str, Any] = {"machine": machine(), "spec": spec, "trees": trees, "runs": runs}
    try:
        with simulator(**spec) as sim:
            n_logs = next(iter(sim.info["truth"].values()))["logs"]
            out["n_logs"] = n_logs
            for _ in range(args.repeats):
                for size in pages:
                    for label, tree in trees.items():
                        r = _run(sim, work, tree, size, args.api)
                        runs.setdefault(f"{label} {size}", []).append(r)
                        print(f"  {label} page {size}: {_line(r, n_logs)}", flush=True)
            if args.baseline:
                b = scenarios.baseline_run(sim, work / "baseline")
                out["baseline"] = {k: b[k] for k in ("wall_s", "cpu_s", "peak_rss_mb")}
                print(f"  baseline: {b['wall_s']:.1f} s wall, {b['cpu_s']:.2f} CPU s", flush=True)
            if args.profile:
                PROFILES.mkdir(exist_ok=True)
                for size in pages:
                    for label, tree in trees.items():
                        folded = PROFILES / f"{label}-{args.api}-{size}.folded"
                        r = _run(sim, work, tree, size, args.api, folded)
                        folded.with_suffix(".txt").write_text(summarize(folded, r))
                        print(f"  profiled {label} page {size}: {_line(r, n_logs)}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["medians"] = {
        key: {
            "cpu_s": statistics.median(r["cpu_s"] for r in rs),
            "cpu_per_million": statistics.median(r["cpu_s"] for r in rs) * 1e6 / out["n_logs"],
            "wall_s": statistics.median(r["wall_s"] for r in rs),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in rs),
            "log_calls": rs[0]["log_calls"],
            "rows_written": rs[0]["rows_written"],
        }
        for key, rs in runs.items()
    }
    if "baseline" in out:
        for figures in out["medians"].values():
            figures["speedup"] = out["baseline"]["wall_s"] / figures["wall_s"]
    print(json.dumps(out, indent=1, default=str))


def _run(
    sim: Any, work: Path, tree: str, size: int, api: str, folded: Path | None = None
) -> dict[str, Any]:
    spy = [str(Path(sys.executable).with_name("py-spy")), "record", "-r", "100", "-f", "raw"]
    r = scenarios.etl_run(
        sim,
        work / "lake",
        concurrency=8,
        rate=100_000,
        page_size=size,
        api=api,
        root=Path(tree),
        wrap=[*spy, "-o", str(folded), "--"] if folded else None,
    )
    if not r["ok"]:
        raise RuntimeError(f"the run of {tree} failed: {r['streams']}")
    return {
        "cpu_s": r["cpu_s"],
        "wall_s": r["wall_s"],
        "peak_rss_mb": r["peak_rss_mb"],
        "log_calls": r["sim_calls"].get("projects_log_list", 0)
        + r["sim_calls"].get("logs_list", 0),
        "rows_written": r["rows_written"],
        "sim_cpu_s": r["sim_cpu_s"],
    }


def summarize(folded: Path, run: dict[str, Any], top: int = 45) -> str:
    """The frames holding the most samples (inclusive), from py-spy's folded stacks."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        for frame in set(stack.split(";")):
            inclusive[frame] += samples
    lines = [
        f"py-spy, 100 samples/s of every busy thread: {total} samples "
        f"({run['cpu_s']:.1f} CPU s, {run['wall_s']:.1f} s wall for this run)",
        "share  samples  frame (inclusive)",
    ]
    for frame, samples in inclusive.most_common(top):
        lines.append(f"{samples / total:6.1%} {samples:8d}  {frame}")
    return "\n".join(lines) + "\n"


def _line(r: dict[str, Any], n_logs: int) -> str:
    per_m = r["cpu_s"] * 1e6 / n_logs
    return (
        f"{r['cpu_s']:.2f} CPU s ({per_m:.2f} per 1M logs), {r['wall_s']:.1f} s wall, "
        f"{r['peak_rss_mb']:.0f} MB, {r['log_calls']} log calls"
    )


if __name__ == "__main__":
    main()
