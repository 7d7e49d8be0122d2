"""A `GET /projects/{p}/logs` page decoded from its bytes into structs, when that is exact.

msgspec decodes the body into one `LineItem` per line (its metadata a `LineSource`), exactly
as `json` reads it or not at all: the fields API-NOTES.md lists, each of its JSON type (a
nanosecond `timestamp` that is an integer, never a boolean or float; `process_id` an
integer; `system` a boolean), no undeclared field in a line or in its metadata, the last of
two equal keys (as `json`). A metadata field that is absent stays `UNSET`, apart from one
sent as null, because a line's content id is a digest of its metadata as sent. Any page
msgspec refuses, and any page with a negative timestamp, is decoded by `json` and goes
through the paginator's record path, which sorts every bad line into a reject with its
reason.

The paginator (`extract.logs_current`) reads timestamps, texts and sources off the structs
and returns the new lines as `LineColumns`: the transform reads them as raw-typed columns
(`id` the content id, `date` the nanosecond timestamp, `log`, the metadata fields), and
indexing gives a line in the record shape `log_lines.as_record` makes of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from functools import cached_property, lru_cache
from typing import Any, overload

import msgspec
import polars as pl
from msgspec import UNSET, UnsetType

from extract.log_lines import (
    SHARED_SOURCE_FIELDS,
    SOURCE_FIELDS,
    Record,
    as_record,
    boundary_digest_of,
    canonical_json,
    content_id_of,
    format_ns,
    source_json,
)

_TEXT = str | None | UnsetType


class LineSource(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A line's `metadata` (client 4.15's `LogMetadata`); frozen, so it keys a cache."""

    deployment_name: _TEXT = UNSET
    deployment_version: _TEXT = UNSET
    deployment_version_revision_id: _TEXT = UNSET
    instance_id: _TEXT = UNSET
    process_id: int | UnsetType | None = UNSET
    environment_name: _TEXT = UNSET
    environment_tag: _TEXT = UNSET
    environment_build_id: _TEXT = UNSET
    pipeline_name: _TEXT = UNSET
    pipeline_version: _TEXT = UNSET
    pipeline_object_name: _TEXT = UNSET
    deployment_request_id: _TEXT = UNSET
    pipeline_request_id: _TEXT = UNSET
    webhook_name: _TEXT = UNSET
    system: bool | UnsetType | None = UNSET
    level: _TEXT = UNSET


class LineItem(msgspec.Struct, forbid_unknown_fields=True):
    """One line of the page."""

    timestamp: int
    log: str
    timestamp_str: str | UnsetType = UNSET
    metadata: LineSource | UnsetType | None = UNSET


# The columns a page of lines gives the transform, as the raw types it reads them.
_COLUMN_TYPES: dict[str, pl.DataType] = {
    "id": pl.String(),
    "date": pl.String(),
    "log": pl.String(),
    **{
        name: pl.Boolean()
        if name == "system"
        else pl.Int64()
        if name == "process_id"
        else pl.String()
        for name in SOURCE_FIELDS
    },
}


class LinePage(Sequence[dict[str, Any]]):
    """A page of lines as msgspec read them. As a sequence it yields the items exactly as
    `json.loads` reads them from `body` (decoded only when asked for)."""

    def __init__(self, items: list[LineItem], body: bytes) -> None:
        self.items, self.body = items, body

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        return self.decoded[index]

    def __repr__(self) -> str:
        return f"LinePage({len(self.items)} lines)"

    @cached_property
    def decoded(self) -> list[dict[str, Any]]:
        decoded: list[dict[str, Any]] = json.loads(self.body)
        return decoded

    def digest(self, index: int, ts_ns: int) -> str:
        """`log_lines.boundary_digest` of line `index`, as the record path computes it."""
        item = self.items[index]
        return boundary_digest_of(ts_ns, item.log, _shared_source_json(item.metadata))


@lru_cache(maxsize=4096)
def _shared_source_json(metadata: LineSource | UnsetType | None) -> str:
    """`source_json` of `log_lines.source_of` of the metadata (its non-null fields both
    endpoints send). The lines of one source share it; each field holds one JSON type, so
    equal structs have equal JSON."""
    if not isinstance(metadata, LineSource):
        return source_json({})
    values = ((name, getattr(metadata, name)) for name in SHARED_SOURCE_FIELDS)
    return source_json({k: v for k, v in values if v is not None and v is not UNSET})


