"""The Prefect layer, kept thin: flows that call `runner.execute` with a dispatch that runs one
Prefect task per (project, stream) on the run's task runner, a table artifact with the run
summary, and a progress artifact for backfills.

Task runners (`--task-runner`): `local` runs the tasks on threads of the flow run's process
(they share its API pacing); `dask` runs them on the worker processes of a Dask cluster
(`prefect-dask`), a temporary local one of `--dask-workers` processes or an existing one at
`--dask-address`. Task inputs are plain values (`RunParams`, `PairJob`): each task builds its
settings from its own environment (the token is read there, never passed) and opens its own
API client and lake. On Dask, every worker process draws from one API budget kept on the
scheduler (`flows.dask_budget`), so no worker's part of the budget sits idle.

Caching is off (inputs include the run id, and a cached result would skip work); retries
stay in the HTTP client (one retry layer), so tasks have none either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import UUID

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    acreate_markdown_artifact,
    acreate_progress_artifact,
    acreate_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.futures import PrefectFuture, as_completed
from prefect.states import Failed
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows.core import runner
from flows.core.errors import RunIncomplete
from flows.core.runner import Logger, PairJob, PairOutcome
from flows.core.settings import Settings
from flows.core.summary import StreamResult, table_rows
from flows.params import RunParams
from flows.progress import RunProgress, current_progress
from warehouse.state import Clock, utc_now

# The ledger of a run, or the Failed state it ends in when a (project, stream) failed.
FlowResult = dict[str, Any] | State[Any]
# Tasks each Dask worker process runs at once: they wait on the API, not the CPU.
DASK_THREADS_PER_WORKER = 4
# Tasks the local runner runs at once (its threads share one process's API budget).
LOCAL_MAX_THREADS = 32


@task(
    name="sync-pair",
    task_run_name="{job.stream}:{job.project}",
    cache_policy=NO_CACHE,
    retries=0,
    log_prints=False,
)
async def pair_task(
    params: RunParams, job: PairJob, clock: Clock, on_dask: bool = False
) -> PairOutcome:
    """One (project, stream) under its lease, wherever the task runner put it; on a Dask
    worker, paced by the budget on the scheduler."""
    settings = params.to_settings()
    budget = None
    if on_dask:
        from flows.dask_budget import worker_pacing

        budget = worker_pacing
    return await runner.run_pair_alone(
        settings, job, clock=clock, logger=get_run_logger(), budget=budget
    )


def build_task_runner(
    settings: Settings, pairs: int, api_url: str | None = None
) -> TaskRunner[Any]:
    """The task runner the settings ask for (not started). The workers of a local Dask
    cluster report to `api_url`, the flow run's own Prefect API (without it, each worker
    process would start a temporary Prefect server of its own)."""
    if settings.task_runner == "dask":
        from prefect_dask.task_runners import DaskTaskRunner

        if settings.dask_address:
            return DaskTaskRunner(address=settings.dask_address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": settings.dask_workers,
                "threads_per_worker": DASK_THREADS_PER_WORKER,
                "processes": True,
                "dashboard_address": None,
                "env": {"PREFECT_API_URL": api_url} if api_url else {},
                # The workers' sampling profiler feeds only the dashboard (off above) and
                # samples every 10 ms; on Python before 3.11.9 its `sys._current_frames()`
                # can deadlock a worker whose task thread waits for the GIL (seen here in a
                # bench run; dask/distributed#8616). A dotted key: Nanny merges this config
                # shallowly over the parent's.
                "config": {"distributed.worker.profile.enabled": False},
            }
        )
    return ThreadPoolTaskRunner(max_workers=max(1, min(pairs, LOCAL_MAX_THREADS)))


def _api_url() -> str | None:
    """The Prefect API this flow run reports to (a temporary server's too)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return str(client.api_url).rstrip("/") or None


def run_on_task_runner(
    params: RunParams,
    settings: Settings,
    clock: Clock,
    jobs: list[PairJob],
    on_done: Callable[[StreamResult], None],
    logger: Logger,
) -> list[PairOutcome]:
    """Submit one task per job, collect the outcomes in job order. A task that failed (its
    worker process died, or a bug) becomes a failed result that names the task."""
    if not jobs:
        return []
    outcomes: dict[int, PairOutcome] = {}
    with build_task_runner(settings, len(jobs), _api_url()) as task_runner:
        on_dask = _share_budget_on_dask(task_runner)
        logger.info(
            "%d tasks on the %s task runner, one API budget %s",
            len(jobs),
            settings.task_runner,
            "on the Dask scheduler for every worker" if on_dask else "in this process",
        )
        futures: dict[PrefectFuture[PairOutcome], int] = {}
        for index, job in enumerate(jobs):
            inputs = {"params": params, "job": job, "clock": clock, "on_dask": on_dask}
            future = task_runner.submit(pair_task, inputs)
            futures[future] = index
        for future in as_completed(list(futures)):
            index = futures[future]
            outcomes[index] = _outcome(future, jobs[index], logger)
            on_done(outcomes[index].result)
    return [outcomes[index] for index in range(len(jobs))]


def _share_budget_on_dask(task_runner: TaskRunner[Any]) -> bool:
    """Put the run's API budget on the Dask scheduler (True), or leave it to this process's
    pacers when the tasks run on its threads (False)."""
    from prefect_dask.task_runners import DaskTaskRunner

    if not isinstance(task_runner, DaskTaskRunner):
        return False
    from flows.dask_budget import install

    install(task_runner.client)
    return True


def _outcome(future: PrefectFuture[PairOutcome], job: PairJob, logger: Logger) -> PairOutcome:
    try:
        return future.result()
    except Exception as exc:  # the task crashed or its worker process died
        why = f"task {job.stream}:{job.project} ({future.task_run_id}) failed: "
        why += f"{type(exc).__name__}: {exc}"
        logger.error("%s", why)
        return PairOutcome(StreamResult(job.project, job.stream, ok=False, error=why))


async def _publish(ledger: dict[str, Any], logger: Logger) -> None:
    await acreate_table_artifact(
        key=f"ubiops-{ledger['kind']}-summary",
        table=table_rows(ledger),
        description=(
            f"{ledger['kind']} {'ok' if ledger['ok'] else 'INCOMPLETE'}: "
            f"{ledger['rows_written']} rows written, {ledger['rejects']} rejected, "
            f"{ledger['api_calls']} API calls, {ledger['retries']} retries, "
            f"{ledger['duration_s']:.1f}s"
        ),
    )
    logger.info(
        "%s finished: ok=%s rows_written=%d rejects=%d pages=%d api_calls=%d retries=%d",
        ledger["kind"],
        ledger["ok"],
        ledger["rows_written"],
        ledger["rejects"],
        ledger["pages"],
        ledger["api_calls"],
        ledger["retries"],
    )


async def run_flow(params: RunParams, *, backfill: bool, clock: Clock) -> FlowResult:
    """The body of the sync and backfill flows: the run core with one task per (project,
    stream), then the summary and report artifacts."""
    logger = get_run_logger()
    settings = params.to_settings()
    hook = current_progress()
    tracker = RunProgress()
    artifact: UUID | None = None
    if backfill:
        artifact = await acreate_progress_artifact(
            progress=0.0, key="ubiops-backfill-progress", description="backfill windows done"
        )

    def on_done(result: StreamResult) -> None:
        # Coarse updates (per finished task) keep the artifact cheap to maintain.
        tracker.update(result)
        if hook is not None:
            hook(result)
        if artifact is not None:
            done, total = tracker.windows
            # From the dispatch thread: the sync form (this thread runs no event loop).
            update_progress_artifact(  # type: ignore[call-arg]
                artifact, progress=100.0 * done / max(total, 1), _sync=True
            )

    async def dispatch(jobs: list[PairJob]) -> list[PairOutcome]:
        # In a thread: the runners' futures block, and a Dask client wants its own loop.
        return await asyncio.to_thread(
            run_on_task_runner, params, settings, clock, jobs, on_done, logger
        )

    summary = await runner.execute(
        settings,
        since=params.since,
        until=params.until,
        backfill=backfill,
        clock=clock,
        logger=logger,
        dispatch=dispatch,
        engine="prefect",
    )
    ledger = summary.outcome()
    markdown = ledger.pop("report_markdown", None)
    if not ledger.get("busy"):
        await _publish(ledger, logger)
    if markdown is not None:
        await acreate_markdown_artifact(
            key="ubiops-report", markdown=markdown, description="the report of the last 30 days"
        )
    if not ledger["ok"] and not ledger.get("busy"):
        # Recorded in the ledger and published above: the flow run ends Failed, its message
        # naming what failed. Returned, not raised, so Prefect logs one line, no traceback;
        # a caller of the flow gets RunIncomplete raised, with the ledger.
        incomplete = RunIncomplete(ledger)
        return Failed(message=str(incomplete), data=incomplete)
    return ledger


# `clock` is the run's clock, the system's unless a caller in this process passes another (a
# deployment cannot: a clock is not a value a flow run can store).


@flow(name="ubiops-sync", log_prints=False, validate_parameters=True)
async def sync_flow(params: RunParams | None = None, clock: Clock | None = None) -> FlowResult:
    """Incremental sync of all streams of all visible (or the named) projects.

    The token comes from UBIOPS_API_TOKEN in each process's environment, never a parameter.
    """
    return await run_flow(params or RunParams(), backfill=False, clock=clock or utc_now)


@flow(name="ubiops-backfill", log_prints=False, validate_parameters=True)
async def backfill_flow(params: RunParams, clock: Clock | None = None) -> FlowResult:
    """Load a date range (`params.since` is required); finished windows are never fetched
    again."""
    return await run_flow(params, backfill=True, clock=clock or utc_now)


@flow(name="ubiops-compact", log_prints=False)
def compact_flow(warehouse: str | None = None, clock: Clock | None = None) -> dict[str, Any]:
    """Bin-pack small files per project (one commit each) and delete what they replaced; a
    (project, stream) another run is writing is skipped and reported."""
    report = runner.compact(Settings.from_overrides(warehouse=warehouse), clock or utc_now)
    get_run_logger().info("compaction: %s", report)
    return report
