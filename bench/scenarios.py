"""Scenarios 1-5: backfills against the simulator in its own process, ETL vs the baseline.

Every scenario returns plain data (a dict) for the report; nothing here prints Markdown.
"""

from __future__ import annotations

import math
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from bench.harness import Sim, run_child, simulator

LOG_PAGE = 500
# Share of the nominal logs_per_day the generator yields over 30 days (daily rhythm and one
# 30-hour quiet period); only used to aim at the target count, the truth is counted.
YIELD_30D = 0.947


@dataclass(frozen=True)
class Scale:
    """How big a run is: the full issue sizes, or a quick tenth."""

    logs: int
    days: int
    requests_per_day: int
    etl_repeats: int
    baseline_repeats: int
    limited_logs: int
    limited_requests_per_day: int


FULL = Scale(1_000_000, 30, 2_000, 3, 1, 100_000, 1_500)
QUICK = Scale(100_000, 30, 500, 1, 1, 20_000, 300)


def _calls_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    a, b = after["stats"]["calls"], before["stats"]["calls"]
    return {op: a.get(op, 0) - b.get(op, 0) for op in a if a.get(op, 0) - b.get(op, 0)}


def etl_run(
    sim: Sim,
    lake: Path,
    *,
    concurrency: int,
    rate: int | None,
    profile: str = "",
    normalize_rows: int = 0,
    page_size: int = 500,
    api: str = "auto",
    root: Path | None = None,
    wrap: list[str] | None = None,
) -> Any:
    """One backfill of the simulator's whole range into a fresh lake, in a child process
    (of the code tree at `root`, this one by default)."""
    shutil.rmtree(lake, ignore_errors=True)
    before = sim.stats()
    params = {
        "host": sim.base_url,
        "token": sim.token,
        "warehouse": str(lake),
        "since": sim.info["since"],
        "until": sim.info["now"],
        "concurrency": concurrency,
        "rate_per_minute": rate,
        "profile": profile,
        "normalize_rows": normalize_rows,
        "page_size": page_size,
        "api": api,
    }
    started = time.time()
    result = run_child("bench.etl_child", params, cwd=root, wrap=wrap)
    after = sim.stats()
    result["sim_calls"] = _calls_between(before, after)
    result["sim_cpu_s"] = after["cpu_s"] - before["cpu_s"]
    result["started_at"] = started
    result["call_log"] = [c for c in after["calls"] if c[0] >= started]
    return result


def baseline_run(sim: Sim, out: Path) -> Any:
    shutil.rmtree(out, ignore_errors=True)
    before = sim.stats()
    params = {
        "host": sim.base_url,
        "token": sim.token,
        "since": sim.info["since"],
        "until": sim.info["now"],
        "out": str(out),
    }
    result = run_child("bench.baseline", params)
    after = sim.stats()
    result["sim_calls"] = _calls_between(before, after)
    result["sim_cpu_s"] = after["cpu_s"] - before["cpu_s"]
    return result


def compare_ids(lake: Path, baseline_out: Path) -> dict[str, dict[str, int]]:
    """Per table: rows in the lake (its views), rows of the baseline, ids in only one side."""
    from warehouse import LakeLocation, connect

    report: dict[str, dict[str, int]] = {}
    con = connect(LakeLocation.parse(lake))
    try:
        for table in ("logs", "requests", "audit_events"):
            ids = con.sql(f"SELECT id FROM {table}").to_arrow_table()
            files = str(baseline_out / table / "*.parquet")
            other = duckdb.connect()
            other.register("etl_ids", ids)
            row = other.execute(
                f"""WITH b AS (SELECT CAST(id AS VARCHAR) AS id FROM read_parquet('{files}'))
                SELECT (SELECT count(*) FROM etl_ids), (SELECT count(*) FROM b),
                       (SELECT count(*) FROM (SELECT id FROM etl_ids EXCEPT SELECT id FROM b)),
                       (SELECT count(*) FROM (SELECT id FROM b EXCEPT SELECT id FROM etl_ids))"""
            ).fetchall()[0]
            other.close()
            report[table] = {
                "etl": int(row[0]),
                "baseline": int(row[1]),
                "only_etl": int(row[2]),
                "only_baseline": int(row[3]),
            }
    finally:
        con.close()
    return report


