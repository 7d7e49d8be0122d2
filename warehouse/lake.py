"""`Lake`: the warehouse's front door for flows (open, repair, write, state, lock, compact)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import polars as pl

from transform.schemas import EVENT_TABLES, REJECTS_SCHEMA, SCHEMAS
from warehouse import parquet_io
from warehouse.compact import DEFAULT_TARGET_MB, CompactReport, compact_table
from warehouse.errors import LakeBusy, SchemaMismatch
from warehouse.journal import RepairReport, repair
from warehouse.layout import STATE_DIR, rejects_key, table_schema
from warehouse.lock import hold_lock
from warehouse.state import Clock, RunLedger, StateStore, utc_now
from warehouse.storage import LocalStorage, Storage
from warehouse.writer import WriteResult, write_batch

WRITER_LOCK = "sync"


class Lake:
    """A Parquet lake at one root; create with `Lake.open`, which repairs a crashed run.

    Safe to share between threads of one process (flows write from worker threads); across
    processes, writers hold `lock()`.
    """

    def __init__(self, root: Path, storage: Storage, clock: Clock = utc_now) -> None:
        self.root = root
        self.storage = storage
        self._clock = clock
        self.state = StateStore(storage)
        self.ledger = RunLedger(storage, clock)
        self._held: set[str] = set()
        # Writes to one table are serialised in-process: two threads rewriting the same
        # partition copy-on-write would each keep the other's replaced file.
        self._table_locks = {name: threading.Lock() for name in SCHEMAS}

    def __repr__(self) -> str:
        return f"Lake({str(self.root)!r})"

    @classmethod
    def open(cls, root: Path | str, storage: Storage | None = None, clock: Clock = utc_now) -> Lake:
        """Open (creating if needed) the lake at `root` and repair what a crash left."""
        path = Path(root).resolve()
        path.mkdir(parents=True, exist_ok=True)
        lake = cls(path, storage if storage is not None else LocalStorage(path), clock)
        lake.repair()
        return lake

    def repair(self) -> RepairReport:
        """Roll interrupted changes forward or back and sweep temp files (idempotent).

        Journal entries of a live writer look exactly like a crashed one's, so repair runs
        only while holding the "sync" lock; if another process holds it, it is skipped (that
        writer repaired when it opened the lake).
        """
        if WRITER_LOCK in self._held or self.storage.local_path(STATE_DIR) is None:
            return repair(self.storage)
        try:
            with self.lock(WRITER_LOCK):
                return repair(self.storage)
        except LakeBusy:
            return RepairReport(skipped_busy=True)

    def write(
        self, table: str, frame: pl.DataFrame, replace_projects: Iterable[str] = ()
    ) -> WriteResult:
        """Merge one typed batch into `table` atomically (dedupe, upsert or replace by schema).

        `frame` must have exactly `SCHEMAS[table].polars_schema`. For snapshot tables,
        `replace_projects` also empties projects that have no rows in this batch.
        """
        schema = table_schema(table)
        with self._table_locks[schema.name]:
            return write_batch(self.storage, schema, frame, replace_projects)

    def write_rejects(self, frame: pl.DataFrame) -> int:
        """Append refused records (REJECTS_SCHEMA) under `_rejects/<table>/`; returns rows."""
        if frame.schema != REJECTS_SCHEMA:
            raise SchemaMismatch(f"rejects frame has {frame.schema}, expected {REJECTS_SCHEMA}")
        for (table,), part in frame.partition_by("table", as_dict=True).items():
            folder = table if isinstance(table, str) else "unknown"
            self.storage.write_atomic(rejects_key(folder), parquet_io.encode(part))
        return frame.height

    def compact(
        self, table: str | None = None, target_file_mb: float = DEFAULT_TARGET_MB
    ) -> CompactReport:
        """Merge small files per partition (one table, or every event table)."""
        schemas = [table_schema(table)] if table is not None else list(EVENT_TABLES)
        report = CompactReport()
        for schema in schemas:
            with self._table_locks[schema.name]:
                report += compact_table(self.storage, schema, target_file_mb)
        return report

    @contextlib.contextmanager
    def lock(self, name: str = WRITER_LOCK, wait: bool = False) -> Iterator[dict[str, Any]]:
        """Hold the lake's lock `name`; LakeBusy says who holds it if taken.

        Writers (sync, backfill, compact) should all hold "sync": the writer assumes it is
        the only one changing the lake.
        """
        state_dir = self.storage.local_path(STATE_DIR)
        if state_dir is None:
            raise NotImplementedError("locking needs a local lake root for now")
        with hold_lock(state_dir, name, wait, self._clock) as holder:
            self._held.add(name)
            try:
                yield holder
            finally:
                self._held.discard(name)

    def tables(self) -> list[str]:
        """Every table the lake knows, event tables first."""
        return list(SCHEMAS)
