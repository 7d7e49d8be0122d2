"""Compaction: merge the many small files frequent runs leave into few files per partition.

Each partition is rewritten in its own journal transaction (new files added, old removed,
all or nothing), so memory is bounded by one partition and a crash mid-compaction is rolled
forward or back by `repair` like any write. Rows are collapsed by key on the way, so a
compacted partition holds each key once even if it was handed a duplicate, and sorted by key
so footer statistics let later writes skip the files a batch cannot collide with.
"""

from __future__ import annotations

import math
import posixpath
from collections import defaultdict
from dataclasses import dataclass

import polars as pl

from transform.schemas import EVENT_TABLES, TableSchema
from warehouse import merge, parquet_io
from warehouse.journal import Transaction
from warehouse.layout import is_data_file, new_file_name
from warehouse.storage import Storage

DEFAULT_TARGET_MB = 128.0


@dataclass(frozen=True)
class CompactReport:
    """What compaction did across the tables it visited."""

    partitions_compacted: int = 0
    files_before: int = 0
    files_after: int = 0
    rows: int = 0

    def __add__(self, other: CompactReport) -> CompactReport:
        return CompactReport(
            self.partitions_compacted + other.partitions_compacted,
            self.files_before + other.files_before,
            self.files_after + other.files_after,
            self.rows + other.rows,
        )


def partitions_of(storage: Storage, schema: TableSchema) -> dict[str, list[str]]:
    """Data files of a table grouped by partition folder."""
    groups: dict[str, list[str]] = defaultdict(list)
    for key in storage.list(schema.name):
        if is_data_file(key):
            groups[posixpath.dirname(key)].append(key)
    return dict(groups)


def small_files(storage: Storage, files: list[str], target_bytes: int) -> list[str]:
    """The files worth merging: those under half the target size, if there are two or more.

    Files near the target are left alone, so compacting twice is a no-op: the pieces a
    compaction writes are each at least half the target (see `_chunks`).
    """
    small = [f for f in files if storage.size(f) < target_bytes / 2]
    return small if len(small) >= 2 else []


def _chunks(frame: pl.DataFrame, target_bytes: int) -> list[bytes]:
    whole = parquet_io.encode(frame)
    pieces = max(1, math.ceil(len(whole) / target_bytes))
    if pieces == 1:
        return [whole]
    size = math.ceil(frame.height / pieces)
    return [parquet_io.encode(frame.slice(i, size)) for i in range(0, frame.height, size)]


def compact_partition(
    storage: Storage, schema: TableSchema, folder: str, files: list[str], target_bytes: int
) -> CompactReport:
    """Rewrite some files of one partition as files near `target_bytes`, each key once."""
    key = list(schema.key)
    content = parquet_io.read_files(storage, schema, files)
    content = merge.collapse_batch(schema, content).sort(key)
    tx = Transaction(storage, kind=f"compact:{schema.name}")
    for data in _chunks(content, target_bytes):
        tx.add(f"{folder}/{new_file_name()}", data)
    for file in files:
        tx.remove(file)
    tx.commit()
    return CompactReport(1, len(files), len(tx.adds), content.height)


def compact_table(
    storage: Storage, schema: TableSchema, target_file_mb: float = DEFAULT_TARGET_MB
) -> CompactReport:
    """Compact every partition of an event table holding two or more small files."""
    if schema.day_from is None:
        return CompactReport()  # a snapshot is one file per project, replaced each run
    target_bytes = max(1, int(target_file_mb * 1024 * 1024))
    report = CompactReport()
    for folder, files in sorted(partitions_of(storage, schema).items()):
        if merge_these := small_files(storage, files, target_bytes):
            report += compact_partition(storage, schema, folder, merge_these, target_bytes)
    return report


def compact_tables(
    storage: Storage,
    tables: list[TableSchema] | None = None,
    target_file_mb: float = DEFAULT_TARGET_MB,
) -> CompactReport:
    """Compact the event tables (snapshot tables hold one file per project already)."""
    report = CompactReport()
    for schema in tables if tables is not None else list(EVENT_TABLES):
        report += compact_table(storage, schema, target_file_mb)
    return report
