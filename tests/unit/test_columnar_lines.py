"""`GET /logs` pages decoded into structs give exactly what the record path gives.

The record path (`json.loads`, a dict per line, `log_lines.as_record`) is the reference: for
any body, clean or not, the paginator's next state and new lines (content ids included), and
the typed rows and rejects must be the same whichever path the page takes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from extract.errors import PagingStalled, UnexpectedResponse
from extract.line_columns import LineColumns, LinePage, LineSource, decode_line_page
from extract.log_lines import SOURCE_FIELDS, boundary_digest, datetime_to_ns, format_ns
from extract.logs import LogCursor
from extract.logs_current import CurrentLogPaginator
from transform import normalize, normalize_columns

T0 = datetime(2026, 3, 1, tzinfo=UTC)
NS0 = datetime_to_ns(T0)
HOUR_NS = 3_600 * 10**9
NOW = datetime(2026, 3, 5, tzinfo=UTC)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

texts = st.text(st.characters(codec="utf-8"), max_size=8) | st.sampled_from(
    ["42", "true", 'say "hi"', "ends\\", "é", "\ud800"]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | texts | st.floats(),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(texts, inner, max_size=2),
    max_leaves=4,
)
# Near the window's edges, with repeats (lines sharing a nanosecond, or a microsecond).
offsets = st.sampled_from([0, 0, 1, 1_000, 1_001, 5_000, HOUR_NS - 1, HOUR_NS]) | st.integers(
    -1_000, HOUR_NS + 1_000
)
METADATA_VALUES: dict[str, st.SearchStrategy[Any]] = {
    name: st.sampled_from(["a", "b", "", "7"]) for name in SOURCE_FIELDS
} | {
    "level": st.sampled_from(["info", "error", "debug"]),
    "system": st.booleans(),
    "process_id": st.integers(0, 3),
}


@st.composite
def metadata(draw: st.DrawFn, clean: bool) -> list[tuple[str, Any]] | Any:
    """A metadata object as (key, value) pairs (so keys may repeat); unless `clean`, now
    and then flawed."""
    if not clean and draw(st.integers(0, 40)) == 0:
        return draw(json_values)
    pairs = [
        (name, draw(st.none() | values) if draw(st.integers(0, 5)) else None)
        for name, values in METADATA_VALUES.items()
        if draw(st.booleans())
    ]
    flaw = (
        None if clean else draw(st.sampled_from([None] * 8 + ["type", "unknown", "dup", "clash"]))
    )
    if flaw == "type":
        pairs.append((draw(st.sampled_from(list(METADATA_VALUES))), draw(json_values)))
    elif flaw == "unknown":
        pairs.append(("zz", draw(json_values)))
    elif flaw == "dup" and pairs:
        name = pairs[0][0]
        pairs.append((name, draw(st.none() | METADATA_VALUES[name])))
    elif flaw == "clash":
        pairs.append((draw(st.sampled_from(["id", "date", "log"])), "x"))
    return draw(st.permutations(pairs))


@st.composite
def items(draw: st.DrawFn, clean: bool) -> list[tuple[str, Any]] | Any:
    """One page item as (key, value) pairs; unless `clean`, now and then flawed or not an
    object."""
    if not clean and draw(st.integers(0, 40)) == 0:
        return draw(json_values)
    ts = NS0 + draw(offsets)
    pairs: list[tuple[str, Any]] = [("timestamp", ts), ("log", draw(texts))]
    if draw(st.booleans()):
        pairs.append(("timestamp_str", format_ns(max(ts, 0))))
    if draw(st.integers(0, 5)):
        pairs.append(("metadata", draw(metadata(clean))))
    flaws = [None] * 10 + ["type", "unknown", "dup", "absent", "negative"]
    flaw = None if clean else draw(st.sampled_from(flaws))
    if flaw == "type":
        pairs.append((draw(st.sampled_from(["timestamp", "log"])), draw(json_values)))
    elif flaw == "unknown":
        pairs.append(("zz", draw(json_values)))
    elif flaw == "dup":
        pairs.append(("log", draw(texts)))
    elif flaw == "absent":
        drop = draw(st.sampled_from(["timestamp", "log"]))
        pairs = [pair for pair in pairs if pair[0] != drop]
    elif flaw == "negative":
        pairs = [("timestamp", -5)] + [pair for pair in pairs if pair[0] != "timestamp"]
    return draw(st.permutations(pairs))


def encode_pairs(value: Any, comma: str, colon: str, ascii_only: bool) -> str:
    if isinstance(value, list) and value and all(isinstance(p, tuple) for p in value):
        members = (
            f"{encode_pairs(k, comma, colon, ascii_only)}{colon}"
            f"{encode_pairs(v, comma, colon, ascii_only)}"
            for k, v in value
        )
        return "{" + comma.join(members) + "}"
    text = json.dumps(value, ensure_ascii=ascii_only, separators=(comma, colon))
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate can only be sent escaped
        text = json.dumps(value, separators=(comma, colon))
    return text


def timestamp_of(item: Any) -> int:
    if isinstance(item, list):
        for pair in item:
            if isinstance(pair, tuple) and pair[0] == "timestamp" and isinstance(pair[1], int):
                return int(pair[1])
    return NS0


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """A page as a server could send it, oldest first (now and then out of order)."""
    spaced = draw(st.booleans())
    colon, comma = (": ", ", ") if spaced else (":", ",")
    ascii_only = draw(st.integers(0, 4)) == 0
    lines = draw(st.lists(items(clean=draw(st.booleans())), max_size=8))
    if draw(st.integers(0, 10)):
        lines.sort(key=timestamp_of)
    parts = [encode_pairs(line, comma, colon, ascii_only) for line in lines]
    return ("[" + comma.join(parts) + "]").encode()


def outcome(paginator: CurrentLogPaginator, body: Any) -> tuple[Any, list[Any]] | str:
    try:
        state, fresh = paginator.advance(body)
    except (PagingStalled, UnexpectedResponse) as error:
        return f"{type(error).__name__}: {error}"
    return state, list(fresh)


def cursors() -> st.SearchStrategy[LogCursor]:
    """A fresh window, or one resumed at a nanosecond (or a legacy microsecond) with lines
    taken there."""
    window = LogCursor(T0, T0 + timedelta(hours=1))
    at = st.sampled_from([NS0, NS0 + 1, NS0 + 1_000])
    taken = st.lists(
        st.builds(
            boundary_digest,
            at,
            texts,
            st.fixed_dictionaries({}, optional={"deployment_name": st.sampled_from(["a", "b"])}),
        ),
        max_size=2,
    ).map(tuple)
    resumed = st.builds(
        lambda ns, t: LogCursor(T0, T0 + timedelta(hours=1), last_ns=ns, taken=t), at, taken
    )
    legacy = st.builds(
        lambda t: LogCursor(
            T0,
            T0 + timedelta(hours=1),
            last_id="x",
            last_date=T0 + timedelta(microseconds=1),
            taken=t,
        ),
        taken,
    )
    return st.sampled_from([window]) | resumed | legacy


@SETTINGS
@given(body=bodies(), cursor=cursors(), limit=st.integers(1, 8), trusted=st.booleans())
def test_the_paginator_moves_alike_on_structs_and_records(
    body: bytes, cursor: LogCursor, limit: int, trusted: bool
) -> None:
    """The next state (cursor, boundary digests, limit) and the new lines (content ids and
    occurrences included) are the same for a page of structs as for the same page as
    `json` items, and a page of structs is the items `json` reads."""
    decoded = decode_line_page(body)
    if isinstance(decoded, LinePage):
        assert list(decoded) == json.loads(body)
    paginator = CurrentLogPaginator("p", cursor, limit=limit, limit_trusted=trusted)
    assert outcome(paginator, decoded) == outcome(paginator, json.loads(body))


@SETTINGS
@given(pages=st.lists(bodies(), min_size=1, max_size=3))
def test_lines_are_typed_as_records_are(pages: list[bytes]) -> None:
    """New lines from pages of structs become the same lake rows and the same rejects (the
    record as the record path makes it, the reason) as the same lines as records."""
    paginator = CurrentLogPaginator("p", LogCursor(T0, T0 + timedelta(hours=1)))
    columnar = []
    for body in pages:
        decoded = decode_line_page(body)
        if not isinstance(decoded, LinePage):
            continue
        try:
            _, fresh = paginator.advance(decoded)
        except UnexpectedResponse:
            continue
        assert isinstance(fresh, LineColumns)
        if len(fresh):
            columnar.append(fresh)
    if not columnar:
        return
    by_columns = normalize_columns("logs", columnar, project="p", extracted_at=NOW)
    records = [record for page in columnar for record in page]
    by_records = normalize("logs", records, project="p", extracted_at=NOW)
    assert_frame_equal(by_columns.rows, by_records.rows)
    assert_frame_equal(by_columns.rejects, by_records.rejects)


def line(offset_ns: int, text: str = "x", **metadata: Any) -> dict[str, Any]:
    ts = NS0 + offset_ns
    return {
        "timestamp": ts,
        "timestamp_str": format_ns(ts),
        "log": text,
        "metadata": {"deployment_name": "d1", "level": "info", "system": False, **metadata},
    }


def compact(items: list[Any]) -> bytes:
    return json.dumps(items, separators=(",", ":"), ensure_ascii=False).encode()


def test_the_metadata_struct_holds_the_source_fields_in_their_order() -> None:
    """`LineColumns` reads a metadata struct's values by position."""
    assert LineSource.__struct_fields__ == SOURCE_FIELDS


