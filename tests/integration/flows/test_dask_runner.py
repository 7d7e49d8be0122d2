"""The Dask cluster a run starts for itself (`--task-runner dask`), with real worker
processes."""

from __future__ import annotations

import dask

from flows.core.settings import Settings
from flows.prefect_flows import build_task_runner


def test_the_runs_own_cluster_starts_workers_without_the_sampling_profiler() -> None:
    """`--task-runner dask` starts worker processes with Dask's sampling profiler off (it
    can deadlock a worker on Python before 3.11.9, and feeds only the dashboard, which is
    off); the rest of their configuration stays Dask's."""
    settings = Settings.from_overrides(task_runner="dask", dask_workers=1)
    with build_task_runner(settings, pairs=2) as task_runner:
        seen = task_runner.client.run(
            lambda: (
                dask.config.get("distributed.worker.profile.enabled"),
                dask.config.get("distributed.worker.memory.target"),
            )
        )
    assert list(seen.values()) == [(False, dask.config.get("distributed.worker.memory.target"))]
