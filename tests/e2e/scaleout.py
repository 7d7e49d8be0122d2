"""Support for the scale-out tests: the simulator in its own process (`bench/simproc.py`,
which records every call it serves), real Dask scheduler and worker processes, and the lake
compared with the simulator's ground truth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLI = str(BIN / "ubiops-etl")


def env_for(sim: SimProc, prefect_api: str, prefect_home: Path, **extra: str) -> dict[str, str]:
    """The environment of the CLI, workers and Dask processes: this test's only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UBIOPS_", "PREFECT_"))}
    env.update(
        PREFECT_HOME=str(prefect_home),
        PREFECT_API_URL=prefect_api,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        UBIOPS_API_HOST=sim.host,
        UBIOPS_API_TOKEN=sim.token,
        UBIOPS_ETL_MAX_ATTEMPTS="3",
        UBIOPS_ETL_MAX_RETRY_SECONDS="10",
        # A work pool's worker asks for scheduled flow runs every 10 s by default: every
        # deployment run of a test would wait up to that long before it starts.
        PREFECT_WORKER_QUERY_SECONDS="1",
    )
    return env | extra


def run_cli(
    env: dict[str, str], *args: str, timeout: float = 400
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def poll(check: Callable[[], Any], what: str, timeout_s: float = 120.0) -> Any:
    """Poll another process until `check()` is truthy (readiness, state), with a deadline."""
    deadline = time.monotonic() + timeout_s
    while not (value := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout_s}s")
        time.sleep(0.2)
    return value


@dataclass
class SimProc:
    """`bench.simproc`: the simulator's base URL, token, range and true counts."""

    info: dict[str, Any]
    proc: subprocess.Popen[str]

    @property
    def host(self) -> str:
        return str(self.info["base_url"])

    @property
    def token(self) -> str:
        return str(self.info["token"])

    @property
    def truth(self) -> dict[str, dict[str, int]]:
        return dict(self.info["truth"])

    def calls(self) -> list[tuple[float, str, str, int]]:
        """(time, operation, endpoint group, status) of every API call served."""
        root = self.host.split("/v2")[0]
        body = httpx.get(f"{root}/__bench__/stats", timeout=30).json()
        return [tuple(call) for call in body["calls"]]  # type: ignore[misc]


@contextmanager
def simulator(spec: dict[str, Any]) -> Iterator[SimProc]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.simproc", json.dumps(spec)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"simulator exited with {proc.wait()}")
    try:
        yield SimProc(json.loads(line), proc)
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def most_per_minute(calls: list[tuple[float, str, str, int]]) -> dict[str, int]:
    """Per endpoint group, the most calls in one of the simulator's one-minute windows."""
    windows = Counter((group, int(at // 60)) for at, _op, group, _status in calls)
    most: dict[str, int] = {}
    for (group, _window), count in windows.items():
        most[group] = max(most.get(group, 0), count)
    return most


def lake_counts(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """{project: {table: rows}} from `SELECT project, 't' AS t, count(*) AS n ...` rows."""
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(str(row["project"]), {})[str(row["t"])] = int(row["n"])
    return counts


COUNT_SQL = (
    "SELECT project, 'logs' AS t, count(*) AS n, count(DISTINCT id) AS d FROM logs GROUP BY 1 "
    "UNION ALL SELECT project, 'requests', count(*), count(DISTINCT id) FROM requests GROUP BY 1 "
    "UNION ALL SELECT project, 'audit_events', count(*), count(DISTINCT id) FROM audit_events "
    "GROUP BY 1"
)


@dataclass
class DaskCluster:
    """A `dask scheduler` and `dask worker` processes (no nanny: a killed worker stays dead)."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    client: Any = None

    def processing(self) -> dict[str, list[str]]:
        """Per worker address, the tasks the scheduler has given it (running or queued)."""
        return {addr: list(keys) for addr, keys in self.client.processing().items()}

    def worker_pids(self) -> dict[str, int]:
        return {addr: int(pid) for addr, pid in self.client.run(os.getpid).items()}


@contextmanager
def dask_cluster(tmp: Path, workers: int, env: dict[str, str]) -> Iterator[DaskCluster]:
    """A scheduler that fails a task as soon as its worker dies (no retry elsewhere, so the
    run reports it), and `workers` single-process workers with `env`."""
    file = tmp / "scheduler.json"
    sched_flags = ["--no-dashboard", "--scheduler-file", str(file)]
    scheduler_env = {**env, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    # Each process's log is kept in `tmp` for whoever reads a failure.
    names = ["scheduler.log", *(f"worker-{n}.log" for n in range(workers))]
    logs = [(tmp / name).open("wb") for name in names]
    scheduler = subprocess.Popen(
        [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", *sched_flags],
        env=scheduler_env,
        stdout=subprocess.DEVNULL,
        stderr=logs[0],
    )
    # As the README asks of an existing cluster on Python before 3.11.9: the workers'
    # sampling profiler off (it can deadlock a worker; the scheduler then waits out its
    # 300 s worker TTL before it fails the worker's tasks).
    worker_env = {**env, "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        poll(lambda: file.exists() and file.read_text().strip(), "dask scheduler")
        address = json.loads(file.read_text())["address"]
        worker_flags = ["--nthreads", "4", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"]
        worker_flags.append("--name")
        for n in range(workers):
            procs.append(
                subprocess.Popen(
                    [str(BIN / "dask"), "worker", address, *worker_flags, f"w{n}"],
                    env=worker_env,
                    stdout=subprocess.DEVNULL,
                    stderr=logs[1 + n],
                )
            )
        from distributed import Client

        with Client(address, timeout=60) as client:
            cluster = DaskCluster(address, scheduler, procs, client)
            poll(lambda: len(cluster.worker_pids()) == workers, "dask workers")
            yield cluster
    finally:
        for proc in [*procs, scheduler]:
            proc.terminate()
        for proc in [*procs, scheduler]:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()


def start_deployment_run(api: str, name: str, **params: object) -> str:
    """A flow run of deployment `name`, its stored parameters with `params` on top."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(name)
        stored = dict(deployment.parameters.get("params", {}))
        run = client.create_flow_run_from_deployment(
            deployment.id, parameters={"params": stored | params}
        )
        return str(run.id)


def final_state(api: str, flow_run_id: str) -> str | None:
    """The flow run's state type once it is final, else None."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run_id).state
    return state.type.value if state is not None and state.is_final() else None


def delete_deployments(api: str, names: list[str]) -> None:
    """Remove deployments a test registered, so later tests on the session's server that
    register the same names (serve) see only their own."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        for name in names:
            with suppress(ObjectNotFound):
                client.delete_deployment(client.read_deployment_by_name(name).id)
