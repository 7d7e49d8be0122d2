"""Which engine runs a sync: the run core directly, or a Prefect flow run, and what a run on
Dask needs."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.core.errors import UsageError
from flows.core.settings import Settings
from flows.runs import prefect_api_url, run_range, use_prefect

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


@pytest.fixture
def no_prefect_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No PREFECT_API_URL and a Prefect home without profiles."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))
    return monkeypatch


def test_without_a_prefect_api_a_sync_runs_directly_unless_it_needs_prefect(no_prefect_api):
    """No configured API: the run core runs directly; --prefect and --task-runner dask make
    it a Prefect flow run (on a temporary Prefect server)."""
    assert prefect_api_url({"PREFECT_HOME": "/nonexistent"}) is None
    assert not use_prefect(Settings())
    assert use_prefect(Settings(prefect=True))
    assert use_prefect(Settings(task_runner="dask"))


def test_a_configured_prefect_api_makes_every_sync_a_flow_run(no_prefect_api):
    """PREFECT_API_URL (or the active profile's) sends runs through Prefect."""
    no_prefect_api.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert use_prefect(Settings())


def test_an_existing_dask_cluster_without_a_prefect_api_is_refused_before_any_call(
    no_prefect_api,
):
    """--dask-address with no configured Prefect API fails at once with exit code 2 and
    says what to set: the cluster's workers could not report to a temporary server."""
    settings = Settings(task_runner="dask", dask_address="tcp://127.0.0.1:9")  # no token
    with pytest.raises(UsageError, match="PREFECT_API_URL") as refused:
        run_range(settings, since=None, until=None, backfill=False, clock=lambda: NOW)
    assert refused.value.exit_code == 2


@pytest.mark.parametrize(("given", "waits"), [(None, "120"), ("45", "45")])
def test_the_cli_waits_long_enough_for_a_fresh_temporary_server(
    given: str | None, waits: str, tmp_path: Path
) -> None:
    """A flow run with no Prefect API starts Prefect's temporary server, whose first start
    (creating its database) takes longer than Prefect's default wait of 20 s on a small
    machine: the CLI waits 120 s unless the user set the wait."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    if given is not None:
        env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = given
    probe = (
        "import flows.cli\n"
        "from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS as s\n"
        "print(s.value())"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == waits
