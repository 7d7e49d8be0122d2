"""One run over many (project, stream) pairs: plain async functions that tests call directly.

The Prefect layer (`flows.prefect_flows`) wraps `run_stream` as a task and calls `execute`
from its flows; nothing here imports Prefect, so the logic is tested without an engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from extract import (
    AuthError,
    ClientConfig,
    RetryPolicy,
    UbiOpsClient,
    list_projects,
    open_client,
    validate_project_name,
)
from extract.errors import ExtractError, InvalidProjectName
from flows import streams
from flows.errors import UsageError
from flows.settings import Settings
from flows.summary import RunSummary, StreamResult
from warehouse import Lake, WarehouseError, build_bi_database

Clock = Callable[[], datetime]
StreamRunner = Callable[..., Awaitable[StreamResult]]


def utc_now() -> datetime:
    return datetime.now(UTC)


_clock: ContextVar[Clock] = ContextVar("ubiops_etl_clock", default=utc_now)


def current_clock() -> Clock:
    """The clock runs read "now" from: the system's, unless a caller installed another."""
    return _clock.get()


@contextlib.contextmanager
def using_clock(clock: Clock) -> Iterator[None]:
    """Run flows against `clock` (tests drive a simulator on a manual clock)."""
    token = _clock.set(clock)
    try:
        yield
    finally:
        _clock.reset(token)


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


async def execute(
    settings: Settings,
    *,
    kind: str,
    since: datetime | None,
    until: datetime,
    now: datetime,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    runner: StreamRunner = run_stream,
    progress: streams.ProgressHook | None = None,
    clock: Clock | None = None,
    client_factory: Callable[[ClientConfig], Any] = open_client,
    lake_factory: Callable[[Path], Lake] = Lake.open,
) -> RunSummary:
    """Hold the lake's writer lock, repair a crashed run's leftovers, sync every (project,
    stream) and record the summary. LakeBusy if another run holds the lake.

    `lake_factory` opens the lake at the warehouse root (tests pass one with a faulty storage).
    """
    lake = await asyncio.to_thread(lake_factory, settings.warehouse)
    summary = RunSummary(run_id=new_run_id(), kind=kind, started_at=now)
    with lake.lock():
        await asyncio.to_thread(lake.repair)
        async with client_factory(client_config(settings)) as client:
            ctx = streams.RunContext(client, lake, settings, now, logger)
            ctx.checkpoint_windows = kind == "backfill"
            ctx.batch_rows = settings.batch_rows
            if progress is not None:
                ctx.progress = progress
            try:
                await _sync_all(ctx, summary, runner, since, until, backfill=kind == "backfill")
            except Exception as exc:
                summary.error = str(exc)
                raise
            finally:
                await _record(summary, ctx, clock or current_clock())
    await asyncio.to_thread(build_bi_database, lake.root)
    return summary


async def _sync_all(
    ctx: streams.RunContext,
    summary: RunSummary,
    runner: StreamRunner,
    since: datetime | None,
    until: datetime,
    *,
    backfill: bool,
) -> None:
    """Every stream of every project to sync, concurrently; results into the summary."""
    projects, summary.skipped_projects = await resolve_projects(ctx.client, ctx.settings.projects)
    for name, why in summary.skipped_projects.items():
        ctx.logger.warning("skipping project %r: %s", name, why)
    jobs = [
        runner(ctx, project, stream, since, until, backfill)
        for project in projects
        for stream in ctx.settings.streams
    ]
    summary.results = list(await asyncio.gather(*jobs))


async def _record(summary: RunSummary, ctx: streams.RunContext, clock: Clock) -> None:
    """The run's API figures and end time, appended to the lake's run ledger."""
    stats = ctx.client.stats
    summary.api_calls = stats.calls
    summary.retries = stats.retries
    summary.throttled = sum(group.throttled for group in stats.groups.values())
    summary.log_api = ctx.client.traits.log_api
    summary.finished_at = clock()
    await asyncio.to_thread(ctx.lake.ledger.append, summary.to_ledger())
