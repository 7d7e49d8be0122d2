"""Scale-out with the real parts: Dask worker processes sharing one API budget, and a Prefect
work pool whose process worker runs a deployment on a Dask cluster writing an S3 lake."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from e2e.scaleout import (
    BIN,
    COUNT_SQL,
    dask_cluster,
    delete_deployments,
    env_for,
    final_state,
    lake_counts,
    most_per_minute,
    poll,
    run_cli,
    simulator,
    start_deployment_run,
)
from s3server import S3Server

from warehouse import Lake, LakeLocation

pytestmark = pytest.mark.timeout(600)

LIMIT = 120  # calls per minute per endpoint group, enforced by the simulator


def exact(cli_sql: list[dict[str, object]], truth: dict[str, dict[str, int]]) -> None:
    """Every project's logs, requests and audit events are in the lake once each."""
    assert all(row["n"] == row["d"] for row in cli_sql), "duplicate ids"
    assert lake_counts(cli_sql) == truth


def test_four_dask_workers_together_stay_within_the_servers_limit(
    tmp_path: Path, prefect_api: str, prefect_home: Path
) -> None:
    """`sync --task-runner dask --dask-workers 4` against a simulator enforcing 120 calls a
    minute per endpoint group: the four worker processes together never exceed it (no 429,
    no window over the limit) although the run needs more calls than one minute allows, and
    the lake is exact."""
    spec = {
        "seed": 21,
        "projects": 10,
        "days": 1,
        "backfill_days": 1,
        "logs_per_day": 100,
        "requests_per_day": 10,
        "rate_limit_per_min": LIMIT,
    }
    with simulator(spec) as sim:
        env = env_for(sim, prefect_api, prefect_home, UBIOPS_ETL_WAREHOUSE=str(tmp_path / "lake"))
        args = ["sync", "--task-runner", "dask", "--dask-workers", "4"]
        done = run_cli(env, *args, "--since", sim.info["since"])
        assert done.returncode == 0, done.stderr
        calls = sim.calls()
        assert sim.token.split()[-1] not in done.stdout + done.stderr
        ledger = Lake.open(tmp_path / "lake").ledger.read()[-1]
        assert ledger["engine"] == "prefect"
        assert ledger["ok"]
        assert ledger["throttled"] == 0
        assert [c for c in calls if c[3] == 429] == []
        most = most_per_minute(calls)
        assert max(most.values()) <= LIMIT, most
        per_group = {g: sum(1 for c in calls if c[2] == g) for g in most}
        assert max(per_group.values()) > LIMIT, f"the limit never bound: {per_group}"
        counts = run_cli(env, "sql", COUNT_SQL, "--format", "json")
        assert counts.returncode == 0, counts.stderr
        exact(json.loads(counts.stdout), sim.truth)


def test_dask_without_a_prefect_api_runs_on_a_temporary_server(tmp_path: Path) -> None:
    """`sync --task-runner dask` with no Prefect API configured runs as a flow run on the
    temporary Prefect server Prefect starts, whose address the local cluster's workers are
    given, and lands the lake exactly; with `--dask-address` it exits 2 at once, since an
    existing cluster's workers could not reach that server."""
    spec = {"seed": 23, "projects": 3, "days": 1, "backfill_days": 1, "logs_per_day": 100}
    with simulator(spec) as sim:
        env = env_for(
            sim, "", tmp_path / "prefect-home", UBIOPS_ETL_WAREHOUSE=str(tmp_path / "lake")
        )
        del env["PREFECT_API_URL"]
        args = [
            "sync",
            "--task-runner",
            "dask",
            "--dask-workers",
            "2",
            "--since",
            sim.info["since"],
        ]
        done = run_cli(env, *args)
        assert done.returncode == 0, done.stderr
        ledger = Lake.open(tmp_path / "lake").ledger.read()[-1]
        assert (ledger["engine"], ledger["ok"]) == ("prefect", True)
        counts = run_cli(env, "sql", COUNT_SQL, "--format", "json")
        exact(json.loads(counts.stdout), sim.truth)
        refused = run_cli(env, *args[:3], "--dask-address", "tcp://127.0.0.1:9", timeout=60)
        assert refused.returncode == 2, refused.stderr
        assert "PREFECT_API_URL" in refused.stderr


