"""One run over many (project, stream) pairs: plain async functions that tests call directly.

A run reads "now" once from the clock it is given, resolves its window and projects, then
runs one job per (project, stream) (`PairJob`, plain data): directly, as coroutines sharing
this process's client and lake, or through a `Dispatch` that an entry point provides (the
Prefect flows run each job as a task on a task runner, threads or Dask worker processes,
where `run_pair_alone` opens its own client and lake). A sync and a backfill are one body:
a backfill needs a start and checkpoints every finished log window.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from extract import (
    AuthError,
    Budget,
    ClientConfig,
    RetryPolicy,
    UbiOpsClient,
    list_projects,
    open_client,
    validate_project_name,
)
from extract.errors import ExtractError, InvalidProjectName
from flows.core import streams
from flows.core.errors import UsageError
from flows.core.settings import Settings
from flows.core.summary import BUSY, RunSummary, StreamResult
from flows.core.timeparse import parse_instant
from warehouse import Lake, Lease, LeaseBusy, LeaseLost, WarehouseError, build_bi_database
from warehouse.layout import lease_name
from warehouse.state import Clock

Logger = logging.Logger | logging.LoggerAdapter[Any]
StreamRunner = Callable[..., Awaitable[StreamResult]]


@dataclass(frozen=True)
class PairJob:
    """One (project, stream) of a run, as plain values a task on another host can take."""

    run_id: str
    project: str
    stream: str
    since: datetime | None
    until: datetime
    now: datetime
    backfill: bool


@dataclass
class PairOutcome:
    """A job's result and the API figures of the client that ran it (None: the run's own)."""

    result: StreamResult
    api_calls: int = 0
    retries: int = 0
    throttled: int = 0
    log_api: str | None = None


Dispatch = Callable[[list[PairJob]], Awaitable[list[PairOutcome]]]


def new_run_id() -> str:
    return uuid.uuid4().hex


def client_config(settings: Settings, *, retry_wait: bool = True) -> ClientConfig:
    """The extractor's configuration, derived from the run's settings."""
    return ClientConfig(
        host=settings.api_host,
        token=SecretStr(settings.require_token().get_secret_value()),
        rate_per_minute=settings.rate_per_minute,
        max_concurrency=settings.concurrency,
        read_timeout_s=settings.timeout_seconds,
        log_page_size=settings.page_size,
        log_api=settings.api,
        retry=RetryPolicy(
            max_attempts=settings.max_attempts,
            max_total_s=settings.max_retry_seconds,
            wait=retry_wait,
        ),
    )


async def run_stream(
    ctx: streams.RunContext,
    project: str,
    stream: str,
    since: datetime | None,
    until: datetime,
    backfill: bool,
) -> StreamResult:
    """Sync one (project, stream); its failure becomes a failed result, not a failed run."""
    try:
        if stream == "logs":
            return await streams.sync_logs(
                ctx, project, since=since, until=until, backfill=backfill
            )
        if stream == "requests":
            return await streams.sync_requests(ctx, project, since=since, until=until)
        if stream == "audit_events":
            return await streams.sync_audit(ctx, project)
        return await streams.sync_snapshots(ctx, project)
    except AuthError:
        raise  # the token is wrong for every project: stop the whole run
    except (ExtractError, WarehouseError, OSError) as exc:
        ctx.logger.error("%s of %s failed: %s", stream, project, exc)
        return StreamResult(project, stream, ok=False, error=str(exc))
    except Exception as exc:  # a bug: keep the traceback in the logs, let other streams go on
        ctx.logger.exception("%s of %s failed unexpectedly", stream, project)
        return StreamResult(project, stream, ok=False, error=f"{type(exc).__name__}: {exc}")


async def resolve_projects(
    client: UbiOpsClient, wanted: tuple[str, ...]
) -> tuple[list[str], dict[str, str]]:
    """Projects to sync and the ones skipped with why (invalid name, not visible)."""
    listing = await list_projects(client)
    visible, skipped = list(listing.valid), dict(listing.invalid)
    if not wanted:
        return visible, skipped
    chosen: list[str] = []
    for name in wanted:
        try:
            validate_project_name(name)
        except InvalidProjectName as exc:
            skipped[name] = exc.reason
            continue
        if name in visible:
            chosen.append(name)
        else:
            skipped[name] = "not found among the projects this token can see"
    if not chosen:
        shown = ", ".join(visible[:10]) or "none"
        raise UsageError(f"unknown project {', '.join(map(repr, wanted))}: the token sees {shown}")
    return chosen, skipped


def resolve_window(
    since: str | None, until: str | None, *, backfill: bool, now: datetime
) -> tuple[datetime | None, datetime]:
    """[since, until) as instants (ISO 8601 or ages before `now`; no `until`: `now`). A
    backfill needs a start; a start must come before the end."""
    start = parse_instant(since, now=now) if since else None
    end = parse_instant(until, now=now) if until else now
    if backfill and start is None:
        raise UsageError("a backfill needs a start: --since (ISO 8601 or an age such as 30d)")
    if start is not None and start >= end:
        raise UsageError(
            f"--since ({start.isoformat()}) must be before --until ({end.isoformat()})"
        )
    return start, end


async def _write_report(summary: RunSummary, settings: Settings, logger: Logger) -> None:
    """The opt-in report (UBIOPS_ETL_REPORT_FILE): its path and a markdown summary (for a
    Prefect artifact) on the summary; its failure costs a warning, not the run."""
    import duckdb

    from flows.core.report_file import DEFAULT_SINCE, build_report

    now, out = summary.started_at, settings.report_file
    try:
        path, markdown = await asyncio.to_thread(
            build_report, settings, since=DEFAULT_SINCE, now=now, out=out
        )
    except (duckdb.Error, WarehouseError, OSError) as exc:
        logger.warning("the report was not written (the next run retries): %s", exc)
        return
    summary.report, summary.report_markdown = str(path), markdown


def compact(settings: Settings, clock: Clock) -> dict[str, Any]:
    """Bin-pack small files per project and delete what they replaced; busy pairs skipped."""
    lake = open_lake(settings, clock)
    return dataclasses.asdict(lake.compact(new_run_id()))


def open_lake(settings: Settings, clock: Clock) -> Lake:
    """The lake at the settings' root, with their lease and time-travel settings."""
    return Lake.open(
        settings.location,
        clock=clock,
        lease_ttl=settings.lease_ttl,
        keep_removed=settings.keep_removed,
    )


