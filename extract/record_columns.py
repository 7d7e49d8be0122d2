"""A requests or audit-events page decoded from its bytes into typed values, when that is exact.

msgspec decodes a list body straight into one `Struct` per record (a few attributes, no
dict), and it is strict where the transform needs `json`'s reading: every declared field
must be there (null where the API sends null), of its JSON type (a number given for a text
field is refused, not made text), no undeclared field may appear, and a repeated key is read
as `json` reads it (the last one wins). So when msgspec accepts a body, its structs hold
exactly what `json.loads` reads; any body it refuses (a missing or undeclared field, a wrong
type, an item that is not an object, a lone surrogate) is decoded by `json` and goes through
the paginators' and the transform's record path, which sort every bad record into a reject
with its reason.

The paginators read a record's id and date from its struct; the transform reads the page as
raw-typed columns built from the structs (`RecordColumns.frame`, the
`transform.ColumnarRecords` protocol). Reading those columns from the body with polars
instead (as `extract.log_columns` does for log pages) was measured and left out: on a
50-request page, polars' reader plus the key count that makes it exact (polars keeps the
first of two equal keys) took 0.29 CPU ms against 0.17 for the columns from the structs (a
one-off probe, 2026-12-01).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from functools import cache, cached_property
from typing import Any, ClassVar, overload

import msgspec
import polars as pl

from extract.log_lines import Record
from extract.timeutil import parse_api_datetime


class _Item(msgspec.Struct, forbid_unknown_fields=True):
    """One record of a list page; subclasses declare the other fields, in the table's order."""

    id: str
    DATE: ClassVar[str]
    """The field the paginator orders by."""
    SCHEMA: ClassVar[dict[str, pl.DataType]]
    """The raw type the transform reads each field as (`transform.fields.FieldSpec`)."""


class RequestItem(_Item):
    """A request of `GET /projects/{p}/requests` (API.md's fields, none optional)."""

    deployment: str | None
    pipeline: str | None
    version: str | None
    status: str | None
    success: bool | None
    time_created: str
    time_started: str | None
    time_completed: str | None

    DATE = "time_created"
    SCHEMA = {
        **{name: pl.String() for name in ("id", "deployment", "pipeline", "version", "status")},
        "success": pl.Boolean(),
        **{name: pl.String() for name in ("time_created", "time_started", "time_completed")},
    }


class AuditItem(_Item):
    """An audit event of `GET /projects/{p}/audit` (API.md's fields, none optional)."""

    date: str
    action: str | None
    user: str | None
    event: str | None
    object_type: str | None
    object_name: str | None

    DATE = "date"
    SCHEMA = {
        name: pl.String()
        for name in ("id", "date", "action", "user", "event", "object_type", "object_name")
    }


class _Page:
    """What the records of one response share: its body, its structs, and the `json`
    records read from the body when first asked for."""

    def __init__(self, kind: type[_Item], items: list[_Item], body: bytes) -> None:
        self.kind, self.items, self.body = kind, items, body

    @cached_property
    def decoded(self) -> list[Record]:
        decoded: list[Record] = json.loads(self.body)
        return decoded


@cache
def _by_type(kind: type[_Item]) -> list[tuple[pl.DataType, list[str]]]:
    """The fields of `kind` grouped by raw type."""
    groups: dict[pl.DataType, list[str]] = {}
    for name, dtype in kind.SCHEMA.items():
        groups.setdefault(dtype, []).append(name)
    return list(groups.items())


class RecordColumns(Sequence[Record]):
    """A page's records as structs: `ids_and_dates()` for the paginators, `frame` for the
    transform.

    As a sequence it yields the records exactly as `json.loads` reads them from the body
    (decoded only when asked for: for a reject, a broken record's fingerprint, or a caller
    that wants dicts); record i is item `positions[i]` of the body's list.
    """

    def __init__(self, page: _Page, positions: Sequence[int]) -> None:
        self._page, self.positions = page, positions

    @cached_property
    def frame(self) -> pl.DataFrame:
        """One raw-typed column per field, one row per record, built from the structs: one
        Series per type holds every field of that type one after the other and is cut into
        columns (polars' fixed cost of a Series from Python values is then paid per type,
        not per field: about half the CPU of a frame built column by column)."""
        items = [self._page.items[p] for p in self.positions]
        count, columns = len(items), dict[str, pl.Series]()
        for dtype, names in _by_type(self._page.kind):
            values = [getattr(item, name) for name in names for item in items]
            series = pl.Series(values, dtype=dtype)
            for k, name in enumerate(names):
                columns[name] = series.slice(k * count, count).alias(name)
        return pl.DataFrame([columns[name] for name in self._page.kind.SCHEMA])

    def __len__(self) -> int:
        return len(self.positions)

    @overload
    def __getitem__(self, index: int) -> Record: ...
    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...
    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        decoded = self._page.decoded
        if isinstance(index, slice):
            return [decoded[p] for p in self.positions[index]]
        return decoded[self.positions[index]]

    def __iter__(self) -> Iterator[Record]:
        decoded = self._page.decoded
        return iter([decoded[p] for p in self.positions])

    def __repr__(self) -> str:
        return f"RecordColumns({len(self.positions)} records)"

    def ids_and_dates(self) -> list[tuple[str | None, datetime | None]]:
        """Each record's id and date as `paging.record_id` and `record_date` read them."""
        items, field = self._page.items, self._page.kind.DATE
        return [(items[p].id or None, _parse(getattr(items[p], field))) for p in self.positions]

    def rows(self, indexes: Sequence[int]) -> RecordColumns:
        """The records at `indexes` (ascending), in that order."""
        return RecordColumns(self._page, [self.positions[i] for i in indexes])


def _parse(text: str) -> datetime | None:
    try:
        return parse_api_datetime(text)
    except ValueError:
        return None


def _decoder(item: type[_Item]) -> Callable[[bytes], RecordColumns | Any]:
    strict = msgspec.json.Decoder(list[item])  # type: ignore[valid-type]

    def decode(body: bytes) -> RecordColumns | Any:
        """The page as `RecordColumns` when msgspec reads it exactly, else as `json` does.

        Raises ValueError (as `json.loads` does) for a body that is not JSON.
        """
        try:
            items = strict.decode(body)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return json.loads(body)
        if not items:
            return []
        return RecordColumns(_Page(item, items, body), range(len(items)))

    return decode


decode_request_page = _decoder(RequestItem)
decode_audit_page = _decoder(AuditItem)
