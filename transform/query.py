"""The polars expressions that type a batch: lake columns, validity, and reject reasons.

Polars' fixed cost per query is large next to a 500-record page, so a batch normally runs a
single query: every lake column plus two flags, `__bad` (some value cannot be typed) and
`__suspect` (text that may be a coerced number, see `frame.coerced_suspects`). The reason
strings are built by a second query over the bad rows only, since most batches have none.
Expressions are cached per (table, columns present, stamps): building them costs more than
running them on a small page, and a sync repeats the same combination many times.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import polars as pl

from transform.derive import COMPUTED
from transform.fields import FieldSpec, input_fields
from transform.frame import coerced_suspects
from transform.schemas import EXTRA, SCHEMAS, UTC_TS

BAD = "__bad"
SUSPECT = "__suspect"
REASON = "__reason"


def parsed_name(field: str) -> str:
    """Where the parsed timestamp of `field` sits next to its raw text."""
    return f"__{field}"


@dataclass(frozen=True)
class FieldExprs:
    """A field's raw value, its typed value, and the conditions that make it untypeable."""

    raw: pl.Expr
    typed: pl.Expr
    problems: tuple[tuple[pl.Expr, pl.Expr], ...]
    """(condition, reason) pairs, in the order they are reported."""


def _field_exprs(spec: FieldSpec, columns: frozenset[str]) -> FieldExprs:
    present = spec.name in columns
    raw = pl.col(spec.name) if present else pl.lit(None, spec.raw_dtype)
    if spec.kind == "timestamp":
        typed = pl.col(parsed_name(spec.name)) if present else pl.lit(None, UTC_TS)
    elif spec.kind == "enum":
        typed = raw.cast(spec.dtype, strict=False)
    else:
        typed = raw
    problems = []
    if spec.required:
        problems.append((raw.is_null(), pl.lit(f"{spec.name}: missing")))
    if spec.key and spec.kind == "str":
        problems.append((raw == "", pl.lit(f"{spec.name}: empty")))
    if spec.kind in ("timestamp", "enum"):
        what = "unparseable timestamp" if spec.kind == "timestamp" else "unknown value"
        quoted = pl.concat_str(pl.lit(f"{spec.name}: {what} '"), raw.str.head(60), pl.lit("'"))
        problems.append((raw.is_not_null() & typed.is_null(), quoted))
    return FieldExprs(raw, typed, tuple(problems))


@lru_cache(maxsize=64)
def _fields(table: str, columns: frozenset[str]) -> dict[str, FieldExprs]:
    return {s.name: _field_exprs(s, columns) for s in input_fields(SCHEMAS[table])}


def _stamp(name: str, value: Any, dtype: pl.DataType) -> pl.Expr:
    return pl.lit(value, dtype).alias(name)


@lru_cache(maxsize=64)
def batch_exprs(
    table: str, columns: frozenset[str], stamps: tuple[tuple[str, Any], ...]
) -> tuple[pl.Expr, ...]:
    """Every lake column of `table` in schema order, then `__bad` and `__suspect`.

    `columns` are those of the frame the query runs on; `stamps` are the constant columns
    (project, extraction time, object type) as (name, value) pairs.
    """
    schema = SCHEMAS[table]
    fields = _fields(table, columns)
    typed = {name: f.typed for name, f in fields.items()}
    values = {name: expr.alias(name) for name, expr in typed.items()}
    computed = COMPUTED.get(table)
    if computed is not None:
        values.update({n: e.alias(n) for n, e in computed(typed).items()})
    dtypes = schema.polars_schema
    values.update({name: _stamp(name, value, dtypes[name]) for name, value in stamps})
    if schema.day_from is not None:
        values["day"] = typed[schema.day_from].dt.date().alias("day")
    extra = pl.col(EXTRA) if EXTRA in columns else pl.lit(None, pl.String()).alias(EXTRA)
    values[EXTRA] = extra
    conditions = [cond for f in fields.values() for cond, _ in f.problems]
    bad = pl.any_horizontal(conditions) if conditions else pl.lit(False)
    specs = input_fields(schema)
    suspect = coerced_suspects(specs, sorted(columns))
    return (*[values[n] for n in schema.names], bad.alias(BAD), suspect.alias(SUSPECT))


@lru_cache(maxsize=64)
def reason_expr(table: str, columns: frozenset[str]) -> pl.Expr:
    """The first problem of each row, as text (null for a row without one)."""
    problems = [p for f in _fields(table, columns).values() for p in f.problems]
    if not problems:
        return pl.lit(None, pl.String()).alias(REASON)
    return pl.coalesce([pl.when(cond).then(why) for cond, why in problems]).alias(REASON)


def column_names(frame: pl.DataFrame) -> frozenset[str]:
    """The cache key for a frame's columns."""
    return frozenset(frame.columns)


def lake_columns(out: pl.DataFrame, table: str) -> list[pl.Series]:
    """The lake columns of a batch query's output (its helper columns sliced off)."""
    return out.get_columns()[: len(SCHEMAS[table].columns)]
