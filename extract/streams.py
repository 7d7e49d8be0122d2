"""The three event streams as async iterators of `Page`s, each carrying its cursor.

The caller commits a page's cursor after the page's records are durable; after a crash it
passes the last committed cursor(s) back and the stream resumes without a gap (the last
page may come again; the lake dedupes by id).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from contextlib import aclosing
from datetime import datetime

from extract.audit import AuditCursor, AuditPaginator
from extract.client import ServerTraits, UbiOpsClient
from extract.config import LOG_LIMIT_CEILING, LOG_LIMIT_FLOOR
from extract.interleave import interleave
from extract.logs import LogCursor, LogPaginator, plan_log_windows
from extract.paging import Page, iter_pages
from extract.projects import validate_project_name
from extract.request_list import ObjectType, RequestCursor, RequestPaginator
from extract.timeutil import as_utc


async def iter_logs(
    client: UbiOpsClient,
    project: str,
    since: datetime,
    until: datetime,
    resume: LogCursor | Iterable[LogCursor] | None = None,
    *,
    page_size: int | None = None,
    concurrency: int = 4,
) -> AsyncIterator[Page[LogCursor]]:
    """Every log dated in `[since, until)`, window by window (<= 24 h), once per window.

    Up to `concurrency` windows are paged at the same time; pages of one window come in
    order, pages of different windows interleave. `resume` takes the last committed cursor
    of one or more windows; windows it marks done are skipped.
    """
    project = validate_project_name(project)
    resumed = [resume] if isinstance(resume, LogCursor) else list(resume or ())
    windows = plan_log_windows(since, until, resumed)
    limit = page_size or client.config.log_page_size
    if not LOG_LIMIT_FLOOR <= limit <= LOG_LIMIT_CEILING:
        raise ValueError(
            f"log page size must be {LOG_LIMIT_FLOOR}..{LOG_LIMIT_CEILING}, got {limit}"
        )
    # Learned once per client: has the server returned full pages at this limit?
    knowledge = client.traits
    if concurrency <= 1 or len(windows) <= 1:
        for window in windows:
            async with aclosing(
                _page_log_window(client, project, window, limit, knowledge)
            ) as window_pages:
                async for page in window_pages:
                    yield page
        return
    # aclosing: when our consumer stops early, the workers are cancelled now, not at GC.
    async with aclosing(
        _page_concurrently(
            client, project, windows, limit=limit, knowledge=knowledge, concurrency=concurrency
        )
    ) as pages:
        async for page in pages:
            yield page


async def _page_log_window(
    client: UbiOpsClient, project: str, window: LogCursor, limit: int, knowledge: ServerTraits
) -> AsyncGenerator[Page[LogCursor], None]:
    trusted = limit in knowledge.log_limits_honoured
    paginator = LogPaginator(project, window, limit=limit, limit_trusted=trusted)
    bounds = (window.window_start, window.window_end)
    async for state, records in iter_pages(client, paginator, max_pages=client.config.max_pages):
        if state.limit_trusted:
            knowledge.log_limits_honoured.add(limit)
        yield Page("logs", project, records, state.cursor, bounds, state.cursor.done)


def _page_concurrently(
    client: UbiOpsClient,
    project: str,
    windows: list[LogCursor],
    *,
    limit: int,
    knowledge: ServerTraits,
    concurrency: int,
) -> AsyncGenerator[Page[LogCursor], None]:
    """Windows paged `concurrency` at a time, in time order; the first error is raised."""
    sources = [
        functools.partial(_page_log_window, client, project, window, limit, knowledge)
        for window in windows
    ]
    return interleave(sources, concurrency)


async def iter_requests(
    client: UbiOpsClient,
    project: str,
    object_type: ObjectType,
    since: datetime,
    until: datetime,
    *,
    resume: RequestCursor | None = None,
    page_size: int | None = None,
) -> AsyncIterator[Page[RequestCursor]]:
    """Every request of `object_type` created in `[since, until)`, at its state when read.

    `until` should be at least a few seconds in the past: a request created after the scan
    passed its instant would belong to this window but be read by neither run.
    """
    project = validate_project_name(project)
    cursor = resume or RequestCursor(object_type, as_utc(since), as_utc(until))
    if cursor.object_type != object_type:
        raise ValueError(f"resume cursor is for {cursor.object_type}, not {object_type}")
    limit = page_size or client.config.requests_page_size
    paginator = RequestPaginator(project, cursor, limit=limit)
    bounds = (cursor.window_start, cursor.window_end)
    async for state, records in iter_pages(client, paginator, max_pages=client.config.max_pages):
        yield Page("requests", project, records, state.cursor, bounds, state.cursor.done)


async def iter_audit_events(
    client: UbiOpsClient,
    project: str,
    known: AuditCursor | None = None,
    *,
    page_size: int | None = None,
) -> AsyncIterator[Page[AuditCursor]]:
    """Every audit event newer than `known` (all of them when None), newest first.

    Mid-scan pages carry `known` unchanged; the last page (`window_done`) carries the new
    boundary, so a crash mid-scan simply scans again.
    """
    project = validate_project_name(project)
    limit = page_size or client.config.audit_page_size
    paginator = AuditPaginator(project, known or AuditCursor(), limit=limit)
    async for state, records in iter_pages(client, paginator, max_pages=client.config.max_pages):
        yield Page("audit_events", project, records, state.cursor, None, state.done)
