"""The read-only commands start without the modules only syncing needs: what keeps `status`,
`sql` and `--help` under a second (bench/startup.md times them; this pins why)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lake_examples import example_frame

from warehouse import Lake

# Imported by a sync only: Prefect, the HTTP client and its paginators, the simulator's
# server, polars and Arrow (transforms and table writes), the commit retries, the run core.
SYNC_ONLY = (
    "prefect",
    "httpx",
    "httpx_aiohttp",
    "aiohttp",
    "uvicorn",
    "starlette",
    "polars",
    "pyarrow",
    "tenacity",
    "extract.client",
    "simulator.app",
    "simulator.world",
    "transform.normalization",
    "flows.core.runner",
    "flows.progress",
)

PROBE = """
import json, sys
from flows.cli import main
try:
    main()
except SystemExit as done:
    code = done.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def modules_after(args: list[str], lake: Path, cwd: Path) -> set[str]:
    """Run `ubiops-etl ARGS` on `lake` in a fresh interpreter; the modules it had loaded at
    exit."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=cwd,
        env={**os.environ, "UBIOPS_ETL_WAREHOUSE": str(lake)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stderr
    return set(report["modules"])


@pytest.fixture(scope="module")
def lake_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("imports") / "lake"
    lake = Lake.open(root)
    lake.write("logs", example_frame("logs", [{"id": "log-1"}, {"id": "log-2"}]))
    lake.state.commit("alpha", "logs", {"completed": []})
    return root


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["sql", "SELECT count(*) FROM logs"],
        ["--help"],
        ["sync", "--help"],
        ["simulator", "--help"],
    ],
    ids=["status", "sql", "help", "sync-help", "simulator-help"],
)
def test_read_only_commands_do_not_import_the_sync_path(args, lake_root, tmp_path):
    """`status`, `sql` and the help screens finish without importing Prefect, httpx, the
    simulator's server, polars, pyarrow or the run core."""
    loaded = modules_after(args, lake_root, tmp_path)
    assert "flows.cli" in loaded
    assert not {m for m in loaded if m in SYNC_ONLY or m.split(".")[0] in SYNC_ONLY}


def test_the_probe_sees_what_a_sync_imports(lake_root, tmp_path):
    """The check can fail: a command that does reach the HTTP client shows it loaded (a sync
    against an unreachable host imports the client before it fails)."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "sync", "--warehouse", str(lake_root)],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "UBIOPS_API_TOKEN": "Token probe",
            "UBIOPS_API_HOST": "http://127.0.0.1:9/v2.1",
            "UBIOPS_ETL_MAX_ATTEMPTS": "1",
            "PREFECT_HOME": str(tmp_path / "prefect-home"),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 1
    assert {"httpx", "polars", "tenacity", "extract.client", "flows.core.runner"} <= set(
        report["modules"]
    )
