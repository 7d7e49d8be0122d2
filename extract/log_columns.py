"""A `POST /projects/{p}/logs` page decoded from its bytes into columns, when that is exact.

polars' JSON reader turns a 500-log body into typed columns for about half the CPU of
`json.loads` alone, but it is not exact for every JSON input: it turns a number or boolean
given for a text field into text, drops fields its schema does not name, keeps the first
of two equal keys (`json` the last) and misreads lone surrogate escapes. So a page is taken
as columns only when cheap checks prove none of that happened (`_is_exact`); any other page,
and any page with a broken log (no id, no parseable date), is decoded by `json` and goes
through the paginator's and the transform's record path, which sort every bad record into a
reject with its reason.

The proof of exactness rests on counting quotes. In the body, every key and every string
value is enclosed by two unescaped quotes, and an escaped quote is a `\\"` pair. The frame
has N non-null cells, T of them text. A key can only give a cell the first time it appears
in its object and only when its value is not null, and every text cell is a JSON string
once no text cell looks like a number or boolean polars made text of. So the body holds at
least 2N + 2T unescaped quotes, and exactly that many only when every key is a declared
field, given once, with a non-null value, and no value is a string for an undeclared field.
A text cell that looks like a number or boolean is checked in the body itself (rare: an id
of digits only, a log line "42").
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from functools import cached_property
from io import BytesIO
from typing import Any, overload

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from extract.log_lines import (
    EPOCH,
    SHARED_SOURCE_FIELDS,
    SOURCE_FIELDS,
    Record,
    boundary_digests_of,
)

LOG_FIELDS: dict[str, pl.DataType] = {
    "id": pl.String(),
    "date": pl.String(),
    "log": pl.String(),
    **{
        name: pl.Boolean() if name == "system" else pl.String()
        for name in SOURCE_FIELDS
        if name != "process_id"  # a number: a page that has it takes the record path
    },
}
"""The fields a clean page may hold, as the raw types the lake's transform reads."""

_SHARED = [name for name in SHARED_SOURCE_FIELDS if name in LOG_FIELDS]
_TEXT = [name for name, dtype in LOG_FIELDS.items() if dtype == pl.String()]
# A date the Arrow cast below reads exactly as `timeutil.parse_api_datetime` and
# `log_lines.parse_ns` do: UTC, a real time of day, years whose nanoseconds fit in int64.
_PLAIN_DATE = (
    r"^(19[7-9]\d|2[01]\d\d|22[0-5]\d)-\d\d-\d\dT([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(\.\d{1,9})?(Z|\+00:00)$"
)
_NS = pa.timestamp("ns", "UTC")


class LogColumns(Sequence[Record]):
    """Log records as columns: `frame` has one row per record and the columns `LOG_FIELDS`,
    `micros` each record's date in microseconds since the epoch (UTC).

    As a sequence it yields the records exactly as `json.loads` reads them from `body`
    (decoded only when asked for: for a reject, or by a caller that wants dicts); row i is
    item `positions[i]` of the body's list.
    """

    def __init__(
        self, frame: pl.DataFrame, micros: pl.Series, body: bytes, positions: pl.Series
    ) -> None:
        self.frame, self.micros, self.body, self.positions = frame, micros, body, positions

    @cached_property
    def _items(self) -> list[Record]:
        items: list[Record] = json.loads(self.body)
        return items

    def __len__(self) -> int:
        return self.frame.height

    @overload
    def __getitem__(self, index: int) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...
    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        if isinstance(index, slice):
            return [self._items[p] for p in self.positions[index].to_list()]
        return self._items[int(self.positions[index])]

    def __iter__(self) -> Iterator[Record]:
        return iter([self._items[p] for p in self.positions.to_list()])

    def __repr__(self) -> str:
        return f"LogColumns({self.frame.height} records)"

    def rows(self, indexes: list[int]) -> LogColumns:
        """The records at `indexes` (ascending), in order; a run of rows costs no copy."""
        if indexes and indexes[-1] - indexes[0] + 1 == len(indexes):
            start, length = indexes[0], len(indexes)
            frame, micros = self.frame.slice(start, length), self.micros.slice(start, length)
            positions = self.positions.slice(start, length)
        else:
            frame, micros = self.frame[indexes], self.micros[indexes]
            positions = self.positions[indexes]
        return LogColumns(frame, micros, self.body, positions)

    def boundary_digests(self, micros: int) -> tuple[str, ...]:
        """`log_lines.boundary_digest` of the last records, back to the first of the run at
        the end dated `micros` (none when the last record has another date)."""
        at = (self.micros == micros).to_list()
        start = len(at)
        while start > 0 and at[start - 1]:
            start -= 1
        tail = self.frame.slice(start)
        sources = {name: tail[name].to_list() for name in _SHARED if name in tail.columns}
        return boundary_digests_of(micros, tail["log"].to_list(), sources)


