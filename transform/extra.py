"""The `_extra` column: fields the API sent that no column declares, as one JSON object.

Nothing the API adds is dropped: each undeclared field becomes a `"name":value` member of a
JSON object (keys sorted; null when a record has none). A field whose values share one JSON
scalar type in the batch is encoded by polars; nested or mixed-type fields (rare) are encoded
with `json.dumps`, one value at a time, so their exact structure survives. A member whose
value is null is left out: a null carries nothing, and leaving it out keeps a field that only
some records have from appearing as null in all the others.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import Any

import polars as pl

from transform.schemas import EXTRA

_NONE = type(None)
_SCALAR_DTYPES: dict[frozenset[type], pl.DataType] = {
    frozenset({str}): pl.String(),
    frozenset({bool}): pl.Boolean(),
    frozenset({int}): pl.Int64(),
    frozenset({float}): pl.Float64(),
    frozenset({int, float}): pl.Float64(),
}


def _python_members(name: str, values: list[Any]) -> pl.Series:
    encoded = [
        None
        if value is None
        else json.dumps({name: value}, ensure_ascii=False, separators=(",", ":"))[1:-1]
        for value in values
    ]
    return pl.Series(name, encoded, dtype=pl.String())


def _polars_members(name: str, values: list[Any], dtype: pl.DataType) -> pl.Series | None:
    try:
        column = pl.Series("v", values, dtype=dtype, strict=True)
    except (TypeError, OverflowError, pl.exceptions.PolarsError):
        return None
    # Polars encodes the value (as `{"v":...}`); the key, which may be any text (even ""),
    # is encoded by `json` once for the whole column.
    value = pl.struct(pl.col("v")).struct.json_encode().str.slice(5).str.head(-1)
    key = json.dumps(name, ensure_ascii=False) + ":"
    member = pl.when(pl.col("v").is_not_null()).then(pl.concat_str(pl.lit(key), value))
    return pl.DataFrame([column]).select(member.alias(name)).to_series()


def _members(name: str, records: Sequence[Mapping[str, Any]]) -> pl.Series:
    """`"name":value` for every record that has a non-null `name`, else null."""
    values = list(map(dict.get, records, repeat(name)))  # type: ignore[arg-type]
    types = frozenset(map(type, values)) - {_NONE}
    dtype = _SCALAR_DTYPES.get(types)
    members = _polars_members(name, values, dtype) if dtype is not None else None
    return members if members is not None else _python_members(name, values)


def extra_column(records: Sequence[Mapping[str, Any]], unknown: Sequence[str]) -> pl.Series:
    """The `_extra` JSON object of each record, built from its `unknown` fields."""
    if not unknown:
        return pl.Series(EXTRA, [None] * len(records), dtype=pl.String())
    # Columns are numbered: field names can be anything, even "" or a repeat after aliasing.
    members = pl.DataFrame(
        [_members(name, records).alias(f"m{i}") for i, name in enumerate(sorted(unknown))]
    )
    body = pl.concat_str(pl.all(), separator=",", ignore_nulls=True)
    has_any = pl.any_horizontal(pl.all().is_not_null())
    obj = pl.when(has_any).then(pl.concat_str(pl.lit("{"), body, pl.lit("}")))
    return members.select(obj.alias(EXTRA)).to_series()
