"""The run logic of one (project, stream): plan from state, page, write, commit. No Prefect here.

Order within every stream is the exactly-once contract of DESIGN.md: a cursor is committed
only after the files it covers are durable, so a crash re-reads at most the uncommitted tail,
which the lake deduplicates by id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from extract import (
    AuditCursor,
    LogCursor,
    ObjectType,
    RequestCursor,
    UbiOpsClient,
    fetch_snapshot,
    iter_audit_events,
    iter_logs,
    iter_requests,
)
from flows import intervals
from flows.settings import Settings
from flows.sink import Flushed, Sink
from flows.summary import StreamResult
from transform.schemas import OBJECT_TYPES, SCHEMAS, SNAPSHOT_TABLES
from warehouse import Lake

WINDOW = timedelta(hours=24)
ProgressHook = Callable[[StreamResult], None]


@dataclass
class RunContext:
    """Everything a stream run is given: no globals, no environment."""

    client: UbiOpsClient
    lake: Lake
    settings: Settings
    now: datetime
    logger: logging.Logger | logging.LoggerAdapter[Any]
    progress: ProgressHook = lambda _result: None
    batch_rows: int = 50_000
    checkpoint_windows: bool = False
    """Also commit when a window finishes (backfills: resumable per window)."""

    def sink(self, table: str, project: str, object_type: str | None = None) -> Sink:
        return Sink(
            self.lake,
            table,
            project,
            self.now,
            object_type,
            batch_rows=self.batch_rows,
            replace=SCHEMAS[table].merge == "replace",
        )


def _account(result: StreamResult, flushed: Flushed) -> None:
    result.rows_in += flushed.rows_in
    result.rows_written += flushed.rows_written
    result.rejects += flushed.rejects


# -- logs ---------------------------------------------------------------------------------


def plan_log_spans(
    state: dict[str, Any],
    *,
    since: datetime | None,
    until: datetime,
    settings: Settings,
    now: datetime,
    backfill: bool,
) -> list[intervals.Interval]:
    """Spans still to fetch: gaps in the asked range, plus the lookback re-read on a sync."""
    done = intervals.from_json(state.get("completed", []))
    high = intervals.covered_until(done)
    if backfill:
        if since is None:
            raise ValueError("a backfill needs a start")
        todo = intervals.subtract((since, until), done)
    else:
        start = since or (high - settings.lookback if high else now - settings.initial_history)
        todo = intervals.subtract((start, until), done)
        if high is not None and high - settings.lookback < until:
            todo.append((max(start, high - settings.lookback), until))
    return intervals.merge(todo)


async def sync_logs(
    ctx: RunContext, project: str, *, since: datetime | None, until: datetime, backfill: bool
) -> StreamResult:
    """Page the planned log windows (concurrently inside extract), write, checkpoint.

    State is the completed intervals plus the cursor of every window in progress, so a
    resumed run re-reads at most one batch per window and never a finished window.
    """
    state = ctx.lake.state.load(project, "logs") or {}
    spans = plan_log_spans(
        state, since=since, until=until, settings=ctx.settings, now=ctx.now, backfill=backfill
    )
    done = intervals.from_json(state.get("completed", []))
    partial = {k: LogCursor.from_json(v) for k, v in state.get("partial", {}).items()}
    result = StreamResult(project, "logs")
    result.windows_total = sum(len(intervals.split(span, WINDOW)) for span in spans)
    sink = ctx.sink("logs", project)
    pending: dict[str, LogCursor] = {}

    async def flush_and_commit() -> None:
        _account(result, await sink.flush())
        for key, cursor in pending.items():
            if cursor.done:
                done.append((cursor.window_start, cursor.window_end))
                partial.pop(key, None)
                result.windows_done += 1
            else:
                partial[key] = cursor
        done[:] = intervals.merge(done)
        pending.clear()
        payload = {
            "completed": intervals.to_json(done),
            "partial": {k: c.to_json() for k, c in partial.items()},
        }
        await asyncio.to_thread(ctx.lake.state.commit, project, "logs", payload)
        ctx.progress(result)

    for span in spans:
        resume = [c for c in partial.values() if c.window_start < span[1]]
        async for page in iter_logs(
            ctx.client,
            project,
            span[0],
            span[1],
            resume=resume,
            page_size=ctx.settings.page_size,
            concurrency=ctx.settings.concurrency,
        ):
            result.pages += 1
            sink.add(page.records)
            pending[page.cursor.window_start.isoformat()] = page.cursor
            if sink.full or (page.window_done and ctx.checkpoint_windows):
                await flush_and_commit()
    if pending or sink.buffered:
        await flush_and_commit()
    result.covered_until = intervals.covered_until(done)
    return result


# -- requests -----------------------------------------------------------------------------


async def sync_requests(
    ctx: RunContext, project: str, *, since: datetime | None, until: datetime
) -> StreamResult:
    """Both object types: re-read from the oldest unfinished request, upsert by id."""
    state = ctx.lake.state.load(project, "requests") or {}
    result = StreamResult(project, "requests", windows_total=len(OBJECT_TYPES))
    covered: list[datetime] = []
    object_types: tuple[ObjectType, ...] = ("deployment", "pipeline")
    for object_type in object_types:
        covered.append(
            await _sync_request_type(ctx, project, object_type, state, since, until, result)
        )
        result.windows_done += 1
        ctx.progress(result)
    result.covered_until = min(covered)
    return result


async def _sync_request_type(
    ctx: RunContext,
    project: str,
    object_type: ObjectType,
    state: dict[str, Any],
    since: datetime | None,
    until: datetime,
    result: StreamResult,
) -> datetime:
    """One object type: [start, until) in keyset pages, committing a resumable cursor per
    batch; returns the new high-water mark."""
    sub: dict[str, Any] = dict(state.get(object_type, {}))
    start = request_start(sub, since=since, settings=ctx.settings, now=ctx.now)
    resume = RequestCursor.from_json(sub["partial"]) if sub.get("partial") else None
    plan = plan_request_windows(start, until, resume)
    sink = ctx.sink("requests", project, object_type)
    unfinished: datetime | None = None

    async def commit(payload: dict[str, Any]) -> None:
        state[object_type] = payload
        await asyncio.to_thread(ctx.lake.state.commit, project, "requests", state)

    for window_start, window_end, cursor in plan:
        async for page in iter_requests(
            ctx.client, project, object_type, window_start, window_end, resume=cursor
        ):
            result.pages += 1
            sink.add(page.records)
            unfinished = _oldest_unfinished(page.records, unfinished)
            if sink.full:
                _account(result, await sink.flush())
                await commit({**sub, "partial": page.cursor.to_json()})
    _account(result, await sink.flush())
    previous = _parse(sub["unfinished_since"]) if sub.get("unfinished_since") else None
    if previous is not None and previous >= until:  # outside this run's range: still pending
        unfinished = min(unfinished or previous, previous)
    if unfinished is not None:
        unfinished = max(unfinished, ctx.now - ctx.settings.request_retention)
    high = max(until, _parse(sub["covered_until"])) if sub.get("covered_until") else until
    await commit(
        {
            "covered_until": high.isoformat(),
            "unfinished_since": unfinished.isoformat() if unfinished else None,
        }
    )
    return high


RequestWindow = tuple[datetime, datetime, "RequestCursor | None"]


def plan_request_windows(
    start: datetime, until: datetime, resume: RequestCursor | None
) -> list[RequestWindow]:
    """[start, until) as windows to page: a crashed run's cursor finishes its own window
    (from where it stopped), and the parts of the range around it are read fresh."""
    plan: list[RequestWindow] = []
    if resume is not None and resume.window_end > start and resume.window_start < until:
        if start < resume.window_start:
            plan.append((start, resume.window_start, None))
        plan.append((resume.window_start, resume.window_end, resume))
        start = resume.window_end
    if start < until:
        plan.append((start, until, None))
    return plan


def request_start(
    sub: dict[str, Any], *, since: datetime | None, settings: Settings, now: datetime
) -> datetime:
    """Where to start: `since`, else the cursor minus the lookback (else the initial history),
    and never after the oldest request that was still unfinished last time."""
    covered = _parse(sub["covered_until"]) if sub.get("covered_until") else None
    base = since or (covered - settings.lookback if covered else now - settings.initial_history)
    unfinished = _parse(sub["unfinished_since"]) if sub.get("unfinished_since") else None
    return min(base, unfinished) if unfinished else base


def _oldest_unfinished(records: list[dict[str, Any]], current: datetime | None) -> datetime | None:
    for record in records:
        if record.get("status") in ("completed", "failed", "cancelled"):
            continue
        created = record.get("time_created")
        if not isinstance(created, str):
            continue
        try:
            moment = _parse(created)
        except ValueError:
            continue
        current = moment if current is None or moment < current else current
    return current


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- audit events -------------------------------------------------------------------------


async def sync_audit(ctx: RunContext, project: str) -> StreamResult:
    """Scan newest first until the known events; commit the new boundary at the end."""
    state = ctx.lake.state.load(project, "audit_events") or {}
    known = AuditCursor.from_json(state["cursor"]) if state.get("cursor") else None
    result = StreamResult(project, "audit_events", windows_total=1)
    sink = ctx.sink("audit_events", project)
    cursor = known
    newest: datetime | None = _parse(state["newest"]) if state.get("newest") else None
    async for page in iter_audit_events(ctx.client, project, known=known):
        result.pages += 1
        sink.add(page.records)
        cursor = page.cursor
        if sink.full:
            flushed = await sink.flush()
            _account(result, flushed)
            newest = _later(newest, flushed.newest)
    flushed = await sink.flush()
    _account(result, flushed)
    newest = _later(newest, flushed.newest)
    if cursor is not None:
        payload = {
            "cursor": cursor.to_json(),
            "newest": newest.isoformat() if newest else None,
            "scanned_at": ctx.now.isoformat(),
        }
        await asyncio.to_thread(ctx.lake.state.commit, project, "audit_events", payload)
    result.windows_done = 1
    result.covered_until = ctx.now
    ctx.progress(result)
    return result


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


# -- snapshots ----------------------------------------------------------------------------


async def sync_snapshots(ctx: RunContext, project: str) -> StreamResult:
    """Fetch the project's current facts and replace its rows in every snapshot table."""
    result = StreamResult(project, "snapshots", windows_total=len(SNAPSHOT_TABLES))
    raw = await fetch_snapshot(ctx.client, project)
    for schema in SNAPSHOT_TABLES:
        sink = ctx.sink(schema.name, project)
        sink.add(raw.get(schema.name, []))
        result.pages += 1
        _account(result, await sink.flush())
        result.windows_done += 1
    await asyncio.to_thread(
        ctx.lake.state.commit, project, "snapshots", {"fetched_at": ctx.now.isoformat()}
    )
    result.covered_until = ctx.now
    ctx.progress(result)
    return result