def as_datetime(micros: int) -> datetime:
    """The UTC datetime of `micros` microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=micros)


def as_micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def decode_log_page(body: bytes) -> LogColumns | Any:
    """The page as `LogColumns` when that is exact, else as `json.loads` reads it.

    Raises ValueError (as `json.loads` does) for a body that is not JSON.
    """
    columns = _columns(body)
    return columns if columns is not None else json.loads(body)


def _columns(body: bytes) -> LogColumns | None:
    # Not a list, or an escape that could be a lone surrogate (polars misreads those); `\u`
    # is rare, as servers send text as UTF-8. (A byte is found by memchr: a 500-log body
    # without a backslash is ruled out 50 times faster than by looking for the pair.)
    if body.lstrip()[:1] != b"[" or (b"\\" in body and b"\\u" in body):
        return None
    try:
        frame = pl.read_json(BytesIO(body), schema=LOG_FIELDS)
    except pl.exceptions.PolarsError:
        return None  # an item not an object, a wrong type polars refuses, or not JSON at all
    if frame.height == 0 or not _is_exact(body, frame):
        return None
    micros = _micros(frame["date"])
    if micros is None:
        return None
    positions = pl.Series("position", range(frame.height), dtype=pl.UInt32())
    return LogColumns(frame, micros, body, positions)


def _is_exact(body: bytes, frame: pl.DataFrame) -> bool:
    """Whether the frame holds exactly what `json.loads` reads, with usable ids and dates
    (see the module docstring for why the quote count proves it)."""
    ids = frame["id"]
    if ids.null_count() or frame["date"].null_count() or ids.min() == "":
        return False
    text = pl.concat([frame[name] for name in _TEXT], rechunk=False)
    strings = text.len() - text.null_count()
    cells = strings + frame.height - frame["system"].null_count()
    quotes, expected = body.count(b'"'), 2 * (cells + strings)
    if quotes != expected:
        # Escaped quotes in text: count them, unless a `\\"` makes the count ambiguous.
        escaped = body.count(b'\\"')
        if not (escaped and quotes - escaped == expected and b'\\\\"' not in body):
            return False
    return not _looks_coerced(text).any() or _quoted_in_body(body, frame)


def _looks_coerced(text: pl.Series) -> pl.Series:
    # What polars makes of a JSON number or boolean read into a text column.
    return text.cast(pl.Float64, strict=False).is_not_null() | (text == "true") | (text == "false")


def _quoted_in_body(body: bytes, frame: pl.DataFrame) -> bool:
    """Whether each text value that looks like a number or boolean was sent as a string:
    the body holds `"field":"value"` as often as the column holds the value (a value
    nested in a string would show its quotes escaped)."""
    for name in _TEXT:
        column = frame[name].drop_nulls()
        for value, count in Counter(column.filter(_looks_coerced(column)).to_list()).items():
            if body.count(f'"{name}":"{value}"'.encode()) != count:
                return False
    return True


def _micros(dates: pl.Series) -> pl.Series | None:
    """Microseconds since the epoch of each date, or None unless all are plain UTC dates."""
    text = dates.to_arrow()
    if not pc.all(pc.match_substring_regex(text, _PLAIN_DATE)).as_py():
        return None
    try:
        nanos = pc.cast(text, _NS)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # e.g. the 31st of February
        return None
    # Digits past the microsecond are cut, as the record path does; the dates are after
    # 1970, so Arrow's division (toward zero) floors.
    return pl.Series("micros", pc.divide(pc.cast(nanos, pa.int64()), 1_000))
