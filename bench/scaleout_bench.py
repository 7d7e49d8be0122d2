"""Scale-out figures (issue 12): projects synced per minute with 1, 2 and 4 Dask worker
processes against a rate-limited simulator, and Prefect's overhead per (project, stream) task.

    .venv/bin/python -m bench.scaleout_bench [--out bench/scaleout.md]

The simulator runs in its own process (`bench/simproc.py`: 20 projects, 20 ms latency per
call, a limit per endpoint group enforced); a real `prefect server start` serves the runs;
each sync is the installed CLI as a user runs it. Each figure is one run (the machine is
shared; the load average is recorded with it).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.harness import Sim, simulator

BIN = Path(sys.executable).parent
WORLD: dict[str, Any] = {
    "seed": 12,
    "projects": 20,
    "days": 1,
    "backfill_days": 1,
    "logs_per_day": 400,
    "requests_per_day": 20,
    "latency_s": 0.02,
}
LIMIT = 600  # calls a minute per endpoint group


@contextmanager
def prefect_server(home: Path) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    url = f"http://127.0.0.1:{port}/api"
    env = _clean_env() | {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    proc = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    try:
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("prefect server did not start")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("UBIOPS_", "PREFECT_"))}


def one_run(sim: Sim, lake: Path, api: str | None, home: Path, *flags: str) -> dict[str, Any]:
    """A first `sync` of the whole world; its wall time, ledger and the calls it made."""
    env = _clean_env() | {
        "PREFECT_HOME": str(home),
        "UBIOPS_API_HOST": sim.base_url,
        "UBIOPS_API_TOKEN": sim.token,
        "UBIOPS_ETL_WAREHOUSE": str(lake),
    }
    if api:
        env["PREFECT_API_URL"] = api
    before = len(sim.stats()["calls"])
    started = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "ubiops-etl"), "sync", "--since", str(sim.info["since"]), *flags],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"sync {flags} failed: {done.stderr[-2000:]}")
    calls = sim.stats()["calls"][before:]
    from warehouse import Lake

    ledger = Lake.open(lake).ledger.read()[-1]
    windows = Counter((group, int(at // 60)) for at, _op, group, _status in calls)
    return {
        "flags": " ".join(flags) or "(direct)",
        "wall_s": round(wall, 1),
        "run_s": round(ledger["duration_s"], 1),
        "tasks": len(ledger["streams"]),
        "calls": len(calls),
        "throttled": sum(1 for c in calls if c[3] == 429),
        "most_per_minute": max(windows.values()),
        "calls_per_min_of_run": round(len(calls) / ledger["duration_s"] * 60),
        "projects_per_min": round(WORLD["projects"] / ledger["duration_s"] * 60, 1),
        "load": os.getloadavg()[0],
    }


def main() -> None:
    out = Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else None
    results: dict[str, list[dict[str, Any]]] = {"limited": [], "unlimited": []}
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        with prefect_server(tmp / "home") as api:
            with simulator(**WORLD, rate_limit_per_min=LIMIT) as sim:
                for n in (1, 2, 4):
                    flags = ("--task-runner", "dask", "--dask-workers", str(n))
                    row = one_run(sim, tmp / f"lim{n}", api, tmp / "home", *flags)
                    results["limited"].append(row)
                    print(json.dumps(row), flush=True)
            with simulator(**WORLD) as sim:
                for label, api_url, flags in (
                    ("direct", None, ()),
                    ("local", api, ("--task-runner", "local")),
                    ("dask2", api, ("--task-runner", "dask", "--dask-workers", "2")),
                ):
                    row = one_run(sim, tmp / f"free-{label}", api_url, tmp / "home", *flags)
                    results["unlimited"].append(row)
                    print(json.dumps(row), flush=True)
    report = render(results, load_start)
    print(report)
    if out:
        out.write_text(report)


def render(results: dict[str, list[dict[str, Any]]], load: tuple[float, float, float]) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        "# Scale-out (issue 12)",
        "",
        "Command: `.venv/bin/python -m bench.scaleout_bench --out bench/scaleout.md`. "
        f"{os.cpu_count()} cores, shared; load average at the start "
        f"{load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}; {when}. Each figure is one run.",
        f"Simulator in its own process: {WORLD['projects']} projects, 1 day, "
        f"{WORLD['latency_s'] * 1000:.0f} ms per call; a real Prefect server; first `sync` "
        "of the whole world through the installed CLI.",
        "",
        f"## Projects per minute, {LIMIT} calls a minute per endpoint group enforced",
        "",
        "| flags | run s | wall s | tasks | API calls | 429s | most calls in one minute "
        "window | calls/min | projects/min | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["limited"]:
        lines.append(
            f"| `{r['flags']}` | {r['run_s']} | {r['wall_s']} | {r['tasks']} | {r['calls']} | "
            f"{r['throttled']} | {r['most_per_minute']} | {r['calls_per_min_of_run']} | "
            f"{r['projects_per_min']} | {r['load']:.1f} |"
        )
    lines += [
        "",
        "## Prefect's overhead per (project, stream) task, no limit enforced",
        "",
        "| flags | run s | wall s | tasks | API calls | overhead per task vs direct (run s) |",
        "|---|---|---|---|---|---|",
    ]
    direct = results["unlimited"][0]
    for r in results["unlimited"]:
        per_task = (r["run_s"] - direct["run_s"]) / r["tasks"]
        lines.append(
            f"| `{r['flags']}` | {r['run_s']} | {r['wall_s']} | {r['tasks']} | {r['calls']} | "
            f"{per_task * 1000:.0f} ms |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
