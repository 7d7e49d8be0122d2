"""`normalize`: one batch of raw API records to typed lake rows and rejected records.

A batch is read into raw-typed columns (records of the wrong JSON type are refused there);
timestamps are parsed; then one polars query (see `query`) types the values, adds the lake
columns (`project`, `day`, `_extracted_at`, the table's computed columns) and flags the rows
whose values cannot be typed, which are refused with the first reason found. Every record
ends up in exactly one of `rows` or `rejects`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

from transform import query
from transform.fields import OBJECT_TYPE_REQUIRED, FieldSpec, input_fields, known_fields
from transform.frame import RawBatch, read_records, text_was_coerced, type_problem
from transform.rejects import Refused, rejects_frame
from transform.schemas import EXTRA, EXTRACTED_AT, OBJECT_TYPES, SCHEMAS
from transform.snapshots import flatten_usage
from transform.timestamps import parse_utc

_PREPARE: dict[str, Callable[[Sequence[Any]], tuple[Sequence[Any], Refused]]] = {
    "credit_usage": flatten_usage,
}


@dataclass(frozen=True)
class Normalized:
    """Typed rows (exactly the table's schema) and rejected records (REJECTS_SCHEMA)."""

    rows: pl.DataFrame
    rejects: pl.DataFrame


def _with_parsed(batch: RawBatch, specs: Sequence[FieldSpec]) -> pl.DataFrame:
    """The raw frame plus each timestamp parsed (beside its text) and `_extra`, if any."""
    added = [
        parse_utc(batch.frame[s.name]).alias(query.parsed_name(s.name))
        for s in specs
        if s.kind == "timestamp" and s.name in batch.frame.columns
    ]
    if batch.extra is not None:
        added.append(batch.extra.alias(EXTRA))
    return batch.frame.hstack(added) if added else batch.frame


@dataclass(frozen=True)
class _Typed:
    """A batch after its query: the input frame, and the query's output."""

    batch: RawBatch
    frame: pl.DataFrame
    out: pl.DataFrame


def _type_batch(table: str, batch: RawBatch, stamps: tuple[tuple[str, Any], ...]) -> _Typed:
    frame = _with_parsed(batch, input_fields(SCHEMAS[table]))
    exprs = query.batch_exprs(table, query.column_names(frame), stamps)
    return _Typed(batch, frame, _select(frame, exprs, batch.has_declared_field))


def _select(frame: pl.DataFrame, exprs: Sequence[pl.Expr], uses_columns: bool) -> pl.DataFrame:
    if uses_columns:
        return frame.select(exprs)
    # All expressions are literals: `select` would return one row, not one per record.
    return frame.with_columns(exprs).select([e.meta.output_name() for e in exprs])


def _coerced(table: str, typed: _Typed) -> bool:
    """Whether the fast path let a number or boolean pass as text (rare: re-read the batch)."""
    suspect = typed.out[query.SUSPECT]
    if typed.batch.text_verified or not suspect.any():
        return False
    specs = input_fields(SCHEMAS[table])
    return text_was_coerced(specs, typed.batch.records, suspect.arg_true().to_list())


def _split_bad(table: str, typed: _Typed) -> tuple[pl.DataFrame, Refused]:
    """Rows that could be typed, and (record, reason) for those that could not."""
    bad = typed.out[query.BAD]
    rows = pl.DataFrame(query.lake_columns(typed.out, table))
    if not bad.any():
        return rows, []
    reason = query.reason_expr(table, query.column_names(typed.frame))
    bad_rows = typed.frame.filter(bad)
    reasons = _select(bad_rows, [reason], typed.batch.has_declared_field).to_series().to_list()
    records = [typed.batch.records[i] for i in bad.arg_true().to_list()]
    # A value of the wrong JSON type in a timestamp or enum field shows up as unparseable;
    # say what it really is.
    specs = input_fields(SCHEMAS[table])
    reasons = [type_problem(specs, r) or why for r, why in zip(records, reasons, strict=True)]
    return rows.filter(~bad), list(zip(records, reasons, strict=True))


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # naive means UTC everywhere in this product
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _check_call(table: str, object_type: str | None) -> None:
    if table not in SCHEMAS:
        raise ValueError(f"unknown table {table!r}; expected one of {', '.join(SCHEMAS)}")
    if table in OBJECT_TYPE_REQUIRED and object_type not in OBJECT_TYPES:
        raise ValueError(f"{table} needs object_type in {OBJECT_TYPES}, got {object_type!r}")


def normalize(
    table: str,
    records: Sequence[Mapping[str, Any]],
    *,
    project: str,
    extracted_at: datetime,
    object_type: str | None = None,
) -> Normalized:
    """Type one batch of raw `table` records of `project`, fetched at `extracted_at`.

    `object_type` (deployment or pipeline) is required for requests, whose records do not
    say it. Snapshot tables take the API's response items: one project detail object per
    project, the users / variables / instance types / quotas lists, the resource counts
    object, and the `GET /usage?interval=day` response object for credit usage. Larger
    batches are cheaper per record: polars' fixed cost per call dominates a 500-record page.
    """
    _check_call(table, object_type)
    schema = SCHEMAS[table]
    moment = _as_utc(extracted_at)
    prepare = _PREPARE.get(table)
    items, refused = prepare(records) if prepare else (records, [])
    stamps: tuple[tuple[str, Any], ...] = (("project", project), (EXTRACTED_AT, moment))
    if table in OBJECT_TYPE_REQUIRED:
        stamps += (("object_type", object_type),)
    specs, known = input_fields(schema), known_fields(schema)
    typed = _type_batch(table, read_records(specs, items, known), stamps)
    if _coerced(table, typed):
        typed = _type_batch(table, read_records(specs, items, known, check_each=True), stamps)
    rows, bad = _split_bad(table, typed)
    refused = [*refused, *typed.batch.refused, *bad]
    return Normalized(rows, rejects_frame(table, project, refused, moment))
