"""Issue 10's figures: the Delta lake next to the plain-Parquet lake of commit 0169d41, one run.

    .venv/bin/python -m bench.lake_bench [--quick] [--only 1,2,3,4,5] [--out bench/lake.md]

1. CPU s per 1,000,000 logs written (`Lake.write`, the Sink's 50,000-row batches), old writer vs
   Delta, same frames, alternating child processes.
2. Peak RSS (VmHWM) of the 1.1M-log backfill of scenario 1 (simulator, 20 ms per call) through
   `bench/etl_child.py`, the current tree and the 0169d41 tree (flows, extract, transform,
   warehouse) side by side.
3. The marts over 10M logs + 1M requests (written with `Lake.write` in 1M-row commits) through
   `warehouse.run_sql`, and the files a one-day filter reads (EXPLAIN ANALYZE); both layouts.
4. Compaction after 500 small writes: files per partition before/after; both layouts.
5. The 1.1M-log backfill into a moto S3 server (`tests/s3server.py`): wall time, objects.

The old tree is `git archive 0169d41 warehouse transform flows extract` extracted to
bench/.work/legacy (git-ignored); its children run with that directory as the working directory
and first on PYTHONPATH, so its packages shadow the current ones (each child reports which
`warehouse` it imported). Writes `bench/lake.md` (`lake-quick.md` with --quick) and the raw
figures next to it as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import scenarios
from bench.harness import ROOT, Sim, machine, simulator, tree

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
LEGACY = WORK / "legacy"
LEGACY_COMMIT = "0169d41"
FLAVORS = ("legacy", "delta")
LABEL = {"legacy": f"plain Parquet ({LEGACY_COMMIT})", "delta": "Delta (HEAD)"}


@dataclass(frozen=True)
class Sizes:
    write_rows: int
    write_batch: int
    write_repeats: int
    backfill: scenarios.Scale
    query_logs: int
    query_requests: int
    query_batch: int
    query_repeats: int
    compaction_runs: int
    s3_backfill: scenarios.Scale


FULL = Sizes(
    1_000_000, 50_000, 3, scenarios.FULL, 10_000_000, 1_000_000, 1_000_000, 5, 500, scenarios.FULL
)
QUICK = Sizes(
    100_000, 50_000, 1, scenarios.QUICK, 1_000_000, 100_000, 500_000, 3, 100, scenarios.QUICK
)


def load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def extract_legacy() -> None:
    """The 0169d41 packages in bench/.work/legacy (fresh each run)."""
    shutil.rmtree(LEGACY, ignore_errors=True)
    LEGACY.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", LEGACY_COMMIT, "warehouse", "transform", "flows", "extract"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(LEGACY)], input=archive.stdout, check=True)


def child(
    flavor: str, module: str, params: dict[str, Any], env: dict[str, str] | None = None
) -> dict[str, Any]:
    """`python -m module '<params>'` with the flavor's packages; the JSON of its last line."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("PYTHONPATH", None)
    cwd = ROOT
    if flavor == "legacy":
        cwd = LEGACY
        full_env["PYTHONPATH"] = f"{LEGACY}{os.pathsep}{ROOT}"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", module, json.dumps(params)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise RuntimeError(f"{module} ({flavor}) failed with exit code {done.returncode}")
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    result: dict[str, Any] = json.loads(lines[-1])
    result["process_wall_s"] = time.perf_counter() - started
    result["load"] = load()
    return result


def fresh(name: str) -> Path:
    path = WORK / name
    shutil.rmtree(path, ignore_errors=True)
    return path


# 1 -------------------------------------------------------------------------------------------


