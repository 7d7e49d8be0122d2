"""Scale-out figures (issue 12): projects synced per minute with 1, 2 and 4 Dask worker
processes against a rate-limited simulator, for each code tree given (so two ways of sharing
the API budget run side by side on one simulator and one Prefect server), the cost of one
slot of a shared budget, and Prefect's overhead per (project, stream) task.

    .venv/bin/python -m bench.scaleout_bench [--out bench/scaleout.md]
        [--tree split=/tmp/ubiops-etl-split] [--tree shared=.]

A tree is a checkout of this repository (`git archive <commit> | tar -x -C DIR`); its runs
put it first on PYTHONPATH, which the Dask worker processes inherit. The simulator runs in
its own process (`bench/simproc.py`: 20 projects, 20 ms latency per call, a limit per
endpoint group enforced); a real `prefect server start` serves the runs; each sync is the
installed CLI as a user runs it. Each figure is one run (the machine is shared; the load
average is recorded with it).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
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

from bench.harness import ROOT, Sim, simulator

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


def one_run(
    sim: Sim, lake: Path, api: str | None, home: Path, *flags: str, tree: str = "."
) -> dict[str, Any]:
    """A first `sync` of the whole world with the code of `tree`; its wall time, ledger and
    the calls it made."""
    env = _clean_env() | {
        "PREFECT_HOME": str(home),
        "UBIOPS_API_HOST": sim.base_url,
        "UBIOPS_API_TOKEN": sim.token,
        "UBIOPS_ETL_WAREHOUSE": str(lake),
        "PYTHONPATH": str((ROOT / tree).resolve()),
        # Dask's sampling profiler calls sys._current_frames(), which can deadlock a worker
        # on Python < 3.11.9 (dask/distributed#8616, python/cpython#116969); a bench run
        # hung on it here. Off for every tree alike.
        "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False",
    }
    if api:
        env["PREFECT_API_URL"] = api
    before = len(sim.stats()["calls"])
    started = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "ubiops-etl"), "sync", "--since", str(sim.info["since"]), *flags],
        env=env,
        cwd=ROOT / tree,
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
        "tree": tree,
        "flags": " ".join(flags) or "(direct)",
        "wall_s": round(wall, 1),
        "run_s": round(ledger["duration_s"], 1),
        "tasks": len(ledger["streams"]),
        "calls": len(calls),
        "throttled": sum(1 for c in calls if c[3] == 429),
        "most_per_minute": max(windows.values()),
        "by_group": {
            group: [
                sum(1 for c in calls if c[2] == group),
                max(n for (g, _w), n in windows.items() if g == group),
            ]
            for group in sorted({c[2] for c in calls})
        },
        "calls_per_min_of_run": round(len(calls) / ledger["duration_s"] * 60),
        "projects_per_min": round(WORLD["projects"] / ledger["duration_s"] * 60, 1),
        "load": os.getloadavg()[0],
    }


def slot_cost(api: str, home: Path, slots: int = 300) -> dict[str, float]:
    """Milliseconds per slot of a shared budget that never makes anyone wait, from one
    caller: a Prefect global concurrency limit used as a rate limit (`rate_limit`, one
    Prefect API call per slot) and the budget on the Dask scheduler (one round trip from a
    task on a worker process)."""
    from distributed import Client, LocalCluster

    from flows.dask_budget import install

    with (
        LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        install(client)
        dask_ms = client.submit(_dask_slots, slots, pure=False).result()
    prefect_ms = asyncio.run(_prefect_slots(api, home, slots))
    return {"prefect_rate_limit_ms": prefect_ms, "dask_scheduler_ms": dask_ms}


def _dask_slots(slots: int) -> float:
    """In a task on a worker: the mean time of one slot from the scheduler (no limit known,
    so no slot waits)."""
    from pydantic import SecretStr

    from extract import ClientConfig
    from flows.dask_budget import worker_pacing

    pacer = worker_pacing(ClientConfig(host="https://slot-cost.test", token=SecretStr("t")))

    async def run() -> float:
        await pacer["general"].acquire()  # the first round trip opens the connection
        started = time.perf_counter()
        for _ in range(slots):
            await pacer["general"].acquire()
        return (time.perf_counter() - started) / slots * 1000

    return asyncio.run(run())


async def _prefect_slots(api: str, home: Path, slots: int) -> float:
    """The mean time of one `rate_limit` slot of a limit that decays faster than it fills."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.concurrency.asyncio import rate_limit
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    with temporary_settings({PREFECT_API_URL: api, PREFECT_HOME: home}):
        async with get_client() as client:
            await client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(
                    name="slot-cost", limit=10_000, slot_decay_per_second=10_000.0
                )
            )
        await rate_limit("slot-cost", strict=True)
        started = time.perf_counter()
        for _ in range(slots):
            await rate_limit("slot-cost", strict=True)
        return (time.perf_counter() - started) / slots * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the markdown report here")
    parser.add_argument("--tree", action="append", default=[], help="label=path of a checkout")
    parser.add_argument("--repeats", type=int, default=1, help="limited runs of each tree")
    args = parser.parse_args()
    trees: dict[str, str] = dict(t.split("=", 1) for t in args.tree) or {"this": "."}
    results: dict[str, Any] = {
        "limited": [],
        "unlimited": [],
        "trees": trees,
        "repeats": args.repeats,
    }
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        with prefect_server(tmp / "home") as api:
            with simulator(**WORLD, rate_limit_per_min=LIMIT) as sim:
                for repeat, n in itertools.product(range(args.repeats), (1, 2, 4)):
                    flags = ("--task-runner", "dask", "--dask-workers", str(n))
                    # Trees alternate, and change places each repeat, so neither always
                    # runs on the busier side of the shared machine.
                    order = list(trees.items())[:: -1 if repeat % 2 else 1]
                    for label, tree in order:
                        lake = tmp / f"lim{n}-{label}-{repeat}"
                        row = one_run(sim, lake, api, tmp / "home", *flags, tree=tree)
                        row["tree"] = label
                        results["limited"].append(row)
                        print(json.dumps(row), flush=True)
            results["slot_cost"] = slot_cost(api, tmp / "home") | {"load": os.getloadavg()[0]}
            print(json.dumps(results["slot_cost"]), flush=True)
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
    if args.out:
        args.out.write_text(report)