def latency_world(scale: Scale) -> dict[str, Any]:
    """The world of the latency-bound scenarios: one project, N logs over the scale's days,
    requests and audit, 20 ms added to every call."""
    return {
        "seed": 11,
        "projects": 1,
        "days": scale.days,
        "backfill_days": scale.days,
        "logs_per_day": scale.logs / scale.days / YIELD_30D,
        "requests_per_day": scale.requests_per_day,
        "latency_s": 0.02,
    }


def latency_bound(scale: Scale, work: Path, concurrencies: tuple[int, ...]) -> dict[str, Any]:
    """Scenarios 1, 2, 4, 5: N logs over 30 days + requests + audit, 20 ms per call."""
    spec = latency_world(scale)
    out: dict[str, Any] = {"spec": spec, "etl": {}, "baseline": []}
    with simulator(**spec) as sim:
        out["truth"] = sim.info["truth"]
        for concurrency in concurrencies:
            runs = []
            for i in range(scale.etl_repeats):
                lake = work / f"lake-c{concurrency}"
                result = etl_run(sim, lake, concurrency=concurrency, rate=100_000)
                result.pop("call_log")
                print(
                    f"  etl c={concurrency} run {i + 1}: {result['wall_s']:.1f}s wall, "
                    f"{result['cpu_s']:.2f} CPU s, {result['peak_rss_mb']:.0f} MB",
                    flush=True,
                )
                runs.append(result)
            out["etl"][concurrency] = runs
        for i in range(scale.baseline_repeats):
            result = baseline_run(sim, work / "baseline")
            print(
                f"  baseline run {i + 1}: {result['wall_s']:.1f}s wall, "
                f"{result['cpu_s']:.2f} CPU s, {result['peak_rss_mb']:.0f} MB",
                flush=True,
            )
            out["baseline"].append(result)
        best = max(concurrencies)
        out["correctness"] = compare_ids(work / f"lake-c{best}", work / "baseline")
    return out


def summarize_latency_bound(data: dict[str, Any]) -> dict[str, Any]:
    """Medians, ratios and the call-efficiency figures of `latency_bound`."""
    truth = next(iter(data["truth"].values()))
    n_logs = truth["logs"]
    windows = data["spec"]["backfill_days"]
    minimum = math.ceil(n_logs / LOG_PAGE) + windows
    base_wall = statistics.median(r["wall_s"] for r in data["baseline"])
    base_cpu = statistics.median(r["cpu_s"] for r in data["baseline"])
    base_rss = max(r["peak_rss_mb"] for r in data["baseline"])
    base_log_calls = data["baseline"][0]["sim_calls"].get("projects_log_list", 0)
    rows = []
    for concurrency, runs in data["etl"].items():
        wall = statistics.median(r["wall_s"] for r in runs)
        cpu = statistics.median(r["cpu_s"] for r in runs)
        rss = max(r["peak_rss_mb"] for r in runs)
        log_calls = runs[0]["sim_calls"].get("projects_log_list", 0)
        rows.append(
            {
                "concurrency": int(concurrency),
                "wall_s": wall,
                "walls": [r["wall_s"] for r in runs],
                "speedup": base_wall / wall,
                "cpu_s": cpu,
                "cpu_per_million": cpu * 1_000_000 / n_logs,
                "peak_rss_mb": rss,
                "import_rss_mb": runs[0]["import_rss_mb"],
                "log_calls": log_calls,
                "calls": runs[0]["sim_calls"],
                "log_calls_over_min": log_calls / minimum,
                "sim_cpu_s": statistics.median(r["sim_cpu_s"] for r in runs),
                "ok": all(r["ok"] for r in runs),
            }
        )
    return {
        "n_logs": n_logs,
        "truth": truth,
        "minimum_log_calls": minimum,
        "baseline": {
            "wall_s": base_wall,
            "cpu_s": base_cpu,
            "cpu_per_million": base_cpu * 1_000_000 / n_logs,
            "peak_rss_mb": base_rss,
            "log_calls": base_log_calls,
            "calls": data["baseline"][0]["sim_calls"],
            "sim_cpu_s": data["baseline"][0]["sim_cpu_s"],
            "rows": data["baseline"][0]["rows"],
        },
        "etl": rows,
        "correctness": data["correctness"],
    }


