"""The rules a value must meet to be typed, as polars expressions, for batches that break some.

`values.may_be_untypeable` tells cheaply whether a batch can break any rule; only then does
one query here find the rows that do and the first rule each breaks, in column order.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import polars as pl

from transform.fields import FieldSpec, input_fields
from transform.values import TypedField

_BAD = "__bad"
_REASON = "__reason"


def _typed_name(field: str) -> str:
    return f"__typed_{field}"


def _problem_exprs(spec: FieldSpec, present: bool) -> list[tuple[pl.Expr, pl.Expr]]:
    """(condition, reason) pairs of one field, in the order they are reported."""
    raw = pl.col(spec.name) if present else pl.lit(None, spec.raw_dtype)
    typed = pl.col(_typed_name(spec.name)) if present else pl.lit(None, spec.dtype)
    problems = []
    if spec.required:
        problems.append((raw.is_null(), pl.lit(f"{spec.name}: missing")))
    if spec.key and spec.kind == "str":
        problems.append((raw == "", pl.lit(f"{spec.name}: empty")))
    if spec.kind in ("timestamp", "enum"):
        what = "unparseable timestamp" if spec.kind == "timestamp" else "unknown value"
        quoted = pl.concat_str(pl.lit(f"{spec.name}: {what} '"), raw.str.head(60), pl.lit("'"))
        problems.append((raw.is_not_null() & typed.is_null(), quoted))
    return problems


@lru_cache(maxsize=64)
def _exprs(table: str, present: frozenset[str]) -> tuple[pl.Expr, pl.Expr]:
    problems = [p for s in input_fields(table) for p in _problem_exprs(s, s.name in present)]
    if not problems:
        return pl.lit(False).alias(_BAD), pl.lit(None, pl.String()).alias(_REASON)
    bad = pl.any_horizontal([cond for cond, _ in problems]).fill_null(False)
    reason = pl.coalesce([pl.when(cond).then(why) for cond, why in problems])
    return bad.alias(_BAD), reason.alias(_REASON)


def find_problems(table: str, fields: Sequence[TypedField]) -> tuple[pl.Series, list[str]]:
    """A mask of the rows that break a rule, and the first rule each of those breaks."""
    columns = [f.raw for f in fields if f.raw is not None]
    columns += [f.typed.alias(_typed_name(f.spec.name)) for f in fields if f.raw is not None]
    height = fields[0].typed.len() if fields else 0
    # The typed columns always exist, so `select` yields one row per record even when no
    # record has any declared field (a frame of only literals would give one row).
    frame = pl.DataFrame(columns or [f.typed for f in fields], height=height)
    bad, reason = _exprs(table, frozenset(f.spec.name for f in fields if f.raw is not None))
    checked = frame.with_columns(bad, reason).select(_BAD, _REASON)
    mask = checked[_BAD]
    return mask, checked[_REASON].filter(mask).to_list()
