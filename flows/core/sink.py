"""From raw pages to committed lake files: normalise, buffer, write, then let the caller commit.

A `Sink` buffers typed frames up to a row budget so frequent small pages do not become
thousands of tiny files, while memory stays bounded by that budget. Writes run in a worker
thread (the lake serialises writes per table), so paging goes on while a batch is written.
Pages are normalised a few thousand records at a time, not one by one: polars' fixed cost
per call made per-page normalisation twice as expensive per record (bench/results.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from transform import ColumnarRecords, Normalized, normalize, normalize_columns
from transform.schemas import SCHEMAS
from warehouse import Lake

DEFAULT_BATCH_ROWS = 50_000
# Raw records held before they are normalised: 10 pages of 500 logs, a few MB of dicts.
NORMALIZE_ROWS = 5_000


@dataclass
class Flushed:
    """What one flush wrote."""

    rows_in: int = 0
    rows_written: int = 0
    rejects: int = 0
    newest: datetime | None = None


@dataclass
class Sink:
    """Buffers one table's typed rows for one project; `flush` makes them durable."""

    lake: Lake
    table: str
    project: str
    extracted_at: datetime
    object_type: str | None = None
    batch_rows: int = DEFAULT_BATCH_ROWS
    replace: bool = False
    """Snapshot semantics: a flush replaces the project's rows, even with an empty batch."""
    normalize_rows: int = NORMALIZE_ROWS
    _rows: list[pl.DataFrame] = field(default_factory=list)
    _rejects: list[pl.DataFrame] = field(default_factory=list)
    _raw: list[Mapping[str, Any]] = field(default_factory=list)
    _columnar: list[ColumnarRecords] = field(default_factory=list)
    _columnar_rows: int = 0
    _buffered: int = 0

    def add(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Buffer a page; normalise the raw records once enough have come (pure, in memory).

        A page decoded into columns (`ColumnarRecords`) is buffered as such; records keep
        their order across both kinds of page."""
        if not records:
            return
        self._buffered += len(records)
        if isinstance(records, ColumnarRecords):
            self._normalize_records()
            self._columnar.append(records)
            self._columnar_rows += len(records)
        else:
            self._normalize_columns()
            self._raw.extend(records)
        if max(len(self._raw), self._columnar_rows) >= self.normalize_rows:
            self._normalize_raw()

    def _normalize_raw(self) -> None:
        self._normalize_columns()
        self._normalize_records()

    def _normalize_columns(self) -> None:
        if not self._columnar:
            return
        pages, self._columnar, self._columnar_rows = self._columnar, [], 0
        self._keep(
            normalize_columns(
                self.table,
                pages,
                project=self.project,
                extracted_at=self.extracted_at,
                object_type=self.object_type,
            )
        )

    def _normalize_records(self) -> None:
        if not self._raw:
            return
        result = normalize(
            self.table,
            self._raw,
            project=self.project,
            extracted_at=self.extracted_at,
            object_type=self.object_type,
        )
        self._raw = []
        self._keep(result)

    def _keep(self, result: Normalized) -> None:
        if result.rows.height:
            self._rows.append(result.rows)
        if result.rejects.height:
            self._rejects.append(result.rejects)

    @property
    def buffered(self) -> int:
        return self._buffered

    @property
    def full(self) -> bool:
        return self._buffered >= self.batch_rows

    async def flush(self) -> Flushed:
        """Write the buffer (rows, then rejects) atomically; empty the buffer."""
        self._normalize_raw()
        rows = pl.concat(self._rows) if self._rows else None
        rejects = pl.concat(self._rejects) if self._rejects else None
        flushed = Flushed(rows_in=self._buffered)
        self._rows, self._rejects, self._buffered = [], [], 0
        if rows is None and self.replace:
            rows = pl.DataFrame(schema=SCHEMAS[self.table].polars_schema)
        if rows is None and rejects is None:
            return flushed
        replaced = (self.project,) if self.replace else ()
        if rows is not None:
            result = await asyncio.to_thread(self.lake.write, self.table, rows, replaced)
            flushed.rows_written = result.rows_written
            flushed.newest = _newest(self.table, rows)
        if rejects is not None:
            flushed.rejects = await asyncio.to_thread(self.lake.write_rejects, rejects)
        return flushed


def _newest(table: str, rows: pl.DataFrame) -> datetime | None:
    column = "time_created" if table == "requests" else "date"
    if column not in rows.columns or rows.height == 0:
        return None
    value = rows.get_column(column).max()
    return value if isinstance(value, datetime) else None