def return_freed_memory() -> None:
    """Have Arrow free memory through the system allocator: its default jemalloc pool keeps
    freed pages for reuse, which adds about 50 MB to a 1.1M-log backfill's peak RSS for no
    measured CPU saving (bench/lake-analysis.md). Then keep glibc's heaps from holding
    what was freed (`bound_glibc_heaps`). Process-wide, so set where a run starts."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    bound_glibc_heaps()


# mallopt(3) parameters, and what they are set to unless the environment sets them.
M_MMAP_THRESHOLD, MMAP_THRESHOLD = -3, 1024 * 1024
M_ARENA_MAX, ARENA_MAX = -8, 2


def bound_glibc_heaps(environ: Mapping[str, str] | None = None) -> bool:
    """Have glibc's malloc give large freed blocks back to the system and keep few heaps
    (glibc only; elsewhere, or where the environment tunes them, nothing is changed).

    By default glibc raises its mmap threshold to the size of each large block freed (up to
    32 MiB), so the next blocks of that size (page bodies: 1.6 MB at 5,000 logs) come from
    the heaps instead, where the space they free between small live blocks is not returned;
    and each thread that allocates (the lake writes, Arrow's I/O pool) may get a heap of its
    own that keeps its freed space. In a 1.1M-log backfill of 5,000-log pages glibc's heaps
    held 31-60 MB of freed space at the peak RSS; 19 MB with the threshold fixed (at
    128 KiB) and two heaps, and the peak fell by about 40 MB (bench/decode.md). Fixed at
    1 MiB, not at glibc's initial 128 KiB: with 128 KiB the backfill of 500-log pages
    (160 KB bodies) cost 13-15 % more CPU in both A/B pairs (why, not measured; blocks of
    128 KiB-1 MiB stay with the heaps now). Returns whether it changed anything."""
    import ctypes

    environ = os.environ if environ is None else environ
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    changed = False
    if "MALLOC_MMAP_THRESHOLD_" not in environ:
        changed |= mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    if "MALLOC_ARENA_MAX" not in environ:
        changed |= mallopt(M_ARENA_MAX, ARENA_MAX) == 1
    return changed


async def execute(
    settings: Settings,
    *,
    since: str | None,
    until: str | None,
    backfill: bool,
    clock: Clock,
    logger: Logger,
    runner: StreamRunner = run_stream,
    progress: streams.ProgressHook | None = None,
    client_factory: Callable[[ClientConfig], Any] = open_client,
    engine: str = "direct",
    dispatch: Dispatch | None = None,
) -> RunSummary:
    """A sync or a backfill: every (project, stream) of [since, until) under its lease, the
    summary recorded in the run ledger, the BI file rebuilt and the opt-in report written.
    "Now" is read from `clock` once, here; the clock also times the leases and the ledger. A
    (project, stream) another live run holds is skipped as busy. Every entry point (the CLI
    directly, the Prefect flows, the demo) calls this; `RunSummary.outcome()` is what they
    are told.

    Without `dispatch` the pairs run here, as coroutines sharing one client and lake; with it,
    `dispatch` runs the jobs (as tasks on a task runner) and returns their outcomes."""
    now = clock()
    start, end = resolve_window(since, until, backfill=backfill, now=now)
    return_freed_memory()
    lake = await asyncio.to_thread(open_lake, settings, clock)
    kind = "backfill" if backfill else "sync"
    summary = RunSummary(run_id=new_run_id(), kind=kind, started_at=now, engine=engine)
    async with client_factory(client_config(settings)) as client:
        ctx = _context(client, lake, settings, now, logger, backfill=backfill, progress=progress)
        try:
            projects, summary.skipped_projects = await resolve_projects(client, settings.projects)
            for name, why in summary.skipped_projects.items():
                logger.warning("skipping project %r: %s", name, why)
            jobs = [
                PairJob(summary.run_id, project, stream, start, end, now, backfill)
                for project in projects
                for stream in settings.streams
            ]
            if dispatch is None:
                results = await asyncio.gather(*(run_pair(ctx, job, runner) for job in jobs))
                outcomes = [PairOutcome(result) for result in results]
            else:
                outcomes = await dispatch(jobs)
            _add_outcomes(summary, outcomes)
        except Exception as exc:
            summary.error = str(exc)
            raise
        finally:
            await _record(summary, ctx, clock)
    await _rebuild_bi_file(lake, settings, logger)
    if summary.all_busy:
        # Not a failure of this run: other runs are writing every stream. Say so and stop.
        logger.warning("%s skipped: %s", kind, BUSY)
    elif settings.report_file:
        await _write_report(summary, settings, logger)
    return summary


def _context(
    client: UbiOpsClient,
    lake: Lake,
    settings: Settings,
    now: datetime,
    logger: Logger,
    *,
    backfill: bool,
    progress: streams.ProgressHook | None = None,
) -> streams.RunContext:
    ctx = streams.RunContext(client, lake, settings, now, logger)
    ctx.checkpoint_windows = backfill
    ctx.batch_rows = settings.batch_rows
    if progress is not None:
        ctx.progress = progress
    return ctx


def _add_outcomes(summary: RunSummary, outcomes: list[PairOutcome]) -> None:
    summary.results = [outcome.result for outcome in outcomes]
    for outcome in outcomes:
        summary.api_calls += outcome.api_calls
        summary.retries += outcome.retries
        summary.throttled += outcome.throttled
        summary.log_api = summary.log_api or outcome.log_api


async def run_pair_alone(
    settings: Settings,
    job: PairJob,
    *,
    clock: Clock,
    logger: Logger,
    budget: Callable[[ClientConfig], Budget] | None = None,
) -> PairOutcome:
    """One job in a process of its own (a task on a worker): its own lake and API client,
    paced by `budget(config)` (the API budget the run's processes share) or else by this
    process's pacers; the client's figures come back with the result, for the run's
    summary. `job.now` is the run's "now"; `clock` times the lease."""
    return_freed_memory()  # a worker process is a run's process too
    lake = await asyncio.to_thread(open_lake, settings, clock)
    config = client_config(settings)
    pacing = None if budget is None else budget(config)
    async with open_client(config, pacing=pacing) as client:
        ctx = _context(
            client, lake, settings, job.now, logger, backfill=job.backfill, progress=None
        )
        result = await run_pair(ctx, job)
        stats = client.stats
        return PairOutcome(
            result,
            api_calls=stats.calls,
            retries=stats.retries,
            throttled=sum(group.throttled for group in stats.groups.values()),
            log_api=client.traits.log_api,
        )


async def _rebuild_bi_file(lake: Lake, settings: Settings, logger: Logger) -> None:
    """Rewrite the BI file; its failure costs a warning, not the run (the lake is complete
    and the next run writes the file again)."""
    import duckdb

    try:
        await asyncio.to_thread(build_bi_database, lake.location, settings.bi_file)
    except (duckdb.Error, WarehouseError, OSError) as exc:
        logger.warning("the BI file was not rewritten (the next run retries): %s", exc)


async def run_pair(
    ctx: streams.RunContext, job: PairJob, runner: StreamRunner = run_stream
) -> StreamResult:
    """Run one (project, stream) while holding its lease (renewed in the background), then
    sweep the files its commits replaced. Busy: another live run holds the lease."""
    project, stream = job.project, job.stream
    try:
        lease = await asyncio.to_thread(
            ctx.lake.leases.take, lease_name(project, stream), job.run_id
        )
    except LeaseBusy as busy:
        ctx.logger.warning("%s of %s skipped: %s", stream, project, busy)
        return StreamResult(project, stream, ok=False, busy=True, error=str(busy))
    work = asyncio.ensure_future(runner(ctx, project, stream, job.since, job.until, job.backfill))
    lost: list[LeaseLost] = []
    beat = asyncio.ensure_future(_heartbeat(ctx, lease, work, lost))
    try:
        try:
            result = await work
        except asyncio.CancelledError:
            if not lost:
                raise
            ctx.logger.error("%s of %s stopped: %s", stream, project, lost[0])
            return StreamResult(project, stream, ok=False, error=str(lost[0]))
        # Still under the lease: delete what this stream's commits replaced (also after a
        # failure, so the plain-Parquet glob is exact after every finished run).
        try:
            await asyncio.to_thread(_sweep_if_still_held, ctx.lake, lease, project, stream)
        except (WarehouseError, OSError) as exc:  # the data is committed; the next run sweeps
            ctx.logger.warning("sweeping %s of %s failed: %s", stream, project, exc)
        return result
    finally:
        beat.cancel()
        await asyncio.to_thread(lease.release)


def _sweep_if_still_held(lake: Lake, lease: Lease, project: str, stream: str) -> None:
    """Renew the lease, then sweep; LeaseLost (no sweep) if another run took the lease over,
    since it may be about to commit files this sweep would take for orphans."""
    lease.renew()
    lake.sweep(project, stream)


async def _heartbeat(
    ctx: streams.RunContext, lease: Lease, work: asyncio.Future[Any], lost: list[LeaseLost]
) -> None:
    """Renew `lease` every third of its lifetime; if another run took it over, stop `work`."""
    interval = lease.ttl.total_seconds() / 3
    while not work.done():
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(lease.renew)
        except LeaseLost as exc:
            lost.append(exc)
            work.cancel()
            return
        except (WarehouseError, OSError) as exc:  # a store hiccup: try again next beat
            ctx.logger.warning("renewing the lease %s failed: %s", lease.name, exc)


async def _record(summary: RunSummary, ctx: streams.RunContext, clock: Clock) -> None:
    """The run's API figures and end time, appended to the lake's run ledger."""
    stats = ctx.client.stats
    summary.api_calls += stats.calls
    summary.retries += stats.retries
    summary.throttled += sum(group.throttled for group in stats.groups.values())
    summary.log_api = summary.log_api or ctx.client.traits.log_api
    summary.finished_at = clock()
    await asyncio.to_thread(ctx.lake.ledger.append, summary.to_ledger(), summary.run_id)
