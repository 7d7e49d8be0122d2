"""The Prefect layer, kept thin: flows that call `runner.execute`, one coarse task per
(project, stream), a table artifact with the run summary, and a progress artifact for backfills.

Tasks take the client, the lake and frames, so caching is off (Prefect would hash inputs);
retries stay in the HTTP client (one retry layer), so tasks have none either.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    acreate_markdown_artifact,
    acreate_progress_artifact,
    acreate_table_artifact,
    aupdate_progress_artifact,
)
from prefect.cache_policies import NO_CACHE

from flows import runner
from flows.progress import RunProgress, current_progress
from flows.settings import Settings
from flows.streams import RunContext
from flows.summary import StreamResult, table_rows

Logger = logging.Logger | logging.LoggerAdapter[Any]


@task(
    name="sync-stream",
    task_run_name="{stream}:{project}",
    cache_policy=NO_CACHE,
    retries=0,
    log_prints=False,
)
async def stream_task(
    ctx: RunContext,
    project: str,
    stream: str,
    since: datetime | None,
    until: datetime,
    backfill: bool,
) -> StreamResult:
    """One coarse unit of work: a whole (project, stream), windows paged inside it."""
    return await runner.run_stream(ctx, project, stream, since, until, backfill)


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


async def _run(
    kind: str, settings: Settings, since: str | None, until: str | None
) -> dict[str, Any]:
    logger = get_run_logger()
    hook = current_progress()
    tracker = RunProgress()
    artifact: UUID | None = None
    if kind == "backfill":
        artifact = await acreate_progress_artifact(
            progress=0.0, key="ubiops-backfill-progress", description="backfill windows done"
        )

    def progress(result: StreamResult) -> None:
        tracker.update(result)
        if hook is not None:
            hook(result)

    async def tracked(ctx: RunContext, *args: Any) -> StreamResult:
        # Coarse updates (per finished stream) keep the artifact cheap to maintain.
        result = await stream_task(ctx, *args)
        if artifact is not None:
            done, total = tracker.windows
            await aupdate_progress_artifact(artifact, progress=100.0 * done / max(total, 1))
        return result

    ledger = await runner.run(
        kind,
        settings,
        since,
        until,
        logger=logger,
        runner=tracked,
        progress=progress,
        engine="prefect",
    )
    markdown = ledger.pop("report_markdown", None)
    if not ledger.get("busy"):
        await _publish(ledger, logger)
    if markdown is not None:
        await acreate_markdown_artifact(
            key="ubiops-report", markdown=markdown, description="the report of the last 30 days"
        )
    return ledger


@flow(name="ubiops-sync", log_prints=False, validate_parameters=True)
async def sync_flow(
    projects: list[str] | None = None,
    streams: list[str] | None = None,
    since: str | None = None,
    until: str | None = None,
    warehouse: str | None = None,
    concurrency: int | None = None,
    rate_per_minute: int | None = None,
    api: str | None = None,
) -> dict[str, Any]:
    """Incremental sync of all streams of all visible (or the named) projects.

    The token comes from UBIOPS_API_TOKEN in the worker's environment, never a parameter.
    """
    settings = Settings.from_overrides(
        projects=projects,
        streams=streams,
        warehouse=warehouse,
        concurrency=concurrency,
        rate_per_minute=rate_per_minute,
        api=api,
    )
    return await _run("sync", settings, since, until)


@flow(name="ubiops-backfill", log_prints=False)
async def backfill_flow(
    since: str,
    until: str | None = None,
    projects: list[str] | None = None,
    streams: list[str] | None = None,
    warehouse: str | None = None,
    concurrency: int | None = None,
    rate_per_minute: int | None = None,
    api: str | None = None,
) -> dict[str, Any]:
    """Load a date range; windows in parallel; finished windows are never fetched again."""
    settings = Settings.from_overrides(
        projects=projects,
        streams=streams,
        warehouse=warehouse,
        concurrency=concurrency,
        rate_per_minute=rate_per_minute,
        api=api,
    )
    return await _run("backfill", settings, since, until)


@flow(name="ubiops-compact", log_prints=False)
def compact_flow(warehouse: str | None = None) -> dict[str, Any]:
    """Bin-pack small files per project (one commit each) and delete what they replaced; a
    (project, stream) another run is writing is skipped and reported."""
    report = runner.compact(Settings.from_overrides(warehouse=warehouse))
    get_run_logger().info("compaction: %s", report)
    return report