def rate_limited(scale: Scale, work: Path, rates: tuple[int, ...]) -> dict[str, Any]:
    """Scenario 3: the simulator enforces 300 calls/min per endpoint group (fixed minutes)."""
    days = 10
    spec = {
        "seed": 12,
        "projects": 1,
        "days": days,
        "backfill_days": days,
        "logs_per_day": scale.limited_logs / days / 0.865,
        "requests_per_day": scale.limited_requests_per_day,
        "rate_limit_per_min": 300,
    }
    runs = []
    with simulator(**spec) as sim:
        truth = next(iter(sim.info["truth"].values()))
        for rate in rates:
            # Start at a fresh server minute so every run sees the same window phase.
            time.sleep(61 - time.time() % 60)
            result = etl_run(sim, work / f"lake-rate{rate}", concurrency=4, rate=rate)
            runs.append(_rate_figures(rate, result))
            print(
                f"  etl rate={rate}: {result['wall_s']:.1f}s wall, "
                f"429s {runs[-1]['429_total']}, used {runs[-1]['used_share']:.3f}",
                flush=True,
            )
    return {"spec": spec, "truth": truth, "runs": runs}


def _rate_figures(rate: int, result: dict[str, Any]) -> dict[str, Any]:
    calls = result["call_log"]
    started = result["started_at"]
    by_group: dict[str, int] = {}
    late_429 = 0
    total_429 = 0
    for when, _op, group, status in calls:
        by_group[group] = by_group.get(group, 0) + 1
        if status == 429:
            total_429 += 1
            if when - started > 60:
                late_429 += 1
    wall = result["wall_s"]
    bound_group = max(by_group, key=lambda g: by_group[g])
    floor_s = by_group[bound_group] / 300 * 60
    times = sorted(c[0] for c in calls if c[2] == bound_group)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    # Calls per minute while the busiest group was paging (first to last call).
    steady = (len(times) - 1) / span * 60 if span > 0 else 0.0
    all_times = sorted(c[0] for c in calls)
    return {
        "steady_per_min": steady,
        "steady_share": steady / 300,
        "first_call_s": all_times[0] - started if all_times else 0.0,
        "after_last_call_s": started + result["process_wall_s"] - all_times[-1] if calls else 0.0,
        "client_rate": rate,
        "wall_s": wall,
        "calls_by_group": by_group,
        "bound_group": bound_group,
        "floor_s": floor_s,
        "used_share": floor_s / wall,
        "429_total": total_429,
        "429_after_first_minute": late_429,
        "ok": result["ok"],
        "rows_written": result["rows_written"],
        "cpu_s": result["cpu_s"],
    }


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="ubiops-bench-"))


def now_utc() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def sink_ab(scale: Scale, work: Path, repeats: int) -> dict[str, Any]:
    """Before/after of normalising pages in chunks (flows/core/sink.py): CPU of the same backfill
    with per-page normalisation (the old behaviour) and with the default, alternating."""
    spec = latency_world(scale)
    runs: dict[str, list[dict[str, float]]] = {"per page": [], "chunks of 5,000": []}
    with simulator(**spec) as sim:
        n_logs = next(iter(sim.info["truth"].values()))["logs"]
        for _ in range(repeats):
            for label, rows in (("per page", 1), ("chunks of 5,000", 0)):
                r = etl_run(sim, work / "lake-ab", concurrency=8, rate=100_000, normalize_rows=rows)
                runs[label].append({"cpu_s": r["cpu_s"], "wall_s": r["wall_s"]})
                print(f"  {label}: {r['cpu_s']:.2f} CPU s, {r['wall_s']:.1f} s", flush=True)
    return {"n_logs": n_logs, "runs": runs}


def big_pages(scale: Scale, work: Path, repeats: int) -> dict[str, Any]:
    """What-if, not a target: the same backfill with 5,000-log pages, which the newer API
    allows (API-NOTES.md), against a simulator that allows them too; shows how much of the
    client's CPU is paid per call."""
    spec = {**latency_world(scale), "log_limit_max": 5000}
    runs: dict[str, list[dict[str, Any]]] = {"500": [], "5000": []}
    with simulator(**spec) as sim:
        n_logs = next(iter(sim.info["truth"].values()))["logs"]
        for _ in range(repeats):
            for size in (500, 5000):
                r = etl_run(sim, work / "lake-pages", concurrency=8, rate=100_000, page_size=size)
                runs[str(size)].append(
                    {
                        "cpu_s": r["cpu_s"],
                        "wall_s": r["wall_s"],
                        "peak_rss_mb": r["peak_rss_mb"],
                        "log_calls": r["sim_calls"].get("projects_log_list", 0),
                        "sim_cpu_s": r["sim_cpu_s"],
                    }
                )
                print(f"  page {size}: {r['cpu_s']:.2f} CPU s, {r['wall_s']:.1f} s", flush=True)
    return {"n_logs": n_logs, "runs": runs}
