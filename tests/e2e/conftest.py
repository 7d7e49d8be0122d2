"""End-to-end: the installed `ubiops-etl` as a subprocess, as a user runs it.

One Prefect server (`prefect server start`, tests/conftest.py) serves the whole session, the
way a scheduled installation runs; the simulator runs as its own process over a real socket.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
CLI = str(BIN / "ubiops-etl")


def wait_until(check, what: str, timeout_s: float = 90.0) -> None:
    """Poll an external process for readiness (not a sleep standing in for logic)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout_s}s")
        time.sleep(0.2)


def base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UBIOPS_", "PREFECT_"))}
    env.update(
        PREFECT_HOME=str(tmp / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        UBIOPS_ETL_MAX_ATTEMPTS="3",
        UBIOPS_ETL_MAX_RETRY_SECONDS="10",
        # The local simulator enforces no rate limit; pacing has its own tests in extract.
        UBIOPS_ETL_RATE_PER_MINUTE="60000",
    )
    return env


@dataclass
class SimProc:
    host: str
    token: str
    proc: subprocess.Popen[str]


@pytest.fixture(scope="module")
def simulator_proc() -> Iterator[SimProc]:
    """`ubiops-etl simulator` as a separate server; reads its two ready-to-paste lines."""
    proc = subprocess.Popen(
        [
            CLI,
            "simulator",
            "--port",
            "0",
            "--seed",
            "5",
            "--projects",
            "2",
            "--days",
            "2",
            "--logs-per-day",
            "500",
            "--requests-per-day",
            "40",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: dict[str, str] = {}
    while len(lines) < 2:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"simulator exited with {proc.wait()}")
        match = re.match(r"(UBIOPS_API_HOST|UBIOPS_API_TOKEN)=(.*)", line.strip())
        if match:
            lines[match.group(1)] = match.group(2).strip("'")
    try:
        yield SimProc(lines["UBIOPS_API_HOST"], lines["UBIOPS_API_TOKEN"], proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class Cli:
    env: dict[str, str]

    def __call__(self, *args: str, timeout: float = 240, **extra_env: str):
        env = {**self.env, **extra_env}
        return subprocess.run(
            [CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
        )


@pytest.fixture
def cli(tmp_path: Path, prefect_api: str, prefect_home: Path, simulator_proc: SimProc) -> Cli:
    """Run `ubiops-etl` against the simulator and the session's Prefect server
    (tests/conftest.py)."""
    env = base_env(tmp_path)
    env["PREFECT_HOME"] = str(prefect_home)
    env.update(
        PREFECT_API_URL=prefect_api,
        UBIOPS_API_HOST=simulator_proc.host,
        UBIOPS_API_TOKEN=simulator_proc.token,
        UBIOPS_ETL_WAREHOUSE=str(tmp_path / "lake"),
    )
    return Cli(env)


@pytest.fixture
def poll():
    """`wait_until` for tests that wait on another process."""
    return wait_until
