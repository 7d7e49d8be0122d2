"""POST /logs pages of the simulator take the columnar path, and it pages exactly as the
record path does: same records, same cursors, call for call."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from extract import LogPaginator, plan_log_windows
from extract.log_columns import LogColumns, decode_log_page
from extract.paging import iter_pages
from simulator import Faults


async def page_window(client: Any, paginator: LogPaginator, decode: Any) -> list[Any]:
    """(records delivered, cursor, whether they came as columns) per page of one window."""
    pages = []
    async for state, records in iter_pages(client, paginator, max_pages=1000, decode=decode):
        pages.append((list(records), state.cursor, isinstance(records, LogColumns)))
    return pages


async def test_simulator_pages_are_columns_and_page_like_records(sim_client, world, now):
    """Three days of logs, 500 a page: every page with logs comes as columns, and the
    records and cursors of every page equal those of the same pages decoded by `json`."""
    project = world.project_names[0]
    windows = plan_log_windows(now - timedelta(days=3), now)
    by_columns, by_records = [], []
    for window in windows:
        client, _, _ = sim_client(faults=Faults())
        by_columns += await page_window(client, LogPaginator(project, window), decode_log_page)
        client, _, _ = sim_client(faults=Faults())
        by_records += await page_window(client, LogPaginator(project, window), json.loads)
    assert [(r, c) for r, c, _ in by_columns] == [(r, c) for r, c, _ in by_records]
    assert sum(len(r) for r, _, _ in by_columns) > 5000
    assert all(columnar for records, _, columnar in by_columns if records)
    assert not any(columnar for _, _, columnar in by_records)
