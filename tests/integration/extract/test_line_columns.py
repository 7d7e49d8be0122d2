"""GET /logs pages of the simulator take the struct path, and it pages exactly as the
record path does: same lines (content ids included), same cursors, call for call."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from extract import plan_log_windows
from extract.line_columns import LineColumns, decode_line_page
from extract.logs import CURRENT_MAX_WINDOW
from extract.logs_current import CurrentLogPaginator
from extract.paging import iter_pages
from simulator import Faults


async def page_window(client: Any, paginator: CurrentLogPaginator, decode: Any) -> list[Any]:
    """(lines delivered, cursor, whether they came as columns) per page of one window."""
    pages = []
    async for state, records in iter_pages(client, paginator, max_pages=1000, decode=decode):
        pages.append((list(records), state.cursor, isinstance(records, LineColumns)))
    return pages


async def test_simulator_lines_are_structs_and_page_like_records(sim_client, world, now):
    """Three days of logs, 1,000 lines a page: every page with lines comes as structs, and
    the lines and cursors of every page equal those of the same pages decoded by `json`."""
    project = world.project_names[0]
    windows = plan_log_windows(now - timedelta(days=3), now, max_window=CURRENT_MAX_WINDOW)
    by_structs, by_records = [], []
    for window in windows:
        client, _, _ = sim_client(faults=Faults(), api="current")
        paginator = CurrentLogPaginator(project, window, limit=1000)
        by_structs += await page_window(client, paginator, decode_line_page)
        client, _, _ = sim_client(faults=Faults(), api="current")
        by_records += await page_window(client, paginator, json.loads)
    assert [(r, c) for r, c, _ in by_structs] == [(r, c) for r, c, _ in by_records]
    assert sum(len(r) for r, _, _ in by_structs) > 5000
    assert all(structs for records, _, structs in by_structs if records)
    assert not any(structs for _, _, structs in by_records)
