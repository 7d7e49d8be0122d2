"""Requests: per object type, a high-water mark and the oldest request still unfinished.

A fresh range is cut into sub-windows paged at the same time (keyset paging is sequential
inside one window, so one window was the critical path of a backfill: bench/results.md).
Any sub-window's cursor is a valid resume point: a resumed run re-reads the rest of the range.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import polars as pl

from extract import ObjectType, Page, RequestCursor, interleave, iter_requests
from extract.request_list import FINISHED_STATUSES as FINISHED
from extract.timeutil import parse_api_datetime
from flows.core.settings import Settings
from flows.core.streams.context import RunContext, account, parse_time
from flows.core.summary import StreamResult
from transform import ColumnarRecords
from transform.schemas import OBJECT_TYPES


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
    plan = split_request_windows(
        plan_request_windows(start, until, resume), ctx.settings.concurrency
    )
    sink = ctx.sink("requests", project, object_type)
    unfinished: datetime | None = None

    async def commit(payload: dict[str, Any]) -> None:
        state[object_type] = payload
        await asyncio.to_thread(ctx.lake.state.commit, project, "requests", state)

    async for page in _page_windows(ctx, project, object_type, plan):
        result.pages += 1
        sink.add(page.records)
        unfinished = _oldest_unfinished(page.records, unfinished)
        if sink.full:
            account(result, await sink.flush())
            await commit({**sub, "partial": page.cursor.to_json()})
    account(result, await sink.flush())
    previous = parse_time(sub["unfinished_since"]) if sub.get("unfinished_since") else None
    if previous is not None and previous >= until:  # outside this run's range: still pending
        unfinished = min(unfinished or previous, previous)
    if unfinished is not None:
        unfinished = max(unfinished, ctx.now - ctx.settings.request_retention)
    high = max(until, parse_time(sub["covered_until"])) if sub.get("covered_until") else until
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


# Sub-windows shorter than this are not worth a concurrent pager of their own.
MIN_SUBWINDOW = timedelta(hours=6)


def split_request_windows(plan: list[RequestWindow], parts: int) -> list[RequestWindow]:
    """Fresh windows cut into up to `parts` contiguous half-open sub-windows of at least
    MIN_SUBWINDOW; a resumed window stays whole (its cursor belongs to it)."""
    out: list[RequestWindow] = []
    for start, end, cursor in plan:
        count = max(1, min(parts, int((end - start) / MIN_SUBWINDOW)))
        if cursor is not None or count == 1:
            out.append((start, end, cursor))
            continue
        # Each edge rounds on its own (a rounded step would pile its error onto the last window).
        edges = [start + (end - start) * i / count for i in range(count)] + [end]
        out.extend((a, b, None) for a, b in pairwise(edges))
    return out


def _page_windows(
    ctx: RunContext, project: str, object_type: ObjectType, plan: list[RequestWindow]
) -> AsyncIterator[Page[RequestCursor]]:
    """Pages of every window, up to `concurrency` windows at once; the first error cancels
    the other pagers and is raised."""
    sources = [
        functools.partial(
            iter_requests, ctx.client, project, object_type, start, end, resume=cursor
        )
        for start, end, cursor in plan
    ]
    return interleave(sources, ctx.settings.concurrency)


def request_start(
    sub: dict[str, Any], *, since: datetime | None, settings: Settings, now: datetime
) -> datetime:
    """Where to start: `since`, else the cursor minus the lookback (else the initial history),
    and never after the oldest request that was still unfinished last time."""
    covered = parse_time(sub["covered_until"]) if sub.get("covered_until") else None
    base = since or (covered - settings.lookback if covered else now - settings.initial_history)
    unfinished = parse_time(sub["unfinished_since"]) if sub.get("unfinished_since") else None
    return min(base, unfinished) if unfinished else base


def _oldest_unfinished(
    records: Sequence[Mapping[str, Any]], current: datetime | None
) -> datetime | None:
    """The oldest `time_created` of the records not yet finished, or `current` if older."""
    if isinstance(records, ColumnarRecords):
        frame = records.frame
        open_ = frame.filter(pl.col("status").is_in(FINISHED).not_().fill_null(True))
        created_times = open_["time_created"].to_list()
    else:
        created_times = [
            record.get("time_created")
            for record in records
            if isinstance(record, Mapping) and record.get("status") not in FINISHED
        ]
    for created in created_times:
        if not isinstance(created, str):
            continue
        try:
            moment = parse_api_datetime(created)  # as the paginator read it: naive is UTC
        except ValueError:
            continue
        current = moment if current is None or moment < current else current
    return current
