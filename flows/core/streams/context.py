"""What every stream run is given, and the bookkeeping they share. No Prefect here.

Order within every stream is the exactly-once contract of DESIGN.md: a cursor is committed
only after the files it covers are durable, so a crash re-reads at most the uncommitted tail,
which the lake deduplicates by id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from extract import UbiOpsClient
from flows.core.settings import Settings
from flows.core.sink import Flushed, Sink
from flows.core.summary import StreamResult
from transform.schemas import SCHEMAS
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


def account(result: StreamResult, flushed: Flushed) -> None:
    result.rows_in += flushed.rows_in
    result.rows_written += flushed.rows_written
    result.rejects += flushed.rejects


def parse_time(text: str) -> datetime:
    """A timestamp from committed state or a raw record (ISO 8601, `Z` allowed)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
