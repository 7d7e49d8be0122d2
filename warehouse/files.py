"""The Parquet files of a Delta append: one per partition, written by pyarrow.

Appends (logs, audit events, rejects) write their files here and the table commits them as
Delta add actions (`DeltaTables._append`); upserts, snapshot replacements and compaction
write theirs with delta-rs. pyarrow writes a batch of logs with the same compression,
row groups and dictionary choices for half the CPU delta-rs's writer takes (0.90 against
1.92 CPU s per 1M logs in bench/lake.md's breakdown; bench/lake-analysis.md, "Update,
2026-12-01 evening"), and the append is the lake's busiest write.

A Delta add action carries what delta-rs would have recorded: the partition values, the
file's size and its statistics (row count, and per column the null count and, where the
Parquet footer has them, the least and greatest value), which readers use to skip files
(`merge.stored_keys_predicate` reads only the files whose id range meets a batch's).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.layout import validate_project
from warehouse.merge import run_starts

ZSTD_LEVEL = 1
"""delta-rs's level for ZSTD, so both writers' files cost the same to read."""
ROW_GROUP_ROWS = 128 * 1024
NO_STATISTICS = frozenset({"log", "raw", "_extra"})
"""Free text and JSON (log lines, rejected payloads, undeclared fields): no reader skips a
file by their range, and their least and greatest values would copy whole lines into every
add action of the Delta log."""
MILLISECOND = dt.timedelta(milliseconds=1)


@dataclass(frozen=True)
class DataFile:
    """One encoded Parquet file and what its add action records."""

    path: str
    """Relative to the table's folder, as Delta add actions hold it."""
    body: bytes
    partition: dict[str, str]
    stats: str
    """The add action's statistics, as JSON."""


def partition_value(name: str, value: object) -> str:
    """A partition value as Delta records it and as its path segment holds it.

    The lake's partition columns are `project` (validated: lowercase letters, digits and
    dashes) and `day` (a date), so no value needs escaping in a path; anything else is
    refused rather than written where a reader would not find it."""
    if name == "project" and isinstance(value, str):
        return validate_project(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    raise ValueError(f"partition column {name} holds {value!r}: not a project name or a date")


def file_columns(frame: pl.DataFrame) -> pa.Table:
    """`frame` as the Arrow a data file is written from, enums as strings: polars' own
    buffers handed over through the Arrow C stream interface, strings as string views.
    (`DataFrame.to_arrow()` copies every string column into plain strings: 0.1-0.18 CPU s
    per 1M logs more for the same file bytes.)"""
    enums = [n for n, t in frame.schema.items() if isinstance(t, pl.Enum | pl.Categorical)]
    return pa.table(frame.with_columns(pl.col(enums).cast(pl.String)) if enums else frame)


def encode(data: pa.Table, plain: Collection[str]) -> tuple[bytes, pq.FileMetaData]:
    """`data` as Parquet bytes (ZSTD, statistics, dictionaries except for the `plain`
    columns) and the footer pyarrow wrote.

    The file embeds no Arrow schema: readers take its Parquet types (UTF-8 strings, UTC
    instants), as for a file of any other writer, and one built on an Arrow release without
    string views is not shown one."""
    sink = pa.BufferOutputStream()
    footers: list[pq.FileMetaData] = []
    pq.write_table(
        data,
        sink,
        row_group_size=ROW_GROUP_ROWS,
        compression="zstd",
        compression_level=ZSTD_LEVEL,
        use_dictionary=[name for name in data.column_names if name not in plain],
        write_statistics=[name for name in data.column_names if name not in NO_STATISTICS],
        store_schema=False,
        metadata_collector=footers,
    )
    return sink.getvalue().to_pybytes(), footers[0]


def _json_value(value: Any, bound: str) -> Any:
    """A Parquet statistic as a Delta statistic, or None where JSON cannot hold it.

    Delta records instants to the millisecond: the least value is rounded down and the
    greatest up, so the recorded range still contains every value of the file."""
    if isinstance(value, dt.datetime):
        utc = value.astimezone(dt.UTC)
        down = utc - dt.timedelta(microseconds=utc.microsecond % 1000)
        edge = down if bound == "min" or down == utc else down + MILLISECOND
        return edge.strftime("%Y-%m-%dT%H:%M:%S.") + f"{edge.microsecond // 1000:03d}Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return None
    return value


def statistics(footer: pq.FileMetaData) -> str:
    """The add action's statistics of a file of top-level columns, from its footer."""
    groups = [footer.row_group(i) for i in range(footer.num_row_groups)]
    stats: dict[str, Any] = {
        "numRecords": footer.num_rows,
        "minValues": {},
        "maxValues": {},
        "nullCount": {},
    }
    for index in range(footer.num_columns):
        name = footer.schema.column(index).path
        chunks = [group.column(index).statistics for group in groups]
        if not chunks or any(c is None or not c.has_null_count for c in chunks):
            continue
        stats["nullCount"][name] = sum(c.null_count for c in chunks)
        if any(not c.has_min_max for c in chunks if c.null_count < c.num_values):
            continue  # a value too long for the footer's statistics: no range recorded
        bounded = [c for c in chunks if c.has_min_max]
        if not bounded:
            continue  # only nulls
        for bound, pick in (("min", min), ("max", max)):
            value = _json_value(pick(getattr(c, bound) for c in bounded), bound)
            if value is not None:
                stats[f"{bound}Values"][name] = value
    return json.dumps(stats, separators=(",", ":"))


def partitions(
    frame: pl.DataFrame, partition_by: list[str]
) -> Iterator[tuple[tuple[object, ...], pl.DataFrame]]:
    """Each partition's values and rows, without the partition columns, first seen first.

    A batch usually holds each partition in one run of rows (pages arrive in time order):
    each run is then a slice of the frame, not a copy of it."""
    starts = run_starts(frame, partition_by)
    values = frame.select(partition_by)[starts].rows()
    if len(set(values)) == len(values):
        for value, start, end in zip(values, starts, [*starts[1:], frame.height], strict=True):
            yield value, frame.slice(start, end - start).drop(partition_by)
        return
    split = frame.partition_by(partition_by, as_dict=True, include_key=False, maintain_order=True)
    yield from split.items()


def data_files(
    frame: pl.DataFrame, partition_by: list[str], plain: Collection[str]
) -> Iterator[DataFile]:
    """One Parquet file per partition of `frame` (partition columns left out of the files,
    as Delta keeps them in the log and the path)."""
    for values, part in partitions(frame, partition_by):
        partition = {
            name: partition_value(name, value)
            for name, value in zip(partition_by, values, strict=True)
        }
        folder = "/".join(f"{name}={value}" for name, value in partition.items())
        body, footer = encode(file_columns(part), plain)
        path = f"{folder}/part-00000-{uuid.uuid4()}-c000.zstd.parquet"
        yield DataFile(path, body, partition, statistics(footer))
