"""Typing raw columns, and telling cheaply whether any row might be untypeable.

Everything on the usual path is a direct Series operation (a cast, a null count, a minimum):
polars runs those in microseconds, while any query (`select`, `with_columns`, string
methods) has a fixed cost of tens to hundreds of microseconds, more than the whole typing
of a 500-record page. Only a batch that may hold untypeable rows runs the query of `rules`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import polars as pl

from transform.fields import FieldSpec
from transform.timestamps import parse_utc


@lru_cache(maxsize=256)
def _one(name: str, value: Any, dtype: pl.DataType) -> pl.Series:
    # Making a one-value Series (a timestamp with a zone above all) costs far more than
    # repeating it, and a run stamps the same few values on every batch.
    return pl.Series(name, [value], dtype=dtype)


def constant(name: str, value: Any, dtype: pl.DataType, height: int) -> pl.Series:
    """A column holding `value` `height` times."""
    return _one(name, value, dtype).new_from_index(0, height)


@dataclass(frozen=True)
class TypedField:
    """One declared field of a batch: the raw column (None if no record has the field) and
    its typed column (timestamps parsed, enums cast; the raw column for other kinds)."""

    spec: FieldSpec
    raw: pl.Series | None
    typed: pl.Series


def type_field(spec: FieldSpec, frame: pl.DataFrame) -> TypedField:
    """The raw and typed column of `spec` in `frame` (all null when no record has it)."""
    if spec.name not in frame.columns:
        return TypedField(spec, None, constant(spec.name, None, spec.dtype, frame.height))
    raw = frame[spec.name]
    if spec.kind == "timestamp":
        return TypedField(spec, raw, parse_utc(raw))
    if spec.kind == "enum":
        return TypedField(spec, raw, raw.cast(spec.dtype, strict=False))
    return TypedField(spec, raw, raw)


def may_be_untypeable(field: TypedField, height: int) -> bool:
    """False only when no row can break a rule of `field` (the rules are in `rules`)."""
    spec, raw, typed = field.spec, field.raw, field.typed
    if raw is None:
        return spec.required and height > 0
    if spec.required and raw.null_count() > 0:
        return True
    # The empty string sorts first, so the minimum tells whether any key is empty.
    if spec.key and spec.kind == "str" and raw.min() == "":
        return True
    return typed.null_count() != raw.null_count()


def any_may_be_untypeable(fields: Sequence[TypedField], height: int) -> bool:
    """Whether some row of the batch may have to be refused by value."""
    return any(may_be_untypeable(field, height) for field in fields)
