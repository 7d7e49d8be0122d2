"""Processes of a benchmark run: the simulator, an ETL run, a baseline run, each on its own.

Each measured program runs in a fresh interpreter so its CPU time and peak RSS are its own
(`resource.getrusage(RUSAGE_SELF)` in the child), and the simulator's CPU is never counted.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass
class Sim:
    """A running simulator process and what it said when it came up."""

    process: subprocess.Popen[str]
    info: dict[str, Any]

    @property
    def base_url(self) -> str:
        return str(self.info["base_url"])

    @property
    def token(self) -> str:
        return str(self.info["token"])

    def stats(self) -> dict[str, Any]:
        root = self.base_url.split("/v2.1")[0]
        response = httpx.get(f"{root}/__bench__/stats", timeout=60)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


@contextmanager
def simulator(**spec: Any) -> Iterator[Sim]:
    """Start `bench.simproc` with the given world spec and faults; stop it on exit."""
    process = subprocess.Popen(
        [PYTHON, "-m", "bench.simproc", json.dumps(spec)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the simulator process did not start")
        yield Sim(process, json.loads(line))
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_child(
    module: str,
    params: dict[str, Any],
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    wrap: list[str] | None = None,
) -> Any:
    """Run `python -m module '<params json>'` and return the JSON of its last stdout line.

    `cwd` is the code tree to run (its packages come first on the path): this one by default.
    `wrap` is a command that runs it (a profiler's `py-spy record ... --`).
    """
    started = time.perf_counter()
    done = subprocess.run(
        [*(wrap or []), PYTHON, "-m", module, json.dumps(params)],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise RuntimeError(f"{module} failed with exit code {done.returncode}")
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    result = json.loads(lines[-1])
    if isinstance(result, dict):
        result.setdefault("process_wall_s", time.perf_counter() - started)
    return result


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": str(os.cpu_count()),
        "memory": memory,
        "cpu": cpu,
        "python": platform.python_version(),
        "load average at start": load,
    }


def tree() -> str:
    """The commit measured, and whether the product's packages had uncommitted changes."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "warehouse", "flows", "transform", "extract"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return f"{head}{' with uncommitted changes in the product' if dirty else ' (clean)'}"
