"""`ubiops-etl serve` against a real Prefect server: deployments with schedules, and a
scheduled run that lands data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import httpx
import pytest

pytestmark = pytest.mark.timeout(300)

CLI = str(Path(sys.executable).parent / "ubiops-etl")


def _deployments(api: str) -> dict[str, dict]:
    found = httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()
    return {d["name"]: d for d in found}


def _log_rows(lake: Path) -> int:
    if not list(lake.glob("logs/project=*/**/*.parquet")):
        return 0
    return duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{lake}/logs/project=*/**/*.parquet', "
        "hive_partitioning=1)"
    ).fetchall()[0][0]


def test_serve_schedules_sync_and_compact_and_a_run_lands_data(cli, tmp_path, poll):
    """serve registers both deployments with their schedules; the sync schedule fires and
    its run writes logs into the lake."""
    lake = tmp_path / "lake"
    proc = subprocess.Popen(
        [CLI, "serve", "--sync-every", "5s", "--stream", "logs", "--compact-cron", "0 4 * * *"],
        env={**cli.env, "UBIOPS_ETL_INITIAL_HISTORY": "1d"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    api = cli.env["PREFECT_API_URL"]
    try:
        poll(lambda: {"ubiops-sync", "ubiops-compact"} <= set(_deployments(api)), "deployments")
        deployments = _deployments(api)
        sync_schedule = deployments["ubiops-sync"]["schedules"][0]["schedule"]
        assert sync_schedule["interval"] == 5.0
        compact_schedule = deployments["ubiops-compact"]["schedules"][0]["schedule"]
        assert compact_schedule["cron"] == "0 4 * * *"
        params = deployments["ubiops-sync"]["parameters"]["params"]
        assert params["settings"]["warehouse"] == str(lake.resolve())
        assert "token" not in str(deployments["ubiops-sync"]["parameters"]).lower()
        poll(lambda: _log_rows(lake) > 0, "a scheduled sync", timeout_s=150)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert cli.env["UBIOPS_API_TOKEN"].split()[-1] not in (
        proc.stderr.read() if proc.stderr else ""
    )


def test_serve_without_a_prefect_server_says_what_to_run(cli):
    """Without PREFECT_API_URL, serve explains that schedules need `prefect server start`."""
    done = cli("serve", PREFECT_API_URL="")
    assert done.returncode == 2
    assert "prefect server start" in done.stderr.strip().splitlines()[-1]
