"""Raw records to a frame of raw-typed columns, splitting off records of the wrong JSON type.

The fast path builds the frame with one `pl.from_dicts` call and then proves, with checks that
cost a small fraction of that call, that polars did not quietly coerce anything: `from_dicts`
turns a number or boolean into text for a String column and an integer into a boolean, so
text columns are checked for values that look coerced (only those few are looked up in the
records) and non-text columns by the set of Python types they hold. A batch that fails any
check goes through the slow path: every record checked in Python, the bad ones split off
with a reason, the rest built by the fast path, which now cannot fail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import polars as pl

from transform.extra import extra_column
from transform.fields import (
    ALLOWED_PY_TYPES,
    TEXT_KINDS,
    FieldSpec,
    json_type_name,
    python_type_problem,
)
from transform.schemas import EXTRA

Record = Mapping[str, Any]
_PLACEHOLDER = "__placeholder"


@dataclass(frozen=True)
class RawBatch:
    """Raw-typed columns (one row per accepted record) and the records refused by type."""

    frame: pl.DataFrame
    extra: pl.Series | None
    """The `_extra` column; None when no record has an undeclared field."""
    records: Sequence[Record]
    """The accepted records, row i of `frame` coming from `records[i]`."""
    refused: list[tuple[Any, str]]
    """(record as received, reason) for each record that could not be read."""


def _build(specs: Sequence[FieldSpec], records: Sequence[Record], keys: set[str]) -> pl.DataFrame:
    """Raw-typed columns for the declared fields some record has (absent ones are left out)."""
    present = {s.name: s.raw_dtype for s in specs if s.name in keys}
    if present:
        return pl.from_dicts(records, schema=present)
    # No declared field at all: a placeholder column keeps one row per record.
    return pl.DataFrame({_PLACEHOLDER: pl.Series([None] * len(records), dtype=pl.Null())})


def _looks_coerced(text: pl.Series) -> pl.Series:
    # What from_dicts makes of a JSON number or boolean in a String column.
    return text.cast(pl.Float64, strict=False).is_not_null() | (text == "true") | (text == "false")


def _column_is_text(text: pl.Series, records: Sequence[Record]) -> bool:
    rows = _looks_coerced(text).arg_true().to_list()
    return all(type(records[i][text.name]) is str for i in rows)


def _text_holds(specs: Sequence[FieldSpec], records: Sequence[Record], frame: pl.DataFrame) -> bool:
    """Whether every text column holds only text, not numbers or booleans from_dicts coerced.

    A coerced value reads back as a number or as "true"/"false", so only the rows that look
    like that (rare) are looked up in the records. All text columns are checked as one
    series: three direct Series operations in all, not a query and not a Python pass over
    every value (on a 500-record page with ten text fields: 0.1 ms against 0.2 ms). Timestamps
    and enums need no check: a coerced number fails to parse there and is refused by value.
    """
    names = [s.name for s in specs if s.kind == "str" and s.name in frame.columns]
    if not names:
        return True
    text = pl.concat([frame[name] for name in names], rechunk=False)
    no_numbers = text.cast(pl.Float64, strict=False).null_count() == text.len()
    if no_numbers and not ((text == "true") | (text == "false")).any():
        return True
    return all(_column_is_text(frame[name], records) for name in names)


def _others_hold(specs: Sequence[FieldSpec], records: Sequence[Record], keys: set[str]) -> bool:
    for spec in specs:
        if spec.kind in TEXT_KINDS or spec.name not in keys:
            continue
        values = map(dict.get, records, repeat(spec.name))  # type: ignore[arg-type]
        allowed = ALLOWED_PY_TYPES.get(spec.kind)
        if allowed is None:  # lists: only on tiny snapshot tables, so check every value
            if any(python_type_problem(spec, value) for value in values):
                return False
        elif not set(map(type, values)) <= allowed:
            return False
    return True


def type_problem(specs: Sequence[FieldSpec], record: Any) -> str | None:
    """Why `record` cannot be read at all (not an object, a value of the wrong JSON type)."""
    if not isinstance(record, Mapping):
        return f"not a JSON object (got {json_type_name(record)})"
    for spec in specs:
        problem = python_type_problem(spec, record.get(spec.name))
        if problem is not None:
            return problem
    return None


def _split_by_type(
    specs: Sequence[FieldSpec], records: Sequence[Any]
) -> tuple[list[dict[str, Any]], list[tuple[Any, str]]]:
    accepted: list[dict[str, Any]] = []
    refused: list[tuple[Any, str]] = []
    for record in records:
        problem = type_problem(specs, record)
        if problem is None:
            accepted.append(dict(record))
        else:
            refused.append((record, problem))
    return accepted, refused


def _key_union(records: Sequence[Record]) -> set[str]:
    return set().union(*records) if records else set()


def _extra(records: Sequence[Record], keys: set[str], known: frozenset[str]) -> pl.Series | None:
    unknown = keys - known
    return extra_column(records, sorted(unknown)).alias(EXTRA) if unknown else None


def _fast(
    specs: Sequence[FieldSpec], records: Sequence[Any], known: frozenset[str]
) -> RawBatch | None:
    if set(map(type, records)) != {dict}:
        return None
    keys = _key_union(records)
    try:
        frame = _build(specs, records, keys)
    except (TypeError, OverflowError, pl.exceptions.PolarsError):
        return None
    if not (_others_hold(specs, records, keys) and _text_holds(specs, records, frame)):
        return None
    return RawBatch(frame, _extra(records, keys, known), records, [])


def read_records(
    specs: Sequence[FieldSpec], records: Sequence[Any], known: frozenset[str]
) -> RawBatch:
    """Read `records` into raw-typed columns named after `specs`, plus `_extra`."""
    if records:
        batch = _fast(specs, records, known)
        if batch is not None:
            return batch
    accepted, refused = _split_by_type(specs, records)
    keys = _key_union(accepted)
    frame = _build(specs, accepted, keys)
    return RawBatch(frame, _extra(accepted, keys, known), accepted, refused)