def test_a_page_as_api_notes_describe_it_takes_the_struct_path() -> None:
    """Lines with all, some or no metadata, nulls, repeats at one nanosecond: structs, and
    the new lines come back as columns whose ids tell the repeats apart."""
    page = [line(1), line(1), line(2, process_id=7, pipeline_name=None), line(3)]
    page[3].pop("metadata")
    decoded = decode_line_page(compact(page))
    assert isinstance(decoded, LinePage)
    state, fresh = CurrentLogPaginator("p", LogCursor(T0, T0 + timedelta(hours=1))).advance(decoded)
    assert isinstance(fresh, LineColumns)
    ids = fresh.frame["id"].to_list()
    assert len(set(ids)) == 4
    assert fresh.frame["process_id"].to_list() == [None, None, 7, None]
    assert state.cursor.last_ns == NS0 + 3
    assert decode_line_page(b"[]") == []


@pytest.mark.parametrize(
    "flaw",
    [
        {"timestamp": 1.0},
        {"timestamp": True},
        {"timestamp": -1},
        {"log": None},
        {"zz": 1},
        {"metadata": {"process_id": "7"}},
        {"metadata": {"system": 1}},
        {"metadata": {"id": "x"}},
        {"metadata": "text"},
    ],
    ids=repr,
)
def test_a_page_with_any_flaw_takes_the_record_path(flaw: dict[str, Any]) -> None:
    """A line of the wrong JSON type, an unusable timestamp, an undeclared field or a
    metadata field that would shadow the record's own sends the whole page the record way."""
    body = compact([line(1), {**line(2), **flaw}, line(3)])
    assert decode_line_page(body) == json.loads(body)
    assert not isinstance(decode_line_page(body), LinePage)


def test_a_refused_line_is_rejected_as_the_record_path_shapes_it() -> None:
    """A line refused by value on the struct path lands in the rejects as the record the
    record path makes of it (metadata at the top level, content id, date), with the reason."""
    page = decode_line_page(compact([line(1), line(2, level="loud"), line(3)]))
    assert isinstance(page, LinePage)
    _, fresh = CurrentLogPaginator("p", LogCursor(T0, T0 + timedelta(hours=1))).advance(page)
    result = normalize_columns("logs", [fresh], project="p", extracted_at=NOW)
    assert result.rows.height == 2
    assert result.rejects["reason"].to_list() == ["level: unknown value 'loud'"]
    assert json.loads(result.rejects["raw"][0]) == fresh[1]
    assert fresh[1]["level"] == "loud"
    assert fresh[1]["date"] == format_ns(NS0 + 2)
