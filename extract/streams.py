"""The three event streams as async iterators of `Page`s, each carrying its cursor.

The caller commits a page's cursor after the page's records are durable; after a crash it
passes the last committed cursor(s) back and the stream resumes without a gap (the last
page may come again; the lake dedupes by id).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from contextlib import aclosing
from dataclasses import replace
from datetime import datetime

from extract.audit import AuditCursor, AuditPaginator
from extract.client import UbiOpsClient
from extract.config import LOG_LIMIT_CEILING, LOG_LIMIT_FLOOR
from extract.errors import ApiError, BadRequest
from extract.interleave import interleave
from extract.line_columns import decode_line_page
from extract.log_columns import decode_log_page
from extract.logs import (
    CURRENT_MAX_WINDOW,
    MAX_WINDOW,
    LogCursor,
    LogPaginator,
    plan_log_windows,
)
from extract.logs_current import CurrentLogPaginator
from extract.paging import Page, iter_pages
from extract.projects import validate_project_name
from extract.record_columns import decode_audit_page, decode_request_page
from extract.request_list import ObjectType, RequestCursor, RequestPaginator
from extract.request_list_current import CurrentRequestPaginator
from extract.timeutil import as_utc

log = logging.getLogger(__name__)
# What a server answers to an endpoint it no longer has.
GONE_STATUSES = (404, 405, 410)


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
    """Every log dated in `[since, until)`, window by window (<= 24 h; <= 7 days when the
    run is known to read GET /logs), once per window.

    Up to `concurrency` windows are paged at the same time; pages of one window come in
    order, pages of different windows interleave. `resume` takes the last committed cursor
    of one or more windows; windows it marks done are skipped. The endpoint follows
    `client.config.log_api` (see `_page_log_window`).
    """
    project = validate_project_name(project)
    resumed = [resume] if isinstance(resume, LogCursor) else list(resume or ())
    on_get = (client.traits.log_api or client.config.log_api) == "current"
    windows = plan_log_windows(since, until, resumed, CURRENT_MAX_WINDOW if on_get else MAX_WINDOW)
    limit = page_size or client.config.log_page_size
    if not LOG_LIMIT_FLOOR <= limit <= LOG_LIMIT_CEILING:
        raise ValueError(
            f"log page size must be {LOG_LIMIT_FLOOR}..{LOG_LIMIT_CEILING}, got {limit}"
        )
    sources = [
        functools.partial(_page_log_window, client, project, window, limit) for window in windows
    ]
    # aclosing: when our consumer stops early, the workers are cancelled now, not at GC.
    async with aclosing(interleave(sources, concurrency)) as pages:
        async for page in pages:
            yield page


async def _page_log_window(
    client: UbiOpsClient, project: str, window: LogCursor, limit: int
) -> AsyncGenerator[Page[LogCursor], None]:
    """One window on the endpoint the run uses.

    `legacy` pages `POST /logs`, `current` pages `GET /logs`. `auto` starts on the POST and,
    if the server answers it 404/405/410 before it ever worked in this run, goes on with the
    GET from the window's last cursor; the first endpoint that works is kept for the run.
    """
    traits = client.traits
    chosen = traits.log_api or client.config.log_api
    bounds = (window.window_start, window.window_end)
    if chosen != "current":
        paginator = LogPaginator(
            project, window, limit=traits.log_limit or limit, limit_trusted=traits.limit_trusted
        )
        try:
            pages = iter_pages(client, paginator, max_pages=_cap(client), decode=decode_log_page)
            async for state, records in pages:
                traits.learn("legacy", state.limit, state.limit_trusted)
                window = state.cursor
                yield Page("logs", project, records, state.cursor, bounds, state.cursor.done)
            return
        except ApiError as error:
            if chosen != "auto" or traits.log_api or error.status not in GONE_STATUSES:
                raise
            log.warning(
                "POST /projects/%s/logs answered %s: trying GET /logs", project, error.status
            )
    current = CurrentLogPaginator(
        project, window, limit=traits.log_limit or limit, limit_trusted=traits.limit_trusted
    )
    lines = iter_pages(client, current, max_pages=_cap(client), decode=decode_line_page)
    async for now_at, got in lines:
        traits.learn("current", now_at.limit, now_at.limit_trusted)
        yield Page("logs", project, got, now_at.cursor, bounds, now_at.cursor.done)


def _cap(client: UbiOpsClient) -> int:
    return client.config.max_pages


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
    passed its instant would belong to this window but be read by neither run. The list
    follows `client.config.log_api`: `legacy` asks with `sort=asc` (every status), `current`
    lists the finished statuses one by one, `auto` starts with the former and switches to
    the latter, once per run, if the server refuses `sort` (400) before it ever worked.
    """
    project = validate_project_name(project)
    cursor = resume or RequestCursor(object_type, as_utc(since), as_utc(until))
    if cursor.object_type != object_type:
        raise ValueError(f"resume cursor is for {cursor.object_type}, not {object_type}")
    limit = page_size or client.config.requests_page_size
    traits = client.traits
    chosen = traits.requests_api or client.config.log_api
    bounds = (cursor.window_start, cursor.window_end)
    if chosen != "current" and cursor.status is None:
        paginator = RequestPaginator(project, cursor, limit=limit)
        try:
            listing = iter_pages(
                client, paginator, max_pages=_cap(client), decode=decode_request_page
            )
            async for state, records in listing:
                traits.requests_api = traits.requests_api or "legacy"
                cursor = state.cursor
                yield Page("requests", project, records, state.cursor, bounds, state.cursor.done)
            return
        except BadRequest as error:
            if chosen != "auto" or traits.requests_api:
                raise
            log.warning(
                "GET /projects/%s/requests refused sort=asc (%s): listing finished requests "
                "by status",
                project,
                error.status,
            )
    if cursor.status is None:
        # The legacy list's boundary means nothing here: read the window from its top (what
        # is read twice is upserted by id).
        cursor = replace(cursor, boundary=None, boundary_ids=())
    current = CurrentRequestPaginator(project, cursor, limit=limit)
    listed = iter_pages(client, current, max_pages=_cap(client), decode=decode_request_page)
    async for now_at, got in listed:
        traits.requests_api = traits.requests_api or "current"
        yield Page("requests", project, got, now_at.cursor, bounds, now_at.cursor.done)


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
    pages = iter_pages(
        client, paginator, max_pages=client.config.max_pages, decode=decode_audit_page
    )
    async for state, records in pages:
        yield Page("audit_events", project, records, state.cursor, None, state.done)
