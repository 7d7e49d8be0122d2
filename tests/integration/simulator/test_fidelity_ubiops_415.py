"""The official `ubiops` client 4.15.0 against the simulator's current API over a real socket.

4.15 no longer has the POST logs call; it reads `GET /logs` (`logs_list`) and the requests
list without `sort`/`success` (`project_requests_list`). The dev lock pins 4.12.0, so this
test installs 4.15.0 into its own directory and drives it in a child process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from extract.timeutil import parse_api_datetime
from simulator import World

from .conftest import Serve

CLIENT_VERSION = "4.15.0"
SCRIPT = r"""
import json, sys, warnings
import ubiops
host, token, project, start, end = sys.argv[1:6]
configuration = ubiops.Configuration(host=host)
configuration.api_key["Authorization"] = f"Token {token}"
client = ubiops.ApiClient(configuration)
core = ubiops.CoreApi(client)
out = {"version": ubiops.__version__}
out["has_post_logs"] = hasattr(core, "projects_log_list")
logs = core.logs_list(project, start=start, end=end, limit=5000)
out["logs"] = [
    {"timestamp": l.timestamp, "log": l.log, "deployment": l.metadata.deployment_name,
     "system": l.metadata.system, "level": l.metadata.level,
     "instance_id": l.metadata.instance_id, "process_id": l.metadata.process_id}
    for l in logs
]
filtered = core.logs_list(
    project, start=start, end=end, limit=5000, query='| level = "error"'
)
out["errors"] = [l.metadata.level for l in filtered]
newest = core.logs_list(project, start=end, end=start, limit=3)
out["newest_first"] = [l.timestamp for l in newest]
failed = core.project_requests_list(project, object_type="deployment", status="failed", limit=10)
done = core.project_requests_list(project, object_type="deployment", limit=10)
out["failed"] = [r.status for r in failed]
out["default"] = [r.status for r in done]
client.close()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def client_415(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ubiops 4.15.0 installed into an isolated directory (not the venv)."""
    target = tmp_path_factory.mktemp("ubiops-415")
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            f"ubiops=={CLIENT_VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    return target


def test_client_415_reads_logs_and_requests_from_the_current_api(
    client_415: Path, serve_world: Serve, world: World
) -> None:
    """logs_list (window, LogQL label filter, reverse order) and project_requests_list
    (status failed, default completed) deserialise into 4.15's models."""
    project = world.project_names[0]
    truth = world.truth_logs(project)
    # Whole seconds as bounds, so the truth's microsecond dates decide membership exactly.
    first = parse_api_datetime(truth[100]["date"]).replace(microsecond=0) + timedelta(seconds=1)
    last = parse_api_datetime(truth[400]["date"]).replace(microsecond=0)
    start, end = first.isoformat(), last.isoformat()
    inside = [r for r in truth if first <= parse_api_datetime(r["date"]) < last]
    with serve_world(api="current") as server:
        env = {**os.environ, "PYTHONPATH": str(client_415)}
        ran = subprocess.run(
            [sys.executable, "-c", SCRIPT, server.base_url, world.token, project, start, end],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            check=False,
        )
    assert ran.returncode == 0, ran.stderr[-3000:]
    out = json.loads(ran.stdout)
    assert out["version"] == CLIENT_VERSION
    assert out["has_post_logs"] is False
    stamps = [line["timestamp"] for line in out["logs"]]
    assert stamps == sorted(stamps)
    assert [line["log"] for line in out["logs"]] == [r["log"] for r in inside]
    assert any(line["instance_id"] for line in out["logs"] if line["deployment"])
    assert out["errors"]
    assert set(out["errors"]) == {"error"}
    assert out["newest_first"] == sorted(out["newest_first"], reverse=True)
    assert out["failed"]
    assert set(out["failed"]) == {"failed"}
    assert set(out["default"]) == {"completed"}
