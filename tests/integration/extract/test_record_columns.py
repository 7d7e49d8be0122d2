"""Requests and audit pages of the simulator take the struct path, and it pages exactly as
the record path does: same records, same cursors, call for call, on both request lists."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from extract import AuditPaginator, RequestCursor, RequestPaginator
from extract.paging import iter_pages
from extract.record_columns import RecordColumns, decode_audit_page, decode_request_page
from extract.request_list_current import CurrentRequestPaginator
from simulator import Faults


async def page_all(client: Any, paginator: Any, decode: Any) -> list[Any]:
    """(records delivered, cursor, whether they came as structs) per page."""
    pages = []
    async for state, records in iter_pages(client, paginator, max_pages=1000, decode=decode):
        pages.append((list(records), state.cursor, isinstance(records, RecordColumns)))
    return pages


async def both_ways(sim_client: Any, api: str, paginator: Any, decode: Any) -> list[Any]:
    client, _, _ = sim_client(faults=Faults(), api=api)
    by_structs = await page_all(client, paginator, decode)
    client, _, _ = sim_client(faults=Faults(), api=api)
    by_records = await page_all(client, paginator, json.loads)
    assert [(r, c) for r, c, _ in by_structs] == [(r, c) for r, c, _ in by_records]
    assert all(structs for records, _, structs in by_structs if records)
    assert not any(structs for _, _, structs in by_records)
    return [record for records, _, _ in by_structs for record in records]


@pytest.mark.parametrize("object_type", ["deployment", "pipeline"])
async def test_request_pages_are_structs_and_page_like_records(sim_client, world, now, object_type):
    """Three days of requests, 50 a page, on the legacy list (`sort=asc`) and the current
    one (status by status)."""
    project = world.project_names[0]
    window = RequestCursor(object_type, now - timedelta(days=3), now - timedelta(minutes=5))
    legacy = RequestPaginator(project, window)
    delivered = await both_ways(sim_client, "legacy", legacy, decode_request_page)
    assert len(delivered) > 100
    current = CurrentRequestPaginator(project, window)
    assert await both_ways(sim_client, "current", current, decode_request_page)


async def test_audit_pages_are_structs_and_page_like_records(sim_client, world):
    """The whole audit history, newest first."""
    project = world.project_names[0]
    delivered = await both_ways(sim_client, "legacy", AuditPaginator(project), decode_audit_page)
    assert {event["id"] for event in delivered} == {
        event["id"] for event in world.truth_audit_events(project)
    }
