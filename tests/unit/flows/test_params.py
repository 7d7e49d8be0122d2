"""A setting reaches every run from the settings model alone: the run parameters carry the
settings a run was started with by name, and every flag of the CLI sets the setting of its
name."""

from __future__ import annotations

import os

import pydantic
import pytest
import typer.main

from flows.cli import app
from flows.core.settings import Settings
from flows.params import PROCESS_ONLY, RunParams

# One value per setting, none of them its default. A new setting needs a value here and
# nothing else: no parameter, deployment or flow code names settings one by one.
EXAMPLES = {
    "warehouse": "/srv/lake",
    "bi_file": "/srv/bi/ubiops.duckdb",
    "report_file": "/srv/report.html",
    "keep_removed": "7d",
    "lease_ttl": "10m",
    "prefect": True,
    "task_runner": "dask",
    "dask_workers": 3,
    "dask_address": "tcp://10.0.0.5:8786",
    "projects": ["alpha", "beta"],
    "streams": ["logs", "requests"],
    "rate_per_minute": 120,
    "concurrency": 7,
    "page_size": 500,
    "api": "legacy",
    "batch_rows": 1_000,
    "initial_history": "3d",
    "lookback": "2h",
    "request_retention": "5d",
    "max_attempts": 3,
    "max_retry_seconds": 12.5,
    "timeout_seconds": 7.5,
}

# Arguments of the CLI that are not settings: the run's window, the command's own input.
NOT_SETTINGS = {"since", "until", "query", "format", "out", "pool", "seed"}
SCHEDULES = {"sync_every", "sync_cron", "compact_cron"}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No UBIOPS_ETL_* variable: the process a run lands on configured nothing."""
    for name in os.environ:
        if name.startswith("UBIOPS_ETL_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_every_setting_reaches_a_run_started_through_run_params(clean_env):
    """Every setting but the token and its host, given where a run is started, is the
    same in the process the run lands on, after the parameters crossed a JSON boundary (a
    deployment, the Prefect API, a Dask message)."""
    assert set(EXAMPLES) == set(Settings.model_fields) - PROCESS_ONLY
    started = Settings.from_overrides(**EXAMPLES)
    for name in EXAMPLES:
        assert getattr(started, name) != Settings.model_fields[name].default, name
    params = RunParams.from_settings(started, since="2026-11-01", until="now")
    landed = RunParams.model_validate_json(params.model_dump_json())
    assert (landed.since, landed.until) == ("2026-11-01", "now")
    clean_env.setenv("UBIOPS_API_TOKEN", "Token of-the-worker")
    resumed = landed.to_settings()
    assert resumed.model_dump(exclude=set(PROCESS_ONLY)) == started.model_dump(
        exclude=set(PROCESS_ONLY)
    )


def test_a_setting_from_the_environment_travels_and_a_default_stays_the_workers(clean_env):
    """A setting the starting process has from its environment is passed on; one it left at
    its default is not, so the running process's environment decides it."""
    clean_env.setenv("UBIOPS_ETL_LOOKBACK", "2h")
    params = RunParams.from_settings(Settings.from_overrides(warehouse="/srv/lake"))
    assert set(params.settings) == {"warehouse", "lookback"}
    clean_env.delenv("UBIOPS_ETL_LOOKBACK")
    clean_env.setenv("UBIOPS_ETL_BATCH_ROWS", "1000")
    resumed = params.to_settings()
    assert resumed.lookback.total_seconds() == 7200
    assert resumed.batch_rows == 1000


def test_the_token_and_its_host_are_never_parameters(clean_env):
    """The token and the host it is sent to come from each process's environment: the
    parameters leave them out and refuse them."""
    clean_env.setenv("UBIOPS_API_TOKEN", "Token secret-abc")
    clean_env.setenv("UBIOPS_API_HOST", "https://api.example.com/v2.1")
    params = RunParams.from_settings(Settings.from_overrides(warehouse="/srv/lake"))
    assert "secret-abc" not in params.model_dump_json()
    assert "example.com" not in params.model_dump_json()
    for name in PROCESS_ONLY:
        with pytest.raises(pydantic.ValidationError, match="from the environment"):
            RunParams(settings={name: "x"})


@pytest.mark.parametrize(
    ("given", "where"),
    [({"concurrency": 0}, "settings.concurrency"), ({"lookbak": "1h"}, "settings.lookbak")],
)
def test_a_bad_setting_fails_at_the_parameters(given, where, clean_env):
    """A parameter naming no setting, or a value the setting refuses, fails when the flow's
    parameters are validated, naming the setting, whatever the environment holds."""
    clean_env.setenv("UBIOPS_ETL_CONCURRENCY", "not a number")
    with pytest.raises(pydantic.ValidationError, match=where):
        RunParams(settings=given)


def test_every_flag_of_the_cli_sets_the_setting_of_its_name():
    """A command's options are settings by their field names (or its own inputs), so a
    flag named otherwise cannot be dropped on the way to Settings."""
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for name in ("sync", "backfill", "compact", "status", "sql", "report", "serve", "deploy"):
        for param in commands[name].params:
            assert param.name in Settings.model_fields or param.name in (
                NOT_SETTINGS | SCHEDULES
            ), f"{name} --{param.name}"
