"""POST /logs pages decoded into columns give exactly what the record path gives.

The record path (`json.loads`, a dict per record) is the reference: for any body, clean or
not, the decoded page, the paginator's next state and new records, and the typed rows and
rejects must be the same whichever path the page takes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from extract import LogCursor, LogPaginator
from extract.errors import PagingStalled
from extract.log_columns import LOG_FIELDS, LogColumns, as_micros, decode_log_page
from transform import normalize, normalize_columns

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
NOW = datetime(2026, 3, 5, tzinfo=UTC)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

plain_texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cc"]), max_size=12)
texts = st.text(st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["42", "1.5e3", "true", "false", 'say "hi"', "ends\\", '\\"', "null", "é", "\u2028"]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | texts | st.floats(),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(texts, inner, max_size=2),
    max_leaves=4,
)
ids = st.sampled_from(["0" * 24, "1" * 23 + "e", "69aa" + "0" * 20, "69ab" + "1" * 20]) | st.text(
    "0123456789abcdef", min_size=24, max_size=24
)


@st.composite
def dates(draw: st.DrawFn, plain: bool = False) -> str:
    """A log date near the window's edges, in the API's forms and some it never sends."""
    moment = T0 + timedelta(microseconds=draw(st.integers(-3_600_000_000, 90_000_000_000)))
    moment = draw(st.sampled_from([moment, T0, T0 + DAY, T0 + timedelta(seconds=5)]))
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    digits = draw(st.sampled_from([0, 6, 6, 9, 3]))
    if digits:
        text += "." + (f"{moment.microsecond:06d}" + str(draw(st.integers(100, 999))))[:digits]
    if plain:
        return text + draw(st.sampled_from(["Z", "+00:00"]))
    text += draw(st.sampled_from(["Z", "Z", "+00:00", "", "+01:00", "z"]))
    return draw(st.sampled_from([text, text, text, "2026-02-31T00:00:00Z", "garbage"]))


FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "id": ids,
    "date": dates(),
    "log": texts,
    "level": st.sampled_from(["info", "error", "debug", ""]),
    "system": st.booleans(),
    "deployment_name": st.sampled_from(["dep-a", "dep-b", "7"]),
    "deployment_version": st.sampled_from(["v1", "v2", "1"]),
    "pipeline_name": st.sampled_from(["pipe"]),
    "deployment_request_id": st.uuids().map(str),
}


CLEAN_VALUES = {**FIELD_VALUES, "date": dates(plain=True), "log": plain_texts}


@st.composite
def items(draw: st.DrawFn, clean: bool) -> list[tuple[str, Any]] | Any:
    """One page item as (key, value) pairs (so keys may repeat); unless `clean`, now and
    then with a flaw."""
    if not clean and draw(st.integers(0, 30)) == 0:
        return draw(json_values)  # maybe not an object at all
    pairs = []
    for name, values in (CLEAN_VALUES if clean else FIELD_VALUES).items():
        if name in ("id", "date", "log") or draw(st.booleans()):
            pairs.append((name, draw(values)))
    for _ in range(0 if clean else draw(st.sampled_from([0, 0, 0, 1]))):
        flaw = draw(st.sampled_from(["type", "null", "unknown", "dup", "absent", "process_id"]))
        name = draw(st.sampled_from(list(FIELD_VALUES)))
        if flaw == "type":
            pairs.append((name, draw(json_values)))
        elif flaw == "null":
            pairs.append((name, None))
        elif flaw == "unknown":
            pairs.append(("zz", draw(json_values)))
        elif flaw == "dup":
            pairs.append((name, draw(FIELD_VALUES[name])))
        elif flaw == "process_id":
            pairs.append(("process_id", draw(st.integers(0, 99))))
        else:
            pairs = [pair for pair in pairs if pair[0] != name]
    # A repeated key keeps its first place in a dict: shuffle the places, not the duplicates.
    return draw(st.permutations(pairs))


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """A page body as a server could send it: compact or spaced, ASCII-escaped or not."""
    spaced = draw(st.booleans()) and draw(st.booleans())
    ascii_only = draw(st.integers(0, 4)) == 0
    colon, comma = (": ", ", ") if spaced else (":", ",")

    def encode(value: Any) -> str:
        return json.dumps(value, ensure_ascii=ascii_only, separators=(comma, colon))

    parts = []
    clean = draw(st.booleans())
    for item in draw(st.lists(items(clean), min_size=int(clean), max_size=8)):
        if isinstance(item, list) and all(isinstance(p, tuple) for p in item):
            members = comma.join(f"{encode(k)}{colon}{encode(v)}" for k, v in item)
            parts.append("{" + members + "}")
        else:
            parts.append(encode(item))
    return ("[" + comma.join(parts) + "]").encode()


def outcome(paginator: LogPaginator, body: Any) -> tuple[Any, list[Any]] | str:
    try:
        state, fresh = paginator.advance(body)
    except PagingStalled as error:
        return f"stalled: {error}"
    return state, list(fresh)


@SETTINGS
@given(body=bodies())
def test_a_page_decodes_to_what_json_reads(body: bytes) -> None:
    """Whichever way a body is decoded, its records are exactly what `json.loads` reads, and
    a page of columns holds each record's declared fields as values of the same JSON type."""
    decoded = decode_log_page(body)
    records = json.loads(body)
    assert list(decoded) == records
    if isinstance(decoded, LogColumns):
        assert decoded.frame.columns == list(LOG_FIELDS)
        for row, record in zip(decoded.frame.iter_rows(named=True), records, strict=True):
            assert set(record) <= set(LOG_FIELDS)
            for name, value in row.items():
                assert type(value) is type(record.get(name))
                assert value == record.get(name)


