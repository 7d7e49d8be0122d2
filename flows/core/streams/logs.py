"""Logs: completed intervals plus the cursor of every window in progress."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from extract import LogCursor, iter_logs
from flows.core import intervals
from flows.core.settings import Settings
from flows.core.streams.context import WINDOW, RunContext, account, parse_time
from flows.core.summary import StreamResult


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
    # What earlier runs were asked for stays due until done: windows run concurrently, so a
    # killed run can leave an earlier window unfinished (or unstarted) behind a later one
    # that finished, below the high-water mark this run starts from.
    for span in asked_before(state):
        todo += intervals.subtract(span, done)
    return intervals.merge(todo)


def asked_before(state: dict[str, Any]) -> list[intervals.Interval]:
    """The ranges earlier runs planned, and the windows they left partial."""
    asked = intervals.from_json(state.get("wanted", []))
    for raw in state.get("partial", {}).values():
        cursor = LogCursor.from_json(raw)
        asked.append((cursor.window_start, cursor.window_end))
    return intervals.merge(asked)


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
    # Intervals read through POST /logs: stored with its ids, so GET /logs must not store
    # them again under content ids (a lookback after the server dropped the POST).
    by_legacy = intervals.from_json(state.get("legacy_completed", state.get("completed", [])))
    partial = {k: LogCursor.from_json(v) for k, v in state.get("partial", {}).items()}
    result = StreamResult(project, "logs")
    result.windows_total = sum(len(intervals.split(span, WINDOW)) for span in spans)
    sink = ctx.sink("logs", project)
    pending: dict[str, LogCursor] = {}
    wanted = intervals.merge(asked_before(state) + spans)

    async def flush_and_commit() -> None:
        account(result, await sink.flush())
        for key, cursor in pending.items():
            if cursor.done:
                done.append((cursor.window_start, cursor.window_end))
                partial.pop(key, None)
                result.windows_done += 1
            else:
                partial[key] = cursor
        done[:] = intervals.merge(done)
        if ctx.client.traits.log_api == "legacy":
            by_legacy[:] = done
        pending.clear()
        payload = {
            "completed": intervals.to_json(done),
            "partial": {k: c.to_json() for k, c in partial.items()},
            "wanted": intervals.to_json(wanted),
            "legacy_completed": intervals.to_json(by_legacy),
        }
        await asyncio.to_thread(ctx.lake.state.commit, project, "logs", payload)
        ctx.progress(result)

    async def page_through(span: intervals.Interval, resume: list[LogCursor], tag: str) -> None:
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
            records = page.records
            if ctx.client.traits.log_api == "current":
                records = drop_read_by_legacy(records, page.window, by_legacy)
            sink.add(records)
            pending[page.cursor.window_start.isoformat() + tag] = page.cursor
            if sink.full or (page.window_done and ctx.checkpoint_windows):
                await flush_and_commit()

    # A window resumed from a cursor skips what is dated before it, so on a sync the
    # lookback is re-read before each such cursor too (late logs), as fresh windows.
    late = [] if backfill else lookback_before(partial.values(), ctx.settings.lookback)
    for span in spans:
        await page_through(span, [c for c in partial.values() if c.window_start < span[1]], "")
    for span in late:
        await page_through(span, [], LATE_TAG)
    if pending or sink.buffered:
        await flush_and_commit()
    result.covered_until = intervals.covered_until(done)
    return result


LATE_TAG = "/lookback"
"""Suffix of the state keys of lookback windows, so they never replace the cursor of the
window they re-read part of."""


def lookback_before(cursors: Iterable[LogCursor], lookback: timedelta) -> list[intervals.Interval]:
    """For each cursor with a position, the lookback before that position (within its window)."""
    spans = []
    for cursor in cursors:
        if cursor.last_date is not None:
            position = cursor.last_date
        elif cursor.last_ns is not None:
            position = datetime.fromtimestamp(cursor.last_ns / 1e9, UTC)
        else:
            continue
        start = max(cursor.window_start, position - lookback)
        if start < position:
            spans.append((start, position))
    return intervals.merge(spans)


def drop_read_by_legacy(
    records: Sequence[dict[str, Any]],
    window: intervals.Interval | None,
    by_legacy: list[intervals.Interval],
) -> Sequence[dict[str, Any]]:
    """Records of the current API minus those dated inside intervals the legacy API read.

    Only a window overlapping such an interval (a lookback right after the switch) pays for
    reading dates; a late log that arrived there after the switch is not stored (README).
    """
    if window is None or not any(s < window[1] and window[0] < e for s, e in by_legacy):
        return records
    kept = []
    for record in records:
        date = record.get("date")
        when = parse_time(date) if isinstance(date, str) else None
        if when is None or not any(s <= when < e for s, e in by_legacy):
            kept.append(record)
    return kept
