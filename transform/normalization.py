"""`normalize`: one batch of raw API records to typed lake rows and rejected records.

A batch is read into raw-typed columns (records of the wrong JSON type are refused there),
each declared field is typed (timestamps parsed, enums cast), rows whose values break a rule
(a missing id, an unparseable date, an unknown enum value) are refused with the first rule
they break, and the lake columns (`project`, `day`, `_extracted_at`, the table's computed
columns) are added. Every record ends up in exactly one of `rows` or `rejects`.

The usual batch runs no polars query at all (see `values`): a 500-record page would spend
more on queries' fixed cost than on its data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

from transform.columns import ColumnarRecords, StackedRecords
from transform.derive import COMPUTED
from transform.fields import OBJECT_TYPE_REQUIRED, input_fields, known_fields
from transform.frame import RawBatch, read_records, type_problem
from transform.rejects import Refused, rejects_frame
from transform.rules import find_problems
from transform.schemas import EXTRA, EXTRACTED_AT, OBJECT_TYPES, SCHEMAS
from transform.snapshots import flatten_usage
from transform.values import TypedField, any_may_be_untypeable, constant, type_field

_PREPARE: dict[str, Callable[[Sequence[Any]], tuple[Sequence[Any], Refused]]] = {
    "credit_usage": flatten_usage,
}


@dataclass(frozen=True)
class Normalized:
    """Typed rows (exactly the table's schema) and rejected records (REJECTS_SCHEMA)."""

    rows: pl.DataFrame
    rejects: pl.DataFrame


def _lake_frame(
    table: str, fields: Sequence[TypedField], extra: pl.Series | None, stamps: Mapping[str, Any]
) -> pl.DataFrame:
    """Every column of the table, in order; computed columns are filled in afterwards."""
    schema = SCHEMAS[table]
    height = fields[0].typed.len()
    columns = {f.spec.name: f.typed for f in fields}
    for name, value in stamps.items():
        columns[name] = constant(name, value, schema.column(name).dtype, height)
    if schema.day_from is not None:
        # A cast, not `.dt.date()`: same UTC day, but no query.
        columns["day"] = columns[schema.day_from].cast(pl.Date)
    if extra is not None:
        columns[EXTRA] = extra
    return pl.DataFrame(
        [
            columns[c.name].alias(c.name)
            if c.name in columns
            else constant(c.name, None, c.dtype, height)
            for c in schema.columns
        ]
    )


def _with_computed(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    compute = COMPUTED.get(table)
    if compute is None:
        return frame
    typed = {name: pl.col(name) for name in frame.columns}
    return frame.with_columns(**compute(typed))


def _split_bad(
    table: str, fields: Sequence[TypedField], records: Sequence[Any], frame: pl.DataFrame
) -> tuple[pl.DataFrame, Refused]:
    """Rows that could be typed, and (record, reason) for those that could not."""
    if not any_may_be_untypeable(fields, frame.height):
        return frame, []
    mask, reasons = find_problems(table, fields)
    if not reasons:
        return frame, []
    bad_records = [records[i] for i in mask.arg_true().to_list()]
    # A value of the wrong JSON type in a timestamp or enum field shows up as unparseable;
    # say what it really is.
    specs = input_fields(table)
    reasons = [type_problem(specs, r) or why for r, why in zip(bad_records, reasons, strict=True)]
    return frame.filter(~mask), list(zip(bad_records, reasons, strict=True))


def _typed_rows(
    table: str, batch: RawBatch, stamps: Mapping[str, Any]
) -> tuple[pl.DataFrame, Refused]:
    fields = [type_field(spec, batch.frame) for spec in input_fields(table)]
    frame = _lake_frame(table, fields, batch.extra, stamps)
    rows, refused = _split_bad(table, fields, batch.records, frame)
    return _with_computed(table, rows), refused


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
    batches are cheaper per record: polars' fixed cost per call weighs on a 500-record page.
    """
    _check_call(table, object_type)
    moment = _as_utc(extracted_at)
    # The reader walks the records several times: a one-shot iterable would be empty later.
    records = records if isinstance(records, list | tuple) else list(records)
    prepare = _PREPARE.get(table)
    items, refused = prepare(records) if prepare else (records, [])
    stamps: dict[str, Any] = {"project": project, EXTRACTED_AT: moment}
    if table in OBJECT_TYPE_REQUIRED:
        stamps["object_type"] = object_type
    batch = read_records(input_fields(table), items, known_fields(table))
    rows, bad = _typed_rows(table, batch, stamps)
    refused = [*refused, *batch.refused, *bad]
    return Normalized(rows, rejects_frame(table, project, refused, moment))


def normalize_columns(
    table: str,
    pages: Sequence[ColumnarRecords],
    *,
    project: str,
    extracted_at: datetime,
    object_type: str | None = None,
) -> Normalized:
    """`normalize` for pages already decoded into raw-typed columns (`ColumnarRecords`),
    whose values all have the right JSON type and whose fields are all declared.

    The columns are typed as `normalize` types them, without a Python object per record; a
    record refused by value is looked up in its page, so the rejects hold it as received.
    """
    _check_call(table, object_type)
    moment = _as_utc(extracted_at)
    stamps: dict[str, Any] = {"project": project, EXTRACTED_AT: moment}
    if table in OBJECT_TYPE_REQUIRED:
        stamps["object_type"] = object_type
    records = StackedRecords(pages, input_fields(table))
    batch = RawBatch(records.frame, None, records, [])
    rows, bad = _typed_rows(table, batch, stamps)
    return Normalized(rows, rejects_frame(table, project, bad, moment))