@lru_cache(maxsize=4096)
def _source_values(metadata: LineSource | UnsetType | None) -> tuple[Any, ...]:
    """The metadata's values in `SOURCE_FIELDS` order, absent ones as None."""
    if not isinstance(metadata, LineSource):
        return (None,) * len(SOURCE_FIELDS)
    return tuple(None if v is UNSET else v for v in msgspec.structs.astuple(metadata))


@lru_cache(maxsize=4096)
def _metadata_json(metadata: LineSource | UnsetType | None) -> str:
    """`log_lines.canonical_json` of the metadata as sent (absent fields left out). The
    lines of one source share it; each field holds one JSON type, so equal structs have
    equal JSON."""
    if not isinstance(metadata, LineSource):
        return canonical_json(None)
    sent = {name: getattr(metadata, name) for name in SOURCE_FIELDS}
    return canonical_json({name: value for name, value in sent.items() if value is not UNSET})


class LineColumns(Sequence[Record]):
    """New lines of a page: line `positions[i]` of the page, taken at nanosecond `times[i]`
    as repeat `occurrences[i]` of itself there (the content id's counter)."""

    def __init__(
        self,
        project: str,
        page: LinePage,
        positions: list[int],
        times: list[int],
        occurrences: list[int],
    ) -> None:
        self.project, self.page = project, page
        self.positions, self.times, self.occurrences = positions, times, occurrences

    def __len__(self) -> int:
        return len(self.positions)

    @overload
    def __getitem__(self, index: int) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...
    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        if isinstance(index, slice):
            return [self._record(i) for i in range(len(self))[index]]
        return self._record(range(len(self))[index])

    def __iter__(self) -> Iterator[Record]:
        return iter([self._record(i) for i in range(len(self))])

    def __repr__(self) -> str:
        return f"LineColumns({len(self)} lines)"

    def _record(self, i: int) -> Record:
        item = self.page.decoded[self.positions[i]]
        return as_record(self.project, item, self.times[i], self.occurrences[i])

    @cached_property
    def frame(self) -> pl.DataFrame:
        """One raw-typed column per field, one row per line (see `record_columns` for why
        the text columns are built as one Series and cut)."""
        items = [self.page.items[p] for p in self.positions]
        values: dict[str, Sequence[Any]] = {
            "id": [
                content_id_of(self.project, ts, item.log, _metadata_json(item.metadata), n)
                for item, ts, n in zip(items, self.times, self.occurrences, strict=True)
            ],
            "date": [format_ns(ts) for ts in self.times],
            "log": [item.log for item in items],
        }
        rows = [_source_values(item.metadata) for item in items]
        columns = zip(*rows, strict=True) if rows else ((),) * len(SOURCE_FIELDS)
        values.update(zip(SOURCE_FIELDS, columns, strict=True))
        return _frame(values, len(items))


def _frame(values: dict[str, Sequence[Any]], count: int) -> pl.DataFrame:
    texts = [name for name, dtype in _COLUMN_TYPES.items() if dtype == pl.String()]
    series = pl.Series([value for name in texts for value in values[name]], dtype=pl.String())
    columns = {name: series.slice(k * count, count).alias(name) for k, name in enumerate(texts)}
    for name, dtype in _COLUMN_TYPES.items():
        if name not in columns:
            columns[name] = pl.Series(name, list(values[name]), dtype=dtype)
    return pl.DataFrame([columns[name] for name in _COLUMN_TYPES])


_STRICT = msgspec.json.Decoder(list[LineItem])


def decode_line_page(body: bytes) -> LinePage | Any:
    """The page as a `LinePage` when msgspec reads it exactly and every timestamp is usable,
    else as `json` reads it. Raises ValueError (as `json.loads` does) for a body that is not
    JSON."""
    try:
        items = _STRICT.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return json.loads(body)
    if not items:
        return []
    if any(item.timestamp < 0 for item in items):  # unusable: the record path judges them
        return json.loads(body)
    return LinePage(items, body)