def render(results: dict[str, Any], load: tuple[float, float, float]) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    trees = " ".join(f"--tree {label}={tree}" for label, tree in results["trees"].items())
    cost = results["slot_cost"]
    lines = [
        "# Scale-out (issue 12)",
        "",
        f"Command: `.venv/bin/python -m bench.scaleout_bench --out bench/scaleout.md {trees} "
        f"--repeats {results['repeats']}`. {os.cpu_count()} cores, shared; load average at the "
        f"start {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}; {when}. Each row is one run.",
        f"Simulator in its own process: {WORLD['projects']} projects, 1 day, "
        f"{WORLD['latency_s'] * 1000:.0f} ms per call; a real Prefect server; first `sync` "
        "of the whole world through the installed CLI, with the code of each tree; Dask's "
        "worker profiler off (`DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False`, see the "
        "bench's source).",
        "",
        f"## Projects per minute, {LIMIT} calls a minute per endpoint group enforced",
        "",
        f"Budget used: calls a minute of the run over the {2 * LIMIT} the server allows "
        "(both groups); most of the calls are in the general group, whose calls a minute "
        f"of the run are shown on their own (at most {LIMIT}).",
        "",
        "| tree | flags | run s | wall s | tasks | API calls (general, requests) | 429s | most "
        "calls in one minute window (general, requests) | calls/min | budget used | "
        "general calls/min | projects/min | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted(results["limited"], key=lambda r: (r["flags"], r["tree"])):
        used = r["calls_per_min_of_run"] / (2 * LIMIT)
        groups = [r["by_group"].get(g, [0, 0]) for g in ("general", "requests")]
        lines.append(
            f"| {r['tree']} | `{r['flags']}` | {r['run_s']} | {r['wall_s']} | {r['tasks']} | "
            f"{r['calls']} ({groups[0][0]}, {groups[1][0]}) | {r['throttled']} | "
            f"{groups[0][1]}, {groups[1][1]} | {r['calls_per_min_of_run']} | {used:.0%} | "
            f"{groups[0][0] / r['run_s'] * 60:.0f} | {r['projects_per_min']} | {r['load']:.1f} |"
        )
    lines += [
        "",
        "## One slot of a shared budget (one caller, no waiting)",
        "",
        "| Prefect global concurrency limit, `rate_limit` | budget on the Dask scheduler, "
        "from a task on a worker | load (1 min) |",
        "|---|---|---|",
        f"| {cost['prefect_rate_limit_ms']:.1f} ms | {cost['dask_scheduler_ms']:.1f} ms | "
        f"{cost['load']:.1f} |",
    ]
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
