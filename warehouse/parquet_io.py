"""Frames to Parquet bytes and back, through the storage adapter.

Files hold a table's `file_columns` (partition keys live in the path), zstd-compressed.
Reads ask for only the columns they need, and a file's key range is read from its footer
statistics, so deduplication touches only the files a batch could collide with.
"""

from __future__ import annotations

import io
from typing import Any, Final, Literal

import polars as pl
import pyarrow.parquet as pq

from transform.schemas import TableSchema
from warehouse.storage import Storage

COMPRESSION: Final[Literal["zstd"]] = "zstd"
ROW_GROUP_SIZE = 128 * 1024
MAX_EXACT_STAT = 64


def encode(frame: pl.DataFrame) -> bytes:
    """The Parquet bytes of `frame` (zstd, statistics on, row groups of bounded size)."""
    buffer = io.BytesIO()
    frame.write_parquet(
        buffer, compression=COMPRESSION, statistics=True, row_group_size=ROW_GROUP_SIZE
    )
    return buffer.getvalue()


def file_frame(schema: TableSchema, frame: pl.DataFrame) -> pl.DataFrame:
    """The columns of `frame` that are stored inside a file of `schema`."""
    return frame.select(schema.file_columns)


def read_columns(
    storage: Storage, schema: TableSchema, key: str, columns: list[str] | None = None
) -> pl.DataFrame:
    """Read `columns` (default: all file columns) of one data file, typed as declared.

    A column declared after the file was written reads as nulls, so adding a column to a
    schema never makes old partitions unreadable for an upsert rewrite or a compaction.
    """
    wanted = columns if columns is not None else schema.file_columns
    try:
        frame = _read(storage, key, wanted)
    except pl.exceptions.ColumnNotFoundError:
        present = set(_read(storage, key, None).columns)
        frame = _read(storage, key, [c for c in wanted if c in present])
    declared = schema.polars_schema
    missing = [pl.lit(None, declared[c]).alias(c) for c in wanted if c not in frame.columns]
    return frame.with_columns(missing).select(wanted).cast({c: declared[c] for c in wanted})


def _read(storage: Storage, key: str, columns: list[str] | None) -> pl.DataFrame:
    local = storage.local_path(key)
    if local is not None:
        if columns is None:
            return pl.read_parquet(local, n_rows=0)
        return pl.read_parquet(local, columns=columns)
    with storage.open_read(key) as fh:
        if columns is None:
            return pl.read_parquet(fh, n_rows=0)
        return pl.read_parquet(fh, columns=columns)


def read_files(
    storage: Storage, schema: TableSchema, keys: list[str], columns: list[str] | None = None
) -> pl.DataFrame:
    """Read and stack `columns` of several files; an empty typed frame when `keys` is empty."""
    wanted = columns if columns is not None else schema.file_columns
    frames = [read_columns(storage, schema, key, wanted) for key in keys]
    if not frames:
        declared = schema.polars_schema
        return pl.DataFrame(schema={name: declared[name] for name in wanted})
    return pl.concat(frames, how="vertical")


def string_range(storage: Storage, key: str, column: str) -> tuple[str, str] | None:
    """(min, max) of a string column from a file's footer, or None when unknown."""
    local = storage.local_path(key)
    if local is not None:
        meta = pq.read_metadata(local)
    else:
        with storage.open_read(key) as fh:
            meta = pq.read_metadata(fh)
    names: list[Any] = meta.schema.names
    if column not in names:
        return None
    index = names.index(column)
    low: str | None = None
    high: str | None = None
    for group in range(meta.num_row_groups):
        stats = meta.row_group(group).column(index).statistics
        if stats is None or not stats.has_min_max:
            return None
        low = stats.min if low is None else min(low, stats.min)
        high = stats.max if high is None else max(high, stats.max)
    if not isinstance(low, str) or not isinstance(high, str) or len(high) >= MAX_EXACT_STAT:
        # Writers may truncate long string statistics; then the range is not trustworthy.
        return None
    return low, high