def write_cpu(sizes: Sizes) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {f: [] for f in FLAVORS}
    for k in range(sizes.write_repeats):
        for flavor in FLAVORS if k % 2 == 0 else FLAVORS[::-1]:
            root = fresh(f"write-{flavor}")
            params = {
                "mode": "write",
                "root": str(root),
                "rows": sizes.write_rows,
                "batch": sizes.write_batch,
                "days": 30,
            }
            result = child(flavor, "bench.lake_child", params)
            shutil.rmtree(root, ignore_errors=True)
            per_m = result["first"]["cpu_s"] * 1_000_000 / sizes.write_rows
            print(f"  write {flavor} run {k + 1}: {per_m:.2f} CPU s per 1M logs", flush=True)
            runs[flavor].append(result)
    summary = {}
    for flavor, results in runs.items():
        scale = 1_000_000 / sizes.write_rows
        summary[flavor] = {
            "cpu_per_million": statistics.median(r["first"]["cpu_s"] * scale for r in results),
            "rerun_cpu_per_million": statistics.median(
                r["rerun"]["cpu_s"] * scale for r in results
            ),
            "wall_s": statistics.median(r["first"]["wall_s"] for r in results),
        }
    ratio = summary["delta"]["cpu_per_million"] / summary["legacy"]["cpu_per_million"]
    probes = {}
    for mode in ("breakdown",):
        root = fresh(f"write-{mode}")
        params = {
            "mode": mode,
            "root": str(root),
            "rows": sizes.write_rows,
            "batch": sizes.write_batch,
            "days": 30,
        }
        probes[mode] = child("delta", "bench.lake_child", params)
        shutil.rmtree(root, ignore_errors=True)
    return {
        "rows": sizes.write_rows,
        "batch": sizes.write_batch,
        "runs": runs,
        "summary": summary,
        "ratio": ratio,
        **probes,
    }


# 2 and 5 -------------------------------------------------------------------------------------


def etl_backfill(
    sim: Sim, flavor: str, warehouse: str, env: dict[str, str] | None = None
) -> dict[str, Any]:
    before = sim.stats()
    params = {
        "host": sim.base_url,
        "token": sim.token,
        "warehouse": warehouse,
        "since": sim.info["since"],
        "until": sim.info["now"],
        "concurrency": 8,
        "rate_per_minute": 100_000,
    }
    result = child(flavor, "bench.etl_child", params, env)
    after = sim.stats()
    result["sim_cpu_s"] = after["cpu_s"] - before["cpu_s"]
    result.pop("streams", None)
    return result


def backfill_rss(sizes: Sizes) -> dict[str, Any]:
    spec = scenarios.latency_world(sizes.backfill)
    out: dict[str, Any] = {"spec": spec, "runs": {}}
    with simulator(**spec) as sim:
        out["truth"] = next(iter(sim.info["truth"].values()))
        for flavor in FLAVORS:
            root = fresh(f"backfill-{flavor}")
            result = etl_backfill(sim, flavor, str(root))
            result["data_files"] = _local_files(root)
            shutil.rmtree(root, ignore_errors=True)
            print(
                f"  backfill {flavor}: {result['wall_s']:.1f}s wall, {result['cpu_s']:.2f} CPU s, "
                f"{result['peak_rss_mb']:.0f} MB, rows {result['rows_written']:,}",
                flush=True,
            )
            out["runs"][flavor] = result
    return out


def _local_files(root: Path) -> dict[str, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    kinds: Counter[str] = Counter(_kind(str(p.relative_to(root))) for p in files)
    return dict(kinds)


def _kind(key: str) -> str:
    if "/_delta_log/" in key:
        return "delta log (json)" if key.endswith(".json") else "delta log (other)"
    if key.endswith(".parquet"):
        return "data files (parquet)"
    return key.split("/", 1)[0] + "/ (state, ledger, leases)" if "/" in key else key


def _tests_on_path() -> None:
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)


