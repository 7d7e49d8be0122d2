"""Requests and audit-event pages decoded into structs give exactly what the record path gives.

The record path (`json.loads`, a dict per record) is the reference: for any body, clean or
not, the decoded page, each paginator's next state and new records, the requests stream's
oldest unfinished request, and the typed rows and rejects must be the same whichever path
the page takes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from extract import AuditCursor, AuditPaginator, RequestCursor, RequestPaginator
from extract.paging import Paginator
from extract.record_columns import (
    AuditItem,
    RecordColumns,
    RequestItem,
    decode_audit_page,
    decode_request_page,
)
from extract.request_list_current import CurrentRequestPaginator
from flows.core.streams.requests import _oldest_unfinished
from transform import normalize, normalize_columns

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
NOW = datetime(2026, 3, 5, tzinfo=UTC)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

texts = st.text(st.characters(codec="utf-8"), max_size=10) | st.sampled_from(
    ["42", "true", 'say "hi"', "ends\\", "null", "é", "\u2028", "\ud800"]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | texts | st.floats(),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(texts, inner, max_size=2),
    max_leaves=4,
)
ids = st.sampled_from(["a", "b", "c", ""]) | st.uuids().map(str)


@st.composite
def dates(draw: st.DrawFn) -> str:
    """A date near the window's edges, in the API's forms and some it never sends."""
    moment = T0 + timedelta(milliseconds=draw(st.integers(-3_600_000, 90_000_000)))
    moment = draw(st.sampled_from([moment, T0, T0 + DAY, T0 + timedelta(seconds=5)]))
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{moment.microsecond // 1000:03d}"
    text += draw(st.sampled_from(["+00:00", "+00:00", "Z", "", "+01:00"]))
    return draw(st.sampled_from([text, text, text, "2026-02-31T00:00:00Z", "garbage"]))


def maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | values


REQUEST_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "id": ids,
    "deployment": maybe(st.sampled_from(["dep-a", "7"])),
    "pipeline": maybe(st.sampled_from(["pipe"])),
    "version": maybe(st.sampled_from(["v1", "1"])),
    "status": maybe(st.sampled_from(["pending", "completed", "failed", "cancelled", "odd"])),
    "success": maybe(st.booleans()),
    "time_created": dates(),
    "time_started": maybe(dates()),
    "time_completed": maybe(dates()),
}
AUDIT_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "id": ids,
    "date": dates(),
    "action": maybe(st.sampled_from(["create", "update", "delete", "info", "odd"])),
    "user": maybe(st.sampled_from(["a@b.c", ""])),
    "event": maybe(texts),
    "object_type": maybe(st.sampled_from(["deployment", "project"])),
    "object_name": maybe(st.sampled_from(["dep-a", ""])),
}
TABLES = {"requests": REQUEST_VALUES, "audit_events": AUDIT_VALUES}
DECODERS = {"requests": decode_request_page, "audit_events": decode_audit_page}


@st.composite
def items(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[Any]]) -> Any:
    """One page item as (key, value) pairs (so keys may repeat), now and then with a flaw."""
    if draw(st.integers(0, 40)) == 0:
        return draw(json_values)  # maybe not an object at all
    pairs = [(name, draw(values)) for name, values in fields.items()]
    for _ in range(draw(st.sampled_from([0, 0, 0, 1]))):
        flaw = draw(st.sampled_from(["type", "unknown", "dup", "absent"]))
        name = draw(st.sampled_from(list(fields)))
        if flaw == "type":
            pairs.append((name, draw(json_values)))
        elif flaw == "unknown":
            pairs.append(("zz", draw(json_values)))
        elif flaw == "dup":
            pairs.append((name, draw(fields[name])))
        else:
            pairs = [pair for pair in pairs if pair[0] != name]
    return draw(st.permutations(pairs))


@st.composite
def bodies(draw: st.DrawFn, table: str) -> bytes:
    """A page body as a server could send it: compact or spaced, ASCII-escaped or not."""
    spaced = draw(st.booleans())
    ascii_only = draw(st.integers(0, 4)) == 0
    colon, comma = (": ", ", ") if spaced else (":", ",")

    def encode(value: Any) -> str:
        text = json.dumps(value, ensure_ascii=ascii_only, separators=(comma, colon))
        try:
            text.encode()
        except UnicodeEncodeError:  # a lone surrogate can only be sent escaped
            text = json.dumps(value, separators=(comma, colon))
        return text

    parts = []
    for item in draw(st.lists(items(TABLES[table]), max_size=8)):
        if isinstance(item, list) and all(isinstance(p, tuple) for p in item):
            parts.append("{" + comma.join(f"{encode(k)}{colon}{encode(v)}" for k, v in item) + "}")
        else:
            parts.append(encode(item))
    return ("[" + comma.join(parts) + "]").encode()


def outcome(paginator: Paginator[Any], body: Any) -> tuple[Any, list[Any]]:
    state, fresh = paginator.advance(body)
    return state, list(fresh)


def paginators(table: str, boundary: datetime | None, limit: int) -> list[Paginator[Any]]:
    """Each paginator of `table`'s pages, mid-window."""
    if table == "audit_events":
        known = AuditCursor(boundary, ("a",)) if boundary else AuditCursor()
        return [AuditPaginator("p", known, limit=limit, largest_page=limit)]
    window = RequestCursor("deployment", T0, T0 + DAY, boundary, ("a",) if boundary else ())
    current = RequestCursor("deployment", T0, T0 + DAY, boundary, (), status="completed")
    return [
        RequestPaginator("p", window, limit=limit, largest_page=limit),
        CurrentRequestPaginator("p", current, limit=limit, largest_page=limit),
    ]


