"""How fast the command line starts (issue 15): `python -m bench.startup_bench [--repeats N]`.

Against the simulator in its own process (3 projects, `bench/simproc.py`, which records the
time of every API call), it measures with the installed `ubiops-etl`:

- the wall time of `sync` when nothing is new, run directly (no Prefect API configured) and
  as a Prefect flow run (a `prefect server start` of its own, `PREFECT_API_URL` set);
- the time from starting the process to its first API call, on both paths;
- the wall time of `demo` on a warm machine (direct, and with `--prefect`, which starts
  Prefect's temporary server), and of `status`, `sql` and `--help`.

Writes `bench/startup.md` (and the raw figures in `bench/startup.json`).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.harness import machine

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
CLI = str(BIN / "ubiops-etl")
WORLD = {"projects": 3, "days": 2, "logs_per_day": 1500, "requests_per_day": 200, "seed": 3}


@contextmanager
def simulator() -> Iterator[dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.simproc", json.dumps(WORLD)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    ready = json.loads(proc.stdout.readline())
    try:
        yield ready
    finally:
        proc.stdin.close()
        proc.wait(30)


@contextmanager
def prefect_server(home: Path) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    proc = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 180
    while True:  # polling another process for readiness
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise TimeoutError("prefect server did not start")
        time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def calls_since(base_url: str, started: float) -> list[float]:
    root = base_url.split("/v2.1", maxsplit=1)[0]
    stats = httpx.get(f"{root}/__bench__/stats", timeout=30).json()
    return sorted(c[0] for c in stats["calls"] if c[0] >= started)


def timed(args: list[str], env: dict[str, str], base_url: str | None = None) -> dict[str, Any]:
    started = time.time()
    done = subprocess.run([CLI, *args], env=env, capture_output=True, text=True, check=False)
    wall = time.time() - started
    if done.returncode != 0:
        raise RuntimeError(f"{args} exited {done.returncode}: {done.stderr[-2000:]}")
    figures: dict[str, Any] = {"wall_s": round(wall, 2)}
    if base_url is not None:
        calls = calls_since(base_url, started)
        figures["first_call_s"] = round(calls[0] - started, 2) if calls else None
        figures["calls"] = len(calls)
    return figures


def run(repeats: int) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine(), "repeats": repeats}
    work = Path(tempfile.mkdtemp(prefix="startup-bench-"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("UBIOPS_", "PREFECT_"))}
    base.update(
        PREFECT_HOME=str(work / "no-profile"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        UBIOPS_ETL_RATE_PER_MINUTE="60000",
    )
    with simulator() as sim:
        env = base | {
            "UBIOPS_API_HOST": sim["base_url"],
            "UBIOPS_API_TOKEN": sim["token"],
        }
        with prefect_server(work / "prefect-home") as api:
            engines = {
                "direct": env | {"UBIOPS_ETL_WAREHOUSE": str(work / "direct")},
                "prefect": env
                | {
                    "UBIOPS_ETL_WAREHOUSE": str(work / "prefect"),
                    "PREFECT_API_URL": api,
                    "PREFECT_HOME": str(work / "prefect-home"),
                },
            }
            for engine, engine_env in engines.items():
                first = timed(["sync", "--since", "1d"], engine_env, sim["base_url"])
                again = [timed(["sync"], engine_env, sim["base_url"]) for _ in range(repeats)]
                results[f"sync_{engine}"] = {"first": first, "nothing_new": again}
        direct_env = engines["direct"]
        results["status"] = [timed(["status"], direct_env) for _ in range(repeats)]
        results["sql"] = [
            timed(["sql", "SELECT count(*) FROM logs"], direct_env) for _ in range(repeats)
        ]
        results["help"] = [timed(["--help"], direct_env) for _ in range(repeats)]
    demo_env = base | {"UBIOPS_ETL_WAREHOUSE": str(work / "demo")}
    timed(["demo"], demo_env)  # warms the OS file cache and the compiled bytecode
    results["demo_direct"] = [timed(["demo"], demo_env) for _ in range(repeats)]
    results["demo_prefect"] = [timed(["demo", "--prefect"], demo_env)]
    return results


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Start-up of the command line (issue 15)",
        "",
        "Command: `.venv/bin/python -m bench.startup_bench` "
        f"(medians of {results['repeats']} runs). Machine: {m['cpu']}, {m['nproc']} cores, "
        f"{m['memory']}; load average at the start {m['load average at start']}; {m['date']}.",
        "Simulator: 3 projects in its own process (`bench/simproc.py`), on loopback.",
        "",
        "| what | direct (no Prefect API) | as a Prefect flow run |",
        "|---|---|---|",
    ]
    d, p = results["sync_direct"], results["sync_prefect"]
    lines += [
        f"| first `sync --since 1d`: wall s | {d['first']['wall_s']} | {p['first']['wall_s']} |",
        f"| first `sync`: API calls | {d['first']['calls']} | {p['first']['calls']} |",
        f"| `sync` with nothing new: wall s | {_median(d['nothing_new'], 'wall_s'):.2f} | "
        f"{_median(p['nothing_new'], 'wall_s'):.2f} |",
        f"| `sync` with nothing new: s to the first API call | "
        f"{_median(d['nothing_new'], 'first_call_s'):.2f} | "
        f"{_median(p['nothing_new'], 'first_call_s'):.2f} |",
        f"| `demo` (warm): wall s | {_median(results['demo_direct'], 'wall_s'):.2f} | "
        f"{results['demo_prefect'][0]['wall_s']} (`--prefect`, temporary server) |",
        "",
        "| command | wall s (median) |",
        "|---|---|",
        f"| `status` | {_median(results['status'], 'wall_s'):.2f} |",
        f'| `sql "SELECT count(*) FROM logs"` | {_median(results["sql"], "wall_s"):.2f} |',
        f"| `--help` | {_median(results['help'], 'wall_s'):.2f} |",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="ubiops-etl start-up figures (issue 15)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results = run(args.repeats)
    (HERE / "startup.json").write_text(json.dumps(results, indent=1))
    (HERE / "startup.md").write_text(render(results))
    print(render(results))


if __name__ == "__main__":
    main()