@SETTINGS
@given(
    body=bodies(),
    limit=st.integers(1, 8),
    last=st.sampled_from([None, "0" * 24, "69aa" + "0" * 20]),
    lost=st.booleans(),
)
def test_the_paginator_moves_alike_on_columns_and_records(
    body: bytes, limit: int, last: str | None, lost: bool
) -> None:
    """The next state (cursor, boundary digests, limit) and the new records are the same
    for a page of columns as for the same page as records."""
    decoded = decode_log_page(body)
    if not isinstance(decoded, list | LogColumns):
        return
    cursor = LogCursor(T0, T0 + DAY, last_id=last, last_date=T0 if last else None)
    paginator = LogPaginator("p", cursor, limit=limit, cursor_lost=lost)
    assert outcome(paginator, decoded) == outcome(paginator, json.loads(body))


@SETTINGS
@given(pages=st.lists(bodies(), min_size=1, max_size=3))
def test_columns_are_typed_as_records_are(pages: list[bytes]) -> None:
    """Pages of columns become the same lake rows and the same rejects (the raw JSON item,
    the reason) as the same pages' records."""
    decoded = [decode_log_page(body) for body in pages]
    columnar = [page for page in decoded if isinstance(page, LogColumns) and len(page)]
    if not columnar:
        return
    by_columns = normalize_columns("logs", columnar, project="p", extracted_at=NOW)
    records = [record for page in columnar for record in page]
    by_records = normalize("logs", records, project="p", extracted_at=NOW)
    assert_frame_equal(by_columns.rows, by_records.rows)
    assert_frame_equal(by_columns.rejects, by_records.rejects)


def log(n: int, **fields: Any) -> dict[str, Any]:
    record = {
        "id": f"69aa{n:020x}",
        "date": (T0 + timedelta(seconds=n)).isoformat().replace("+00:00", "Z"),
        "log": f"line {n}",
        "deployment_name": "dep-a",
        "system": False,
        "level": "info",
    }
    return {**record, **fields}


def compact(records: list[Any]) -> bytes:
    return json.dumps(records, separators=(",", ":"), ensure_ascii=False).encode()


def test_a_clean_page_takes_the_columnar_path() -> None:
    """A page as the API documents it (compact, fields omitted rather than null, quotes
    and digits-only text inside) is decoded into columns."""
    page = [log(1), log(2, log='said "hi" in C:\\x'), log(3, log="42", id="1" * 24), log(4)]
    decoded = decode_log_page(compact(page))
    assert isinstance(decoded, LogColumns)
    assert decoded.micros.to_list() == [as_micros(T0 + timedelta(seconds=n)) for n in (1, 2, 3, 4)]


@pytest.mark.parametrize(
    "flaw",
    [
        {"deployment_name": 5},
        {"log": True},
        {"system": "true"},
        {"zz": 1},
        {"pipeline_name": None},
        {"process_id": 3},
        {"log": "\ud800"},
        {"date": "2026-03-01T00:00:01"},
        {"date": "not a date"},
        {"id": ""},
    ],
    ids=repr,
)
def test_a_page_with_any_flaw_takes_the_record_path(flaw: dict[str, Any]) -> None:
    """One record of the wrong type, with an undeclared or null field, a lone surrogate, a
    date the record path must judge or an empty id sends the whole page the record way."""
    body = json.dumps([log(1), log(2, **flaw), log(3)]).encode()
    body = body.replace(b", ", b",").replace(b": ", b":")
    assert decode_log_page(body) == json.loads(body)
    assert not isinstance(decode_log_page(body), LogColumns)


def test_a_repeated_key_takes_the_record_path() -> None:
    """Two equal keys in one object (polars keeps the first, `json` the last) are not
    decoded into columns."""
    body = compact([log(1), log(2)]).replace(b'"level":"info"', b'"level":"info","level":"x"', 1)
    decoded = decode_log_page(body)
    assert not isinstance(decoded, LogColumns)
    assert decoded[0]["level"] == "x"


def test_a_refused_record_is_rejected_as_the_item_the_server_sent() -> None:
    """A record refused by value on the columnar path lands in the rejects as its raw JSON
    item, with the reason, while its page's other records become rows."""
    bad = log(2, level="debug")
    bad.pop("system")
    page = decode_log_page(compact([log(1), bad, log(3)]))
    assert isinstance(page, LogColumns)
    result = normalize_columns("logs", [page], project="p", extracted_at=NOW)
    assert result.rows["id"].to_list() == [log(1)["id"], log(3)["id"]]
    assert result.rejects["reason"].to_list() == ["level: unknown value 'debug'"]
    assert json.loads(result.rejects["raw"][0]) == bad


def test_a_column_of_another_type_is_refused() -> None:
    """`normalize_columns` takes only the raw types the table reads (no silent casts)."""
    page = decode_log_page(compact([log(1)]))
    assert isinstance(page, LogColumns)
    page.frame = page.frame.with_columns(pl.col("system").cast(pl.String))
    with pytest.raises(ValueError, match="system"):
        normalize_columns("logs", [page], project="p", extracted_at=NOW)