tables = st.sampled_from(sorted(TABLES))


@SETTINGS
@given(data=st.data(), table=tables)
def test_a_page_decodes_to_what_json_reads(data: st.DataObject, table: str) -> None:
    """Whichever way a body is decoded, its records are exactly what `json.loads` reads, and
    a page of structs holds every declared field of each record with the same value."""
    body = data.draw(bodies(table))
    decoded = DECODERS[table](body)
    records = json.loads(body)
    assert list(decoded) == records
    if isinstance(decoded, RecordColumns):
        schema = (RequestItem if table == "requests" else AuditItem).SCHEMA
        assert decoded.frame.columns == list(schema)
        for row, record in zip(decoded.frame.iter_rows(named=True), records, strict=True):
            assert set(record) == set(schema)
            for name, value in row.items():
                assert type(value) is type(record[name])
                assert value == record[name]


@SETTINGS
@given(
    data=st.data(),
    table=tables,
    limit=st.integers(1, 8),
    boundary=st.sampled_from([None, T0, T0 + timedelta(seconds=5)]),
)
def test_the_paginators_move_alike_on_structs_and_records(
    data: st.DataObject, table: str, limit: int, boundary: datetime | None
) -> None:
    """The next state and the new records are the same for a page of structs as for the
    same page as records, on every paginator of the table."""
    body = data.draw(bodies(table))
    decoded = DECODERS[table](body)
    for paginator in paginators(table, boundary, limit):
        assert outcome(paginator, decoded) == outcome(paginator, json.loads(body))


@SETTINGS
@given(data=st.data(), table=tables)
def test_structs_are_typed_as_records_are(data: st.DataObject, table: str) -> None:
    """Pages of structs become the same lake rows and the same rejects (the raw JSON item,
    the reason) as the same pages' records; the requests stream finds the same oldest
    unfinished request."""
    pages = [DECODERS[table](data.draw(bodies(table))) for _ in range(data.draw(st.integers(1, 3)))]
    columnar = [page for page in pages if isinstance(page, RecordColumns)]
    if not columnar:
        return
    object_type = "deployment" if table == "requests" else None
    options: dict[str, Any] = {"project": "p", "extracted_at": NOW, "object_type": object_type}
    by_columns = normalize_columns(table, columnar, **options)
    by_records = normalize(table, [record for page in columnar for record in page], **options)
    assert_frame_equal(by_columns.rows, by_records.rows)
    assert_frame_equal(by_columns.rejects, by_records.rejects)
    if table == "requests":
        for page in columnar:
            assert _oldest_unfinished(page, None) == _oldest_unfinished(list(page), None)


def request(n: int, **fields: Any) -> dict[str, Any]:
    """A request as API.md's example shows it: every field, null where it has no value."""
    created = (T0 + timedelta(seconds=n)).isoformat(timespec="milliseconds")
    record = {
        "id": f"req-{n}",
        "deployment": "dep-a",
        "pipeline": None,
        "version": "v1",
        "status": "pending",
        "success": None,
        "time_created": created,
        "time_started": None,
        "time_completed": None,
    }
    return {**record, **fields}


