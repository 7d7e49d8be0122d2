"""Write one typed batch into its partitions: deduplicated, upserted or replaced, atomically.

The writer reads only what the target partitions hold (for dedupe, only the key column of
the files whose key range overlaps the batch), so memory follows the batch, not the lake.
Every file it adds or removes for one batch goes into one journal transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from transform.schemas import EXTRACTED_AT, TableSchema
from warehouse import merge, parquet_io
from warehouse.errors import SchemaMismatch
from warehouse.journal import Transaction
from warehouse.layout import is_data_file, new_file_name, partition_dir, validate_project
from warehouse.storage import Storage


@dataclass(frozen=True)
class WriteResult:
    """What one `write` did; rows_written counts new rows plus updated ones."""

    table: str
    rows_in: int
    rows_written: int
    rows_updated: int
    files_added: int
    files_removed: int
    partitions: int


def check_frame(schema: TableSchema, frame: pl.DataFrame) -> pl.DataFrame:
    """Return `frame` with the declared column order, or SchemaMismatch saying what differs."""
    expected = schema.polars_schema
    missing = [n for n in expected.names() if n not in frame.columns]
    extra = [n for n in frame.columns if n not in expected]
    wrong = [
        f"{n}: {frame.schema[n]} (declared {expected[n]})"
        for n in expected.names()
        if n in frame.columns and frame.schema[n] != expected[n]
    ]
    if missing or extra or wrong:
        raise SchemaMismatch(
            f"frame for {schema.name} does not match its schema: missing={missing} "
            f"extra={extra} wrong types={wrong}"
        )
    frame = frame.select(expected.names())
    required = [c.name for c in schema.columns if not c.nullable]
    nulls = frame.select(pl.col(required).null_count()).row(0, named=True)
    if bad := [n for n, count in nulls.items() if count]:
        raise SchemaMismatch(f"frame for {schema.name} has nulls in required columns {bad}")
    if schema.day_from is not None:
        off = frame.filter(pl.col(schema.day_from).dt.date() != pl.col("day")).height
        if off:
            raise SchemaMismatch(f"{off} {schema.name} rows have a day not of {schema.day_from}")
    for project in frame.get_column("project").unique().to_list():
        validate_project(project)
    return frame


def _data_files(storage: Storage, folder: str) -> list[str]:
    # Only the files directly in this partition: a snapshot folder has no sub-folders, and an
    # event partition's day folders are leaves.
    prefix = folder + "/"
    return [
        k for k in storage.list(folder) if is_data_file(k) and "/" not in k.removeprefix(prefix)
    ]


def _overlapping(
    storage: Storage, files: list[str], batch: pl.DataFrame, key: list[str]
) -> list[str]:
    """Files that could hold a key of `batch` (all of them unless footer ranges say not)."""
    if len(key) != 1 or batch.schema[key[0]] != pl.String():
        return files
    column = batch.get_column(key[0])
    low, high = column.min(), column.max()
    if not isinstance(low, str) or not isinstance(high, str):
        return files
    keep = []
    for file in files:
        bounds = parquet_io.string_range(storage, file, key[0])
        if bounds is None or not (bounds[1] < low or bounds[0] > high):
            keep.append(file)
    return keep


@dataclass
class _Tally:
    written: int = 0
    updated: int = 0


def _stage_dedupe(
    storage: Storage, schema: TableSchema, tx: Transaction, folder: str, batch: pl.DataFrame
) -> _Tally:
    key = list(schema.key)
    files = _overlapping(storage, _data_files(storage, folder), batch, key)
    fresh = merge.unseen_rows(batch, parquet_io.read_files(storage, schema, files, key), key)
    if fresh.height:
        tx.add(f"{folder}/{new_file_name()}", parquet_io.encode(fresh))
    return _Tally(written=fresh.height)


def _stage_upsert(
    storage: Storage, schema: TableSchema, tx: Transaction, folder: str, batch: pl.DataFrame
) -> _Tally:
    key = list(schema.key)
    files = _data_files(storage, folder)
    candidates = _overlapping(storage, files, batch, key)
    stored = parquet_io.read_files(storage, schema, candidates, [*key, EXTRACTED_AT])
    plan = merge.plan_upsert(batch, stored, key)
    if plan.tied.height:
        plan = merge.changed_ties(plan, parquet_io.read_files(storage, schema, candidates), key)
    if plan.newer.height == 0:
        if plan.fresh.height:
            tx.add(f"{folder}/{new_file_name()}", parquet_io.encode(plan.fresh))
        return _Tally(written=plan.fresh.height)
    # Copy-on-write: the partition's new content replaces all its files in one transaction.
    content = merge.rewrite_partition(parquet_io.read_files(storage, schema, files), plan, key)
    tx.add(f"{folder}/{new_file_name()}", parquet_io.encode(content))
    for file in files:
        tx.remove(file)
    return _Tally(written=plan.fresh.height + plan.newer.height, updated=plan.newer.height)


def _stage_replace(
    storage: Storage, schema: TableSchema, tx: Transaction, folder: str, batch: pl.DataFrame
) -> _Tally:
    # Always add a file, even with zero rows: the newest file is the project's current truth.
    tx.add(f"{folder}/{new_file_name()}", parquet_io.encode(batch))
    for file in _data_files(storage, folder):
        tx.remove(file)
    return _Tally(written=batch.height)


_STAGERS = {"dedupe": _stage_dedupe, "upsert": _stage_upsert, "replace": _stage_replace}


def write_batch(
    storage: Storage,
    schema: TableSchema,
    frame: pl.DataFrame,
    replace_projects: Iterable[str] = (),
) -> WriteResult:
    """Merge `frame` into the lake as one all-or-nothing change; see the module docstring.

    For snapshot tables, `replace_projects` names projects whose snapshot is now empty (they
    get an empty file, so their old rows disappear) in addition to those present in `frame`.
    """
    rows_in = frame.height
    extra = [validate_project(p) for p in replace_projects]
    if extra and schema.merge != "replace":
        raise ValueError(f"replace_projects applies to snapshot tables, not {schema.name}")
    frame = merge.collapse_batch(schema, check_frame(schema, frame))
    partitions = _split(schema, frame, extra)
    tx = Transaction(storage, kind=f"write:{schema.name}")
    tally = _Tally()
    stage = _STAGERS[schema.merge]
    for (project, day), part in partitions.items():
        folder = partition_dir(schema, project, day)
        step = stage(storage, schema, tx, folder, parquet_io.file_frame(schema, part))
        tally.written += step.written
        tally.updated += step.updated
    tx.commit()
    return WriteResult(
        table=schema.name,
        rows_in=rows_in,
        rows_written=tally.written,
        rows_updated=tally.updated,
        files_added=len(tx.adds),
        files_removed=len(tx.removes),
        partitions=len(partitions),
    )


def _split(
    schema: TableSchema, frame: pl.DataFrame, extra_projects: list[str]
) -> dict[tuple[str, dt.date | None], pl.DataFrame]:
    keys = list(schema.partition_keys)
    parts: dict[tuple[str, dt.date | None], pl.DataFrame] = {}
    for values, part in frame.partition_by(keys, as_dict=True, maintain_order=True).items():
        project = str(values[0])
        day = values[1] if len(values) > 1 else None
        parts[(project, day if isinstance(day, dt.date) else None)] = part
    for project in extra_projects:
        parts.setdefault((project, None), frame.clear())
    return parts
