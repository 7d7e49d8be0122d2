"""Which raw JSON fields a table reads, what JSON type each must have, and the slow type check.

The declared schema says what a column is in the lake; this module derives from it what the
raw API field must look like (`FieldSpec`). Columns the transform computes itself (partition
keys, `_extra`, `_extracted_at`, derived request columns) are not read from the record.

`python_type_problem` is the per-value check of the slow path: it only runs for batches the
vectorised checks flagged, so it may be simple rather than fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import polars as pl

from transform.schemas import EXTRA, EXTRACTED_AT, SCHEMAS

Kind = Literal["str", "timestamp", "enum", "bool", "int", "float", "str_list"]

# Kinds that polars reads as text; from_dicts silently turns numbers and booleans into text
# for these, so they need the "looks coerced" check instead of a per-value type check.
TEXT_KINDS: frozenset[Kind] = frozenset({"str", "timestamp", "enum"})

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

COMPUTED_COLUMNS: dict[str, frozenset[str]] = {
    "requests": frozenset(
        {"object_type", "seconds_queued", "seconds_running", "finished"},
    ),
}
"""Per table, declared columns the transform derives instead of reading from the record."""

CONSUMED_FIELDS: dict[str, frozenset[str]] = {
    # The project detail repeats its name, which is already the `project` column.
    "projects": frozenset({"name"}),
}
"""Per table, raw fields that are understood but not stored (so they are not `_extra`)."""

_ALWAYS_COMPUTED = frozenset({"project", "day", EXTRA, EXTRACTED_AT})


@dataclass(frozen=True)
class FieldSpec:
    """One raw field a table reads: its name, JSON kind, the polars type it is read as."""

    name: str
    kind: Kind
    raw_dtype: pl.DataType
    """What the raw value is read as: text for timestamps and enums, else the final type."""
    dtype: pl.DataType
    """The column's type in the lake."""
    required: bool
    key: bool
    """Part of the table's key: an empty string is as bad as no value."""


def _kind_of(dtype: pl.DataType) -> Kind:
    if isinstance(dtype, pl.Datetime):
        return "timestamp"
    if isinstance(dtype, pl.Enum):
        return "enum"
    if isinstance(dtype, pl.List):
        return "str_list"
    kinds: dict[type[pl.DataType], Kind] = {
        pl.String: "str",
        pl.Boolean: "bool",
        pl.Int64: "int",
        pl.Float64: "float",
    }
    return kinds[type(dtype)]


def _raw_dtype(kind: Kind, dtype: pl.DataType) -> pl.DataType:
    return pl.String() if kind in TEXT_KINDS else dtype


@cache
def input_fields(table: str) -> tuple[FieldSpec, ...]:
    """The raw fields `table` reads from each record, in column order.

    Cached by table name: hashing a whole schema per call would cost more than the lookup.
    """
    schema = SCHEMAS[table]
    skip = _ALWAYS_COMPUTED | COMPUTED_COLUMNS.get(schema.name, frozenset())
    specs = []
    for column in schema.columns:
        if column.name in skip:
            continue
        kind = _kind_of(column.dtype)
        raw_dtype = _raw_dtype(kind, column.dtype)
        required, key = not column.nullable, column.name in schema.key
        specs.append(FieldSpec(column.name, kind, raw_dtype, column.dtype, required, key))
    return tuple(specs)


@cache
def known_fields(table: str) -> frozenset[str]:
    """Raw field names that are not `_extra`: the ones read plus the ones consumed."""
    names = {spec.name for spec in input_fields(table)}
    return frozenset(names) | CONSUMED_FIELDS.get(table, frozenset())


def json_type_name(value: Any) -> str:
    """The JSON name of a decoded value's type, for reject reasons."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


_EXPECTED = {
    "str": "string",
    "timestamp": "string",
    "enum": "string",
    "bool": "boolean",
    "int": "integer",
    "float": "number",
    "str_list": "array of strings",
}


def _has_kind(value: Any, kind: Kind) -> bool:
    # `type(...) is` rather than isinstance: a JSON boolean is a Python int subclass.
    if kind in TEXT_KINDS:
        return type(value) is str
    if kind == "bool":
        return type(value) is bool
    if kind == "int":
        return type(value) is int and _INT64_MIN <= value <= _INT64_MAX
    if kind == "float":
        return type(value) is float or (type(value) is int and _INT64_MIN <= value <= _INT64_MAX)
    return isinstance(value, list) and all(type(item) is str for item in value)


def python_type_problem(spec: FieldSpec, value: Any) -> str | None:
    """Why `value` cannot be read as `spec` (None when it can or when it is null)."""
    if value is None or _has_kind(value, spec.kind):
        return None
    if spec.kind in ("int", "float") and type(value) is int:
        return f"{spec.name}: integer out of range"
    return f"{spec.name}: expected {_EXPECTED[spec.kind]}, got {json_type_name(value)}"


ALLOWED_PY_TYPES: dict[Kind, frozenset[type]] = {
    "bool": frozenset({bool, type(None)}),
    "int": frozenset({int, type(None)}),
    "float": frozenset({int, float, type(None)}),
}
"""Python types a non-text field may hold, for the cheap per-batch type-set check."""

OBJECT_TYPE_REQUIRED = frozenset({"requests"})
"""Tables whose records do not say their object type, so the caller must."""