def compact(records: list[Any]) -> bytes:
    return json.dumps(records, separators=(",", ":"), ensure_ascii=False).encode()


def test_a_page_as_the_api_documents_it_takes_the_struct_path() -> None:
    """Requests with nulls, quotes and digits-only text, and audit events, become structs;
    their paginators read ids and dates off the structs."""
    page = [request(1), request(2, version='say "hi"', deployment="7"), request(3)]
    decoded = decode_request_page(compact(page))
    assert isinstance(decoded, RecordColumns)
    assert [key for key, _ in decoded.ids_and_dates()] == ["req-1", "req-2", "req-3"]
    event = {"id": "e", "date": "2026-03-01T00:00:01.500+00:00", "action": "create"}
    event |= {"user": "a@b.c", "event": "Created", "object_type": "project", "object_name": "p"}
    audit = decode_audit_page(compact([event]))
    assert isinstance(audit, RecordColumns)
    assert audit.ids_and_dates() == [("e", T0 + timedelta(seconds=1, milliseconds=500))]
    assert decode_request_page(b"[]") == []
    none_new = decoded.rows([])  # what a page of known requests leaves
    assert none_new.frame.columns == list(RequestItem.SCHEMA)
    assert _oldest_unfinished(none_new, None) is None
    assert _oldest_unfinished(decoded, None) == T0 + timedelta(seconds=1)


@pytest.mark.parametrize(
    "flaw",
    [{"success": "true"}, {"version": 1}, {"zz": None}, {"time_created": None}, {"id": None}],
    ids=repr,
)
def test_a_page_with_any_flaw_takes_the_record_path(flaw: dict[str, Any]) -> None:
    """A record with a value of the wrong JSON type or an undeclared field, or a page item
    that is not an object, sends the whole page the record way."""
    body = compact([request(1), request(2, **flaw), request(3)])
    assert decode_request_page(body) == json.loads(body)
    assert not isinstance(decode_request_page(body), RecordColumns)
    missing = request(2)
    missing.pop("time_started")
    for odd in (compact([request(1), missing]), compact([request(1), 7]), b'[{"id":"\\ud800"}]'):
        assert not isinstance(decode_request_page(odd), RecordColumns)


@pytest.mark.parametrize(
    "repeated",
    [b'"status":"x","status":"failed"', b'"status" :"x","status":"failed"'],
    ids=["compact", "space before the colon"],
)
def test_a_repeated_key_is_read_as_json_reads_it(repeated: bytes) -> None:
    """Two equal keys in one object: the columns hold the last, as `json` does (polars,
    reading the body itself, would keep the first)."""
    body = compact([request(1), request(2)]).replace(b'"status":"pending"', repeated, 1)
    decoded = decode_request_page(body)
    assert isinstance(decoded, RecordColumns)
    expected = [record["status"] for record in json.loads(body)]
    assert decoded.frame["status"].to_list() == ["failed", "pending"] == expected


def test_a_refused_record_is_rejected_as_the_item_the_server_sent() -> None:
    """A request refused by value on the struct path lands in the rejects as its raw JSON
    item, with the reason, while its page's other requests become rows."""
    bad = request(2, status="dreaming")
    page = decode_request_page(compact([request(1), bad, request(3)]))
    assert isinstance(page, RecordColumns)
    result = normalize_columns(
        "requests", [page], project="p", extracted_at=NOW, object_type="deployment"
    )
    assert result.rows["id"].to_list() == ["req-1", "req-3"]
    assert result.rejects["reason"].to_list() == ["status: unknown value 'dreaming'"]
    assert json.loads(result.rejects["raw"][0]) == bad


def test_the_oldest_unfinished_request_reads_a_date_without_offset_as_utc() -> None:
    """As the paginator does (naive means UTC): a naive and an aware date in one page are
    compared, not refused."""
    page = [request(2, time_created="2026-03-01T00:00:02"), request(1), request(3)]
    decoded = decode_request_page(compact(page))
    assert isinstance(decoded, RecordColumns)
    assert _oldest_unfinished(decoded, None) == T0 + timedelta(seconds=1)
    assert _oldest_unfinished(page, T0 + timedelta(seconds=2)) == T0 + timedelta(seconds=1)
