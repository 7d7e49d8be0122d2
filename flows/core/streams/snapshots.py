"""Audit events (scanned newest first to the known boundary) and the snapshot tables."""

from __future__ import annotations

import asyncio
from datetime import datetime

from extract import AuditCursor, fetch_snapshot, iter_audit_events
from flows.core.streams.context import RunContext, account, parse_time
from flows.core.summary import StreamResult
from transform.schemas import SNAPSHOT_TABLES


async def sync_audit(ctx: RunContext, project: str) -> StreamResult:
    """Scan newest first until the known events; commit the new boundary at the end."""
    state = ctx.lake.state.load(project, "audit_events") or {}
    known = AuditCursor.from_json(state["cursor"]) if state.get("cursor") else None
    result = StreamResult(project, "audit_events", windows_total=1)
    sink = ctx.sink("audit_events", project)
    cursor = known
    newest: datetime | None = parse_time(state["newest"]) if state.get("newest") else None
    async for page in iter_audit_events(ctx.client, project, known=known):
        result.pages += 1
        sink.add(page.records)
        cursor = page.cursor
        if sink.full:
            flushed = await sink.flush()
            account(result, flushed)
            newest = _later(newest, flushed.newest)
    flushed = await sink.flush()
    account(result, flushed)
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


async def sync_snapshots(ctx: RunContext, project: str) -> StreamResult:
    """Fetch the project's current facts and replace its rows in every snapshot table."""
    result = StreamResult(project, "snapshots", windows_total=len(SNAPSHOT_TABLES))
    raw = await fetch_snapshot(ctx.client, project)
    for schema in SNAPSHOT_TABLES:
        if schema.name not in raw:
            # The token may not read this endpoint (left out by extract): keep the rows the
            # lake already has rather than replacing them with nothing.
            ctx.logger.warning(
                "snapshot %s of %s not readable; kept as it was", schema.name, project
            )
            continue
        sink = ctx.sink(schema.name, project)
        sink.add(raw[schema.name])
        result.pages += 1
        account(result, await sink.flush())
        result.windows_done += 1
    await asyncio.to_thread(
        ctx.lake.state.commit, project, "snapshots", {"fetched_at": ctx.now.isoformat()}
    )
    result.covered_until = ctx.now
    ctx.progress(result)
    return result
