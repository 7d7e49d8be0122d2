"""Records that arrive already decoded into raw-typed columns, and a batch of several pages.

A page decoded straight from the response bytes (`extract.log_columns`) holds no Python
object per record: its `frame` has one raw-typed column per field (text for timestamps and
enums, as `fields.FieldSpec.raw_dtype` says). Indexing it gives a record as the API sent it,
which the transform only asks for to store a refused record in the rejects.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Any, Protocol, runtime_checkable

import polars as pl

from transform.fields import FieldSpec


@runtime_checkable
class ColumnarRecords(Protocol):
    """Records as raw-typed columns; `records[i]` is row i as received (decoded lazily)."""

    @property
    def frame(self) -> pl.DataFrame: ...

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


class StackedRecords(Sequence[Any]):
    """Several columnar pages as one: the frames stacked, a record found in its page."""

    def __init__(self, pages: Sequence[ColumnarRecords], specs: Sequence[FieldSpec]) -> None:
        self._pages = list(pages)
        self._starts = [0, *accumulate(len(page) for page in self._pages)]
        self.frame = _stack([page.frame for page in self._pages], specs)

    def __len__(self) -> int:
        return self._starts[-1]

    def __getitem__(self, index: int) -> Any:  # type: ignore[override]
        if not 0 <= index < len(self):
            raise IndexError(index)
        page = bisect_right(self._starts, index) - 1
        return self._pages[page][index - self._starts[page]]


def _stack(frames: Sequence[pl.DataFrame], specs: Sequence[FieldSpec]) -> pl.DataFrame:
    """The frames one under the other; each column must have its field's raw type."""
    raw = {spec.name: spec.raw_dtype for spec in specs}
    for frame in frames:
        for name, dtype in frame.schema.items():
            if raw.get(name) != dtype:
                raise ValueError(f"column {name!r} ({dtype}) is not a raw field of this table")
    if len(frames) == 1:
        return frames[0]
    return pl.concat(frames, how="diagonal")
