"""`python -m bench.api_figures [--quick] [--only a,b,c]`: the figures of issue 11.

a. The current API (GET /logs, 5,000-line pages) against the legacy one (POST /logs),
   N logs over 30 days at 20 ms a call: calls, wall, CPU s per 1M logs.
b. A server enforcing 300 calls/min per group (and saying so): the share of the allowed
   rate used and the 429s per group, the client following the headers (no cap of its own).
c. A server allowing 5,000 calls/min (headers say so), 20 ms a call: ubiops-etl against the
   official-client loop (`bench/baseline.py`) on the same data.

Each figure comes from one run; the results go to `bench/api-figures.md` (and `.json`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

from bench.harness import machine, simulator
from bench.scenarios import YIELD_30D, _rate_figures, baseline_run, etl_run, workdir

HERE = Path(__file__).resolve().parent


def current_vs_legacy(logs: int, work: Path) -> dict[str, Any]:
    """Figure a: one backfill per API, same world, 20 ms a call, concurrency 8."""
    spec: dict[str, Any] = {
        "seed": 11,
        "projects": 1,
        "days": 30,
        "backfill_days": 30,
        "logs_per_day": logs / 30 / YIELD_30D,
        "requests_per_day": 100,
        "latency_s": 0.02,
        "log_limit_max": 5000,
    }
    out: dict[str, Any] = {}
    for api in ("current", "legacy"):
        with simulator(**spec, api=api) as sim:
            n_logs = next(iter(sim.info["truth"].values()))["logs"]
            result = etl_run(
                sim, work / f"lake-{api}", concurrency=8, rate=None, page_size=5000, api=api
            )
        log_calls = sum(
            n for op, n in result["sim_calls"].items() if op in ("logs_list", "projects_log_list")
        )
        out[api] = {
            "logs": n_logs,
            "ok": result["ok"],
            "rows_written": result["rows_written"],
            "log_calls": log_calls,
            "log_calls_per_1m": log_calls / n_logs * 1e6,
            "all_calls": sum(result["sim_calls"].values()),
            "wall_s": result["wall_s"],
            "cpu_s": result["cpu_s"],
            "cpu_s_per_1m_logs": result["cpu_s"] / n_logs * 1e6,
            "peak_rss_mb": result["peak_rss_mb"],
        }
        print(f"  {api}: {json.dumps(out[api])}", flush=True)
    return out


def enforced_300(logs: int, work: Path) -> dict[str, Any]:
    """Figure b: 300/min enforced per group, pages of 500 logs so the run makes calls."""
    days = 10
    spec = {
        "seed": 12,
        "projects": 1,
        "days": days,
        "backfill_days": days,
        "logs_per_day": logs / days / 0.865,
        "requests_per_day": 300,
        "rate_limit_per_min": 300,
    }
    with simulator(**spec) as sim:
        time.sleep(61 - time.time() % 60)  # start at a fresh server minute
        result = etl_run(sim, work / "lake-300", concurrency=4, rate=None, page_size=500)
    figures = _rate_figures(0, result)
    by_group: dict[str, int] = {}
    for _when, _op, group, status in result["call_log"]:
        if status == 429:
            by_group[group] = by_group.get(group, 0) + 1
    figures["429_by_group"] = by_group
    figures.pop("client_rate", None)
    print(f"  300/min: {json.dumps(figures)}", flush=True)
    return figures


def fast_server(logs: int, work: Path) -> dict[str, Any]:
    """Figure c: 5,000 calls/min allowed and stated, 20 ms a call, ETL vs official loop."""
    days = 10
    spec = {
        "seed": 13,
        "projects": 1,
        "days": days,
        "backfill_days": days,
        "logs_per_day": logs / days / 0.865,
        "requests_per_day": 200,
        "latency_s": 0.02,
        "rate_limit_per_min": 5000,
        "log_limit_max": 5000,
    }
    with simulator(**spec) as sim:
        n_logs = next(iter(sim.info["truth"].values()))["logs"]
        etl = etl_run(sim, work / "lake-fast", concurrency=8, rate=None, page_size=5000)
        etl.pop("call_log")
        base = baseline_run(sim, work / "baseline-fast")
    out = {
        "logs": n_logs,
        "etl_wall_s": etl["wall_s"],
        "etl_calls": sum(etl["sim_calls"].values()),
        "etl_429": etl["throttled"],
        "etl_ok": etl["ok"],
        "baseline_wall_s": base["wall_s"],
        "baseline_calls": sum(base["sim_calls"].values()),
        "speedup": base["wall_s"] / etl["wall_s"],
    }
    print(f"  5,000/min: {json.dumps(out)}", flush=True)
    return out


def render(results: dict[str, Any]) -> str:
    """The figures as Markdown."""
    lines = ["# Issue 11 figures", "", f"Machine: {results['machine']}", ""]
    if "current_vs_legacy" in results:
        lines += ["## a. Current API vs legacy API (20 ms a call)", ""]
        lines += ["| api | logs | log calls | per 1M logs | wall s | CPU s | CPU s per 1M |"]
        lines += ["|---|---|---|---|---|---|---|"]
        for api, r in results["current_vs_legacy"].items():
            lines.append(
                f"| {api} | {r['logs']:,} | {r['log_calls']} | {r['log_calls_per_1m']:.0f} | "
                f"{r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['cpu_s_per_1m_logs']:.1f} |"
            )
        lines.append("")
    if "enforced_300" in results:
        r = results["enforced_300"]
        lines += ["## b. Server enforcing 300 calls/min per group", ""]
        lines += [
            f"- busiest group ({r['bound_group']}): {r['calls_by_group'][r['bound_group']]} "
            f"calls; steady pace {r['steady_per_min']:.0f}/min = {r['steady_share']:.1%} of "
            f"300; whole run {r['used_share']:.1%} of the floor",
            f"- 429s by group: {r['429_by_group'] or 'none'}; run ok: {r['ok']}",
            "",
        ]
    if "fast_server" in results:
        r = results["fast_server"]
        lines += ["## c. Server allowing 5,000 calls/min, 20 ms a call", ""]
        lines += [
            f"- {r['logs']:,} logs: ubiops-etl {r['etl_wall_s']:.1f} s ({r['etl_calls']} "
            f"calls, {r['etl_429']} 429s), official-client loop {r['baseline_wall_s']:.1f} s "
            f"({r['baseline_calls']} calls): {r['speedup']:.1f}x",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="issue 11 figures")
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--only", default="a,b,c")
    args = parser.parse_args()
    only = set(args.only.split(","))
    scale = 10 if args.quick else 1
    work = workdir()
    results: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    try:
        if "a" in only:
            results["current_vs_legacy"] = current_vs_legacy(1_000_000 // scale, work)
        if "b" in only:
            results["enforced_300"] = enforced_300(100_000 // scale, work)
        if "c" in only:
            results["fast_server"] = fast_server(500_000 // scale, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    name = "api-figures-quick" if args.quick else "api-figures"
    (HERE / f"{name}.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (HERE / f"{name}.md").write_text(render(results) + "\n")
    print(f"wrote bench/{name}.md")


if __name__ == "__main__":
    main()
