"""`make bench` / `python -m bench [--quick] [--only 1,3,6]`: every scenario of issue 7.

Starts the simulator as a separate process, runs ubiops-etl (the Prefect-free core, in a
child process whose own CPU time and peak RSS are measured) and the baseline (the official
`ubiops` client, sequential, `bench/baseline.py`) against it, builds the synthetic lakes of
the query and compaction scenarios, times `ubiops-etl demo`, and writes `bench/results.md`
(plus the raw figures in `bench/results.json`). `--quick` runs a tenth of the sizes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
from pathlib import Path
from typing import Any

from bench import report, scenarios, scenarios_lake
from bench.harness import machine

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description="ubiops-etl benchmarks (issue 7)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes, one repeat")
    parser.add_argument(
        "--only",
        default="1,3,6,7,8",
        help="scenarios to run (1 runs 1,2,4,5; 9: sink A/B; 10: 5,000-log pages)",
    )
    parser.add_argument("--out", type=Path, default=None, help="results file (default by mode)")
    parser.add_argument("--concurrency", default="8", help="ETL concurrencies of scenario 1")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="update the existing results.json with the scenarios run, re-render results.md",
    )
    args = parser.parse_args()
    scale = scenarios.QUICK if args.quick else scenarios.FULL
    only = {int(x) for x in args.only.split(",") if x}
    work = scenarios.workdir()
    name = "results-quick" if args.quick else "results"
    out = args.out or HERE / f"{name}.md"
    results: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    if args.merge and out.with_suffix(".json").exists():
        results = json.loads(out.with_suffix(".json").read_text())
        rerun = {**machine(), "scenarios": sorted(only)}
        results.setdefault("machine_of_merged_runs", []).append(rerun)
    try:
        if only & {1, 2, 4, 5}:
            print("scenario 1/2/4/5: latency-bound backfill", flush=True)
            concurrencies = tuple(int(c) for c in args.concurrency.split(","))
            raw = scenarios.latency_bound(scale, work, concurrencies)
            results["latency_bound"] = scenarios.summarize_latency_bound(raw)
        if 3 in only:
            print("scenario 3: rate-limited backfill", flush=True)
            rates = (295,) if args.quick else (280, 295)
            results["rate_limited"] = scenarios.rate_limited(scale, work, rates)
        if 6 in only:
            print("scenario 6: queries on a large lake", flush=True)
            logs, reqs = (1_000_000, 100_000) if args.quick else (10_000_000, 1_000_000)
            results["queries"] = scenarios_lake.queries(logs, reqs, work)
            shutil.rmtree(work / "big-lake", ignore_errors=True)
        if 7 in only:
            print("scenario 7: compaction after many small runs", flush=True)
            runs = 100 if args.quick else 500
            results["compaction"] = scenarios_lake.compaction(runs, 200, work)
        if 8 in only:
            print("scenario 8: ubiops-etl demo", flush=True)
            results["demo"] = scenarios_lake.demo(work, repeats=1 if args.quick else 3)
        if 9 in only:
            print(
                "before/after: normalising per page vs in chunks (flows/core/sink.py)", flush=True
            )
            results["sink_ab"] = scenarios.sink_ab(scale, work, repeats=1 if args.quick else 2)
        if 10 in only:
            print("what-if: 5,000-log pages (newer API)", flush=True)
            results["big_pages"] = scenarios.big_pages(scale, work, repeats=1 if args.quick else 2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    out.write_text(report.render(results))
    print(f"wrote {out}")
    if "latency_bound" in results:
        etl = results["latency_bound"]["etl"]
        print("speed-ups:", [f"{r['speedup']:.1f}x" for r in etl])
    if "compaction" in results:
        print("compaction speed-up:", f"{results['compaction']['speedup']:.1f}x")
    if "queries" in results:
        print("mart median s:", f"{statistics.median(results['queries']['mart_s']):.3f}")


if __name__ == "__main__":
    main()