def test_a_work_pool_deployment_on_dask_survives_a_killed_worker(
    tmp_path: Path,
    prefect_api: str,
    prefect_home: Path,
    s3_server: S3Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`ubiops-etl deploy --pool` registers the deployments; a process worker runs the sync
    deployment, whose tasks run on a Dask cluster of two worker processes and write a lake on
    the S3 server. One Dask worker is killed while it runs tasks: the flow run ends Failed and
    its ledger names the tasks that failed; the next deployment run lands all 20 projects
    exactly (logs, requests and audit events; snapshots, seven small tables per project, are
    left out to keep the S3 server's work short)."""
    root = f"s3://{s3_server.new_bucket()}/lake"
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    spec = {
        "seed": 31,
        "projects": 20,
        "days": 1,
        "backfill_days": 1,
        "logs_per_day": 100,
        "requests_per_day": 10,
        "latency_s": 0.05,  # tasks last about a second: one runs when a worker is killed
    }
    pool = f"e2e-{uuid.uuid4().hex[:8]}"
    with simulator(spec) as sim:
        env = env_for(sim, prefect_api, prefect_home, **s3_server.env())
        created = subprocess.run(
            [str(BIN / "prefect"), "work-pool", "create", pool, "--type", "process"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert created.returncode == 0, created.stderr
        with dask_cluster(tmp_path, 2, env) as cluster:
            deployed = run_cli(
                env,
                "deploy",
                "--pool",
                pool,
                "--warehouse",
                root,
                "--task-runner",
                "dask",
                "--dask-address",
                cluster.address,
                "--sync-cron",
                "0 0 1 1 *",  # no scheduled run during the test
                *("--stream", "logs", "--stream", "requests", "--stream", "audit_events"),
            )
            assert deployed.returncode == 0, deployed.stderr
            assert "ubiops-sync/ubiops-sync" in deployed.stdout
            worker = subprocess.Popen(
                [str(BIN / "prefect"), "worker", "start", "--pool", pool],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                first = start_deployment_run(
                    prefect_api, "ubiops-sync/ubiops-sync", since=sim.info["since"]
                )
                busy = poll(
                    lambda: next((a for a, keys in cluster.processing().items() if keys), None),
                    "a dask worker running tasks",
                    timeout_s=180,
                )
                victim = cluster.worker_pids()[busy]
                next(p for p in cluster.workers if p.pid == victim).kill()
                state = poll(lambda: final_state(prefect_api, first), "first run", 300)
                assert state == "FAILED"  # after recording which tasks failed
                ledger = Lake.open(LakeLocation.parse(root, os.environ)).ledger.read()[-1]
                assert not ledger["ok"]
                failed = [s for s in ledger["streams"] if not s["ok"]]
                assert failed
                for stream in failed:
                    assert f"task {stream['stream']}:{stream['project']}" in stream["error"]
                    assert "KilledWorker" in stream["error"]
                second = start_deployment_run(prefect_api, "ubiops-sync/ubiops-sync")
                state = poll(lambda: final_state(prefect_api, second), "second run", 300)
                assert state == "COMPLETED"
            finally:
                worker.terminate()
                worker.wait(timeout=30)
                names = ("ubiops-sync", "ubiops-backfill", "ubiops-compact")
                delete_deployments(prefect_api, [f"{name}/{name}" for name in names])
        runs = Lake.open(LakeLocation.parse(root, os.environ)).ledger.read()
        assert [r["ok"] for r in runs] == [False, True]
        assert {r["engine"] for r in runs} == {"prefect"}
        counts = run_cli(env, "sql", COUNT_SQL, "--format", "json", "-w", root)
        assert counts.returncode == 0, counts.stderr
        exact(json.loads(counts.stdout), sim.truth)
        assert len(sim.truth) == 20