def s3_backfill(sizes: Sizes) -> dict[str, Any]:
    _tests_on_path()
    from s3server import running_s3  # type: ignore[import-not-found]

    spec = scenarios.latency_world(sizes.s3_backfill)
    out: dict[str, Any] = {"spec": spec}
    with simulator(**spec) as sim, running_s3() as s3:
        out["truth"] = next(iter(sim.info["truth"].values()))
        bucket = s3.new_bucket()
        result = etl_backfill(sim, "delta", f"s3://{bucket}/lake", s3.env())
        keys = s3.keys(bucket)
        out["objects"] = len(keys)
        out["objects_by_kind"] = dict(Counter(_kind(k.removeprefix("lake/")) for k in keys))
        out["moto_rss_mb"] = _rss_of(s3.process.pid)
        out["moto_cpu_s"] = _cpu_of(s3.process.pid)
        out["run"] = result
        print(
            f"  s3 backfill: {result['wall_s']:.1f}s wall, {result['cpu_s']:.2f} CPU s, "
            f"{result['peak_rss_mb']:.0f} MB, {len(keys)} objects",
            flush=True,
        )
    return out


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds of a running process (/proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return -1.0


def _rss_of(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return -1.0


# 3 and 4 -------------------------------------------------------------------------------------


def queries(sizes: Sizes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for flavor in FLAVORS:
        root = fresh(f"queries-{flavor}")
        params = {
            "mode": "queries",
            "root": str(root),
            "logs": sizes.query_logs,
            "requests": sizes.query_requests,
            "days": 30,
            "batch": sizes.query_batch,
            "repeats": sizes.query_repeats,
        }
        result = child(flavor, "bench.lake_child", params)
        shutil.rmtree(root, ignore_errors=True)
        print(
            f"  queries {flavor}: built in {result['build_s']:.1f}s, error mart "
            f"{result['error_mart_median_s']:.3f}s, requests mart "
            f"{result['requests_mart_median_s']:.3f}s",
            flush=True,
        )
        out[flavor] = result
    return out


def compaction(sizes: Sizes) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for flavor in FLAVORS:
        root = fresh(f"compaction-{flavor}")
        params = {
            "mode": "compaction",
            "root": str(root),
            "runs": sizes.compaction_runs,
            "per_run": 200,
            "repeats": 5,
        }
        result = child(flavor, "bench.lake_child", params)
        shutil.rmtree(root, ignore_errors=True)
        print(
            f"  compaction {flavor}: max files per partition "
            f"{max(result['before_live'].values())} -> {max(result['after_live'].values())}",
            flush=True,
        )
        out[flavor] = result
    return out


# report --------------------------------------------------------------------------------------


def _med(values: list[float]) -> float:
    return statistics.median(values)


def _all(values: list[float], digits: int = 3) -> str:
    return ", ".join(f"{v:.{digits}f}" for v in values)


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def render(results: dict[str, Any], command: str) -> str:
    m = results["machine"]
    lines = [
        "# Issue 10 figures: the Delta lake next to the plain-Parquet lake (0169d41)",
        "",
        f"Command: `{command}` (from /work/main; `--quick` runs a tenth of the sizes).",
        "",
        f"Run: {m['date']}; {m['nproc']} CPUs ({m['cpu']}), {m['memory']} RAM, Python "
        f"{m['python']}; product tree {results.get('tree', '?')}; load average at start "
        f"{m['load average at start']}, at the end "
        f"{results['load_at_end']} (each child's load average at its end is in the JSON). "
        "Each measurement runs in "
        "a fresh child process: `bench/lake_child.py` for the lake figures, "
        "`bench/etl_child.py` for the backfills; the old layout's children run the packages "
        f"of `git archive {LEGACY_COMMIT} warehouse transform flows extract` (extracted to "
        "bench/.work/legacy, first on PYTHONPATH).",
        "",
    ]
    for run in results.get("merged_runs", []):
        lines += [
            f"Figures {', '.join(map(str, run.get('figures', [])))} re-run later and merged "
            f"in: `{run['command']}`, {run['date']}, product tree {run.get('tree', '?')}, load "
            f"average at start {run['load average at start']}"
            + (f", at the end {run['load_at_end']}." if "load_at_end" in run else "."),
            "",
        ]
    lines += _summary(results)
    if "write" in results:
        lines += _write_section(results["write"])
    if "backfill" in results:
        lines += _backfill_section(results["backfill"])
    if "queries" in results:
        lines += _queries_section(results["queries"])
    if "compaction" in results:
        lines += _compaction_section(results["compaction"])
    if "s3" in results:
        lines += _s3_section(results["s3"])
    lines += [
        "## Reading the figures",
        "",
        "What the figures mean, what limits them and what the product could change: "
        "[lake-analysis.md](lake-analysis.md) (written by hand; this file is generated).",
    ]
    return "\n".join(lines) + "\n"


def _summary(r: dict[str, Any]) -> list[str]:
    rows = [
        "## Summary",
        "",
        "| figure | plain Parquet (0169d41) | Delta (HEAD) | target | result |",
        "|---|---|---|---|---|",
    ]
    if "write" in r:
        s = r["write"]["summary"]
        rows.append(
            f"| CPU s per 1M logs written ({r['write']['batch']:,}-row commits) | "
            f"{s['legacy']['cpu_per_million']:.2f} | {s['delta']['cpu_per_million']:.2f} "
            f"({r['write']['ratio']:.2f}x) | <= 1.2x | {_verdict(r['write']['ratio'] <= 1.2)} |"
        )
    if "backfill" in r:
        runs = r["backfill"]["runs"]
        n = r["backfill"]["truth"]["logs"]
        rows.append(
            f"| peak RSS, {n:,}-log backfill | {runs['legacy']['peak_rss_mb']:.0f} MB | "
            f"{runs['delta']['peak_rss_mb']:.0f} MB | <= 500 MB | "
            f"{_verdict(runs['delta']['peak_rss_mb'] <= 500)} |"
        )
    if "queries" in r:
        q = r["queries"]
        n = q["delta"]["logs"]
        for key, label in (("error_mart", "error-log mart"), ("requests_mart", "requests mart")):
            d, old = q["delta"][f"{key}_median_s"], q["legacy"][f"{key}_median_s"]
            rows.append(
                f"| `{label}` over {n:,} logs / {q['delta']['requests']:,} requests, "
                f"`run_sql` median s | {old:.3f} | {d:.3f} | < 1 s | {_verdict(d < 1)} |"
            )
        for key, label in (("day_error_scan", "logs"), ("day_requests_scan", "requests")):
            d, old = q["delta"][key], q["legacy"][key]
            ok = d["files_read"] and max(d["files_read"]) == 1
            rows.append(
                f"| one-day filter on {label}: files read | {_scan_text(old)} | "
                f"{_scan_text(d)} | that day's only | {_verdict(bool(ok))} |"
            )
    if "compaction" in r:
        c = r["compaction"]
        d, old = c["delta"], c["legacy"]
        rows.append(
            f"| compaction after {d['runs']} small writes: max files per partition "
            f"before -> after | {max(old['before_live'].values())} -> "
            f"{max(old['after_live'].values())} | {max(d['before_live'].values())} -> "
            f"{max(d['after_live'].values())} | 1 | "
            f"{_verdict(max(d['after_live'].values()) == 1)} |"
        )
    if "s3" in r:
        s = r["s3"]
        rows.append(
            f"| {s['truth']['logs']:,}-log backfill into moto S3: wall s, objects | - | "
            f"{s['run']['wall_s']:.1f} s, {s['objects']:,} objects | recorded | "
            f"{'**recorded**' if s['run']['ok'] else '**run failed**'} |"
        )
    return [*rows, ""]


def _scan_text(scan: dict[str, Any]) -> str:
    return "; ".join(line for line in scan["lines"] if line.startswith("Scanning Files")) or (
        f"Total Files Read: {scan['files_read']}"
    )


def _write_section(w: dict[str, Any]) -> list[str]:
    lines = [
        f"## 1. CPU of `Lake.write`: {w['rows']:,} logs in {w['batch']:,}-row commits",
        "",
        "Same frames (`bench/lake_frames.py`, 30 days, one project) written into a fresh lake; "
        "CPU = user + system of the child, all threads, summed over the `Lake.write` calls "
        "only. Re-run: the same batches written again (every row already present, what a "
        "lookback or a re-run after a crash does). Children alternate old/new.",
        "",
        "| layout | CPU s per 1M logs (median) | all runs | re-run CPU s per 1M | wall s of the "
        "writes | data files | peak RSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    scale = 1_000_000 / w["rows"]
    for flavor in FLAVORS:
        runs, s = w["runs"][flavor], w["summary"][flavor]
        lines.append(
            f"| {LABEL[flavor]} | {s['cpu_per_million']:.2f} | "
            f"{_all([r['first']['cpu_s'] * scale for r in runs], 2)} | "
            f"{s['rerun_cpu_per_million']:.2f} | {s['wall_s']:.2f} | {runs[0]['files']} | "
            f"{max(r['peak_rss_mb'] for r in runs):.0f} |"
        )
    lines += ["", f"Delta / old: {w['ratio']:.2f}x.", ""]
    if "breakdown" in w:
        lines += _write_probes(w)
    return lines


def _write_probes(w: dict[str, Any]) -> list[str]:
    b = w["breakdown"]["cpu_per_million"]
    lines = [
        "Where the Delta write's CPU goes (one child, the same batches, each step of "
        "`DeltaTables.write` timed on its own, CPU s per 1M logs), with the same rows encoded "
        "by pyarrow alone and appended by delta-rs's own writer for comparison:",
        "",
        "| step | CPU s per 1M logs |",
        "|---|---|",
    ]
    lines += [f"| {name} | {value:.2f} |" for name, value in b.items()]
    return [*lines, ""]


def _backfill_section(b: dict[str, Any]) -> list[str]:
    t = b["truth"]
    lines = [
        f"## 2. Peak RSS of the {t['logs']:,}-log backfill (scenario 1's world)",
        "",
        f"Simulator world: {t['logs']:,} logs over {b['spec']['days']} days, requests and "
        "audit events, 20 ms per call; `flows.core.runner.execute` in `bench/etl_child.py`, "
        "concurrency 8, no client pacing; a fresh local lake each.",
        "",
        "| tree | wall s | CPU s | CPU s per 1M logs | peak RSS MB (imports) | rows written | "
        "API calls | files in the lake |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for flavor in FLAVORS:
        r = b["runs"][flavor]
        files = ", ".join(f"{k} {v}" for k, v in sorted(r["data_files"].items()))
        lines.append(
            f"| {LABEL[flavor]} | {r['wall_s']:.1f} | {r['cpu_s']:.2f} | "
            f"{r['cpu_s'] * 1_000_000 / t['logs']:.2f} | {r['peak_rss_mb']:.0f} "
            f"({r['import_rss_mb']:.0f}) | {r['rows_written']:,} | {r['api_calls']:,} | "
            f"{files} |"
        )
    return [*lines, ""]


def _queries_section(q: dict[str, Any]) -> list[str]:
    d = q["delta"]
    lines = [
        f"## 3. Marts over {d['logs']:,} logs and {d['requests']:,} requests",
        "",
        f"Lakes written with `Lake.write` in {d['batch']:,}-row commits over {d['days']} days. "
        "Every time is one `warehouse.run_sql(root, sql)` call as `ubiops-etl sql` makes it: "
        "a new connection, the views built (for Delta: the table versions' file lists read "
        "from the Delta log), the query, all rows fetched. `SELECT 1` shows that fixed cost.",
        "",
        "| layout | build s | data files logs / requests | error-log mart s (median; all) "
        "| requests mart s (median; all) | `SELECT 1` s | one day, error mart s | one day, "
        "requests mart s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for flavor in FLAVORS:
        r = q[flavor]
        lines.append(
            f"| {LABEL[flavor]} | {r['build_s']:.1f} | {r['files']['logs']} / "
            f"{r['files']['requests']} | {r['error_mart_median_s']:.3f} ({_all(r['error_mart_s'])})"
            f" | {r['requests_mart_median_s']:.3f} ({_all(r['requests_mart_s'])}) | "
            f"{r['connect_only_median_s']:.3f} | {_med(r['day_error_s']):.3f} | "
            f"{_med(r['day_requests_s']):.3f} |"
        )
    lines += [
        "",
        "Answers (both layouts must agree): "
        + "; ".join(
            f"{LABEL[f]}: error mart {q[f]['error_rows']} rows / {q[f]['error_logs_total']:,} "
            f"error logs, requests mart {q[f]['requests_rows']} rows / "
            f"{q[f]['requests_total']:,} requests"
            for f in FLAVORS
        )
        + ".",
        "",
        f"One-day filter (`WHERE day = DATE '{d['day']}'`), `EXPLAIN ANALYZE` through "
        "`run_sql`, the scan node's lines:",
        "",
    ]
    for flavor in FLAVORS:
        for key, label in (
            ("day_error_scan", "mart_error_logs_daily"),
            ("day_requests_scan", "mart_requests_daily"),
            ("full_error_scan", "mart_error_logs_daily, no filter"),
        ):
            scan = q[flavor][key]
            lines.append(f"- {LABEL[flavor]}, {label}: " + "; ".join(scan["lines"]))
    return [*lines, ""]


def _compaction_section(c: dict[str, Any]) -> list[str]:
    d = c["delta"]
    lines = [
        f"## 4. Compaction after {d['runs']} small writes of {d['per_run']} logs",
        "",
        "Each write is one `Lake.write` (a 15-minute sync's worth); then `Lake.compact(run_id)` "
        "(the old `Lake.compact()`). Files per partition of the table's current version "
        "(Delta: from the log; old: on disk) and Parquet files on disk (Delta: after the "
        "sweep that follows the compaction). Query: `SELECT count(*), count(DISTINCT "
        "deployment_name), max(date) FROM logs` through `run_sql`, five runs.",
        "",
        "| layout | writes s (CPU s) | partitions | files before (max per partition) | files after "
        "(max per partition) | on disk after | compact s (CPU s) | query before s | query "
        "after s | same answer |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for flavor in FLAVORS:
        r = c[flavor]
        lines.append(
            f"| {LABEL[flavor]} | {r['write']['wall_s']:.1f} ({r['write']['cpu_s']:.1f}) | "
            f"{len(r['before_live'])} | {sum(r['before_live'].values())} "
            f"({max(r['before_live'].values())}) | {sum(r['after_live'].values())} "
            f"({max(r['after_live'].values())}) | {sum(r['after_disk'].values())} | "
            f"{r['compact_wall_s']:.2f} ({r['compact_cpu_s']:.2f}) | "
            f"{_med(r['query_before_s']):.3f} | {_med(r['query_after_s']):.3f} | "
            f"{r['answer_before'] == r['answer_after']} |"
        )
    lines += ["", "Reports: " + "; ".join(f"{f}: `{c[f]['report']}`" for f in FLAVORS), ""]
    lines.append("CPU ms per small write, by position in the sequence (median of each tenth):")
    lines.append("")
    lines.append("| layout | " + " | ".join(f"{k + 1}/10" for k in range(10)) + " |")
    lines.append("|---|" + "---|" * 10)
    for flavor in FLAVORS:
        each = c[flavor]["write"]["cpu_per_write_s"]
        tenth = max(1, len(each) // 10)
        medians = [_med(each[k * tenth : (k + 1) * tenth] or [0.0]) * 1000 for k in range(10)]
        lines.append(f"| {LABEL[flavor]} | " + " | ".join(f"{m:.0f}" for m in medians) + " |")
    return [*lines, ""]


def _s3_section(s: dict[str, Any]) -> list[str]:
    r, t = s["run"], s["truth"]
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(s["objects_by_kind"].items()))
    return [
        f"## 5. The {t['logs']:,}-log backfill into an S3 server (moto, loopback)",
        "",
        "`tests/s3server.py`'s `running_s3()` (moto's standalone server in its own process), "
        "`--warehouse s3://<bucket>/lake`, the same simulator world as figure 2.",
        "",
        "| wall s | CPU s (ETL) | peak RSS MB (ETL) | moto CPU s | moto peak RSS MB | simulator "
        "CPU s | rows written | objects in the bucket after the run |",
        "|---|---|---|---|---|---|---|---|",
        f"| {r['wall_s']:.1f} | {r['cpu_s']:.2f} | {r['peak_rss_mb']:.0f} | "
        f"{s.get('moto_cpu_s', -1):.1f} | {s['moto_rss_mb']:.0f} | {r['sim_cpu_s']:.1f} | "
        f"{r['rows_written']:,} | {s['objects']:,} |",
        "",
        f"Objects by kind: {kinds}. (Files a commit replaced and the run's end swept are not "
        "in the count: the listing is taken after the run.)",
        "",
    ]


@contextmanager
def _workdir() -> Iterator[None]:
    WORK.mkdir(parents=True, exist_ok=True)
    try:
        yield
    finally:
        for name in ("write", "backfill", "queries", "compaction"):
            for suffix in (*FLAVORS, "breakdown"):
                shutil.rmtree(WORK / f"{name}-{suffix}", ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="issue 10 figures (Delta vs 0169d41)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--only", default="1,2,3,4,5", help="figures to run")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--s3-quick", action="store_true", help="figure 5 at the quick size (moto is slow)"
    )
    parser.add_argument(
        "--merge", action="store_true", help="update the existing JSON with the figures run"
    )
    parser.add_argument(
        "--render", action="store_true", help="only re-render the markdown from the JSON"
    )
    args = parser.parse_args()
    out = args.out or HERE / ("lake-quick.md" if args.quick else "lake.md")
    if args.render:
        saved = json.loads(out.with_suffix(".json").read_text())
        out.write_text(render(saved, saved["command"]))
        print(f"wrote {out}")
        return
    sizes = QUICK if args.quick else FULL
    if args.s3_quick:
        sizes = Sizes(**{**sizes.__dict__, "s3_backfill": scenarios.QUICK})
    only = {int(x) for x in args.only.split(",") if x}
    command = " ".join(["python -m bench.lake_bench", *sys.argv[1:]])
    results: dict[str, Any] = {"machine": machine(), "quick": args.quick, "tree": tree()}
    if args.merge and out.with_suffix(".json").exists():
        results = json.loads(out.with_suffix(".json").read_text())
        results.setdefault("merged_runs", []).append(
            {**machine(), "command": command, "tree": tree(), "figures": sorted(only)}
        )
    extract_legacy()
    steps = {
        1: ("write", write_cpu, "1: CPU of Lake.write, old vs Delta"),
        2: ("backfill", backfill_rss, "2: 1.1M-log backfill, peak RSS"),
        3: ("queries", queries, "3: marts over a large lake"),
        4: ("compaction", compaction, "4: compaction after many small writes"),
        5: ("s3", s3_backfill, "5: backfill into moto S3"),
    }
    with _workdir():
        for number in sorted(only):
            key, run, title = steps[number]
            print(f"figure {title} (load {load()})", flush=True)
            t0 = time.perf_counter()
            results[key] = run(sizes)
            results[key]["elapsed_s"] = time.perf_counter() - t0
            results[key]["load_at_end"] = load()
    if args.merge and results.get("merged_runs"):
        results["merged_runs"][-1]["load_at_end"] = load()  # the first run's stays its own
    else:
        results["load_at_end"] = load()
    results.setdefault("command", command)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    out.write_text(render(results, results["command"]))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
