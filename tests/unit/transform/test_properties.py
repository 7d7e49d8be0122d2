"""Invariants of `normalize` over any mix of valid and broken records (hypothesis)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transform import SCHEMAS, normalize
from transform.timestamps import parse_utc

NOW = datetime(2024, 5, 1, tzinfo=UTC)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

any_text = st.text(st.characters(codec="utf-8"), max_size=40)
json_scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | any_text
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=6,
)
instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def date_texts(draw: st.DrawFn) -> str:
    """A timestamp in one of the forms the API uses."""
    moment = draw(instants)
    offset = timedelta(minutes=draw(st.sampled_from([0, 0, 60, -330, 840])))
    local = (moment + offset).replace(tzinfo=None)
    digits = draw(st.sampled_from([0, 3, 6, 9]))
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + (f"{local.microsecond:06d}" + "000")[:digits]
    if offset:
        sign, minutes = ("+" if offset > timedelta(0) else "-"), abs(offset) // timedelta(minutes=1)
        return text + f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return text + draw(st.sampled_from(["Z", "+00:00", ""]))


@st.composite
def valid_logs(draw: st.DrawFn) -> dict[str, object]:
    """A log record that must be typed."""
    record: dict[str, object] = {
        "id": draw(st.text("0123456789abcdef", min_size=24, max_size=24)),
        "date": draw(date_texts()),
        "log": draw(any_text),
    }
    if draw(st.booleans()):
        record["level"] = draw(st.sampled_from(["info", "error"]))
    if draw(st.booleans()):
        record["system"] = draw(st.booleans())
    if draw(st.booleans()):
        record["deployment_name"] = draw(any_text)
    if draw(st.booleans()):
        record[draw(st.sampled_from(["trace_id", "new_field"]))] = draw(json_values)
    return record


def _breakers() -> st.SearchStrategy[tuple[str, object]]:
    wrong_text = st.integers() | st.booleans() | st.floats(allow_nan=False) | st.just({"a": 1})
    return st.one_of(
        st.tuples(st.just("id"), st.none() | st.just("") | wrong_text),
        st.tuples(st.just("date"), st.none() | st.just("not a date") | wrong_text),
        st.tuples(st.just("log"), st.none() | wrong_text),
        st.tuples(st.just("level"), st.just("debug") | wrong_text),
        st.tuples(st.just("system"), st.just("true") | st.integers() | st.just([True])),
    )


@st.composite
def broken_logs(draw: st.DrawFn) -> object:
    """A log record that cannot be typed, or a page item that is not an object at all."""
    if draw(st.integers(0, 5)) == 0:
        return draw(json_scalars | st.lists(json_scalars, max_size=2))
    record = draw(valid_logs())
    field, value = draw(_breakers())
    if value is None:
        record.pop(field, None)
    else:
        record[field] = value
    return record


@st.composite
def pages(draw: st.DrawFn) -> list[tuple[bool, object]]:
    """A page mixing valid and broken records, each tagged with whether it is valid."""
    tagged = st.tuples(st.just(True), valid_logs()) | st.tuples(st.just(False), broken_logs())
    return draw(st.lists(tagged, max_size=25))


def _run(records: list[object]):  # type: ignore[no-untyped-def]
    return normalize("logs", records, project="p", extracted_at=NOW)  # type: ignore[arg-type]


@SETTINGS
@given(pages())
def test_every_record_lands_in_exactly_one_place(page):
    """rows + rejects == input: valid records are rows (ids in order), broken ones rejects."""
    records = [record for _, record in page]
    result = _run(records)
    valid = [record for ok, record in page if ok]
    assert result.rows.height == len(valid)
    assert result.rejects.height == len(records) - len(valid)
    assert result.rows["id"].to_list() == [r["id"] for r in valid]  # type: ignore[index]
    assert result.rows.schema == SCHEMAS["logs"].polars_schema


@SETTINGS
@given(pages())
def test_rejects_hold_the_records_as_received(page):
    """The raw JSON of the rejects decodes to exactly the broken records, none lost or altered."""
    result = _run([record for _, record in page])
    broken = [json.dumps(r, sort_keys=True) for ok, r in page if not ok]
    raw = [json.dumps(json.loads(r), sort_keys=True) for r in result.rejects["raw"]]
    assert Counter(raw) == Counter(broken)
    assert result.rejects["reason"].null_count() == 0


@SETTINGS
@given(st.lists(valid_logs(), min_size=1, max_size=10))
def test_text_and_extra_survive_exactly(records):
    """Log text is byte-exact and `_extra` decodes to the undeclared, non-null fields."""
    result = _run(records)  # type: ignore[arg-type]
    assert result.rows["log"].to_list() == [r["log"] for r in records]
    declared = set(SCHEMAS["logs"].names)
    expected = [
        {k: v for k, v in r.items() if k not in declared and v is not None} or None for r in records
    ]
    extras = [None if x is None else json.loads(x) for x in result.rows["_extra"]]
    assert extras == expected


@SETTINGS
@given(st.lists(date_texts(), min_size=1, max_size=10))
def test_dates_parse_to_the_instant_written(texts):
    """Every generated timestamp parses to the UTC instant it spells, truncated to the us."""
    import polars as pl

    parsed = parse_utc(pl.Series("d", texts)).to_list()
    for text, value in zip(texts, parsed, strict=True):
        expected = datetime.fromisoformat(_to_python_iso(text))
        if expected.tzinfo is None:
            expected = expected.replace(tzinfo=UTC)
        assert value == expected.astimezone(UTC)


def _to_python_iso(text: str) -> str:
    """Python's ISO parser takes at most 6 fractional digits: cut the nanoseconds."""
    if "." not in text:
        return text
    head, rest = text.split(".", 1)
    digits = len(rest) - len(rest.lstrip("0123456789"))
    return f"{head}.{rest[: min(digits, 6)].ljust(3, '0')}{rest[digits:]}"


ONE_ROW_PER_RECORD = [t for t in SCHEMAS if t != "credit_usage"]


@st.composite
def arbitrary_records(draw: st.DrawFn, table: str) -> object:
    """Anything a faulty server could send for `table`: declared fields with any JSON value."""
    if draw(st.integers(0, 7)) == 0:
        return draw(json_values)
    names = [*SCHEMAS[table].names, "surprise"]
    keys = draw(st.lists(st.sampled_from(names), max_size=len(names), unique=True))
    return {key: draw(json_values | date_texts()) for key in keys}


@SETTINGS
@given(st.sampled_from(ONE_ROW_PER_RECORD), st.data())
def test_any_input_for_any_table_is_rows_or_rejects(table, data):
    """Whatever the records hold, each is exactly one row or one reject, and nothing raises."""
    records = data.draw(st.lists(arbitrary_records(table), max_size=12))
    kwargs = {"object_type": "deployment"} if table == "requests" else {}
    result = normalize(table, records, project="p", extracted_at=NOW, **kwargs)
    assert result.rows.height + result.rejects.height == len(records)
    assert result.rows.schema == SCHEMAS[table].polars_schema
    assert result.rejects["reason"].null_count() == 0


FINISHED = {"completed", "failed", "cancelled"}
STATUSES = ["pending", "processing", "completed", "failed", "cancelled_pending", "cancelled"]


@st.composite
def requests_with_times(draw: st.DrawFn) -> dict[str, object]:
    """A valid request whose start and completion (when present) follow its creation."""
    created = draw(instants)
    started = created + draw(st.timedeltas(timedelta(0), timedelta(hours=5)))
    completed = started + draw(st.timedeltas(timedelta(0), timedelta(hours=5)))
    fmt = "%Y-%m-%dT%H:%M:%S.%f+00:00"
    has_start, has_end = draw(st.booleans()), draw(st.booleans())
    return {
        "id": draw(st.uuids()).hex,
        "deployment": "d",
        "version": "v1",
        "status": draw(st.sampled_from(STATUSES)),
        "time_created": created.strftime(fmt),
        "time_started": started.strftime(fmt) if has_start else None,
        "time_completed": completed.strftime(fmt) if has_start and has_end else None,
    }


@SETTINGS
@given(st.lists(requests_with_times(), max_size=15))
def test_request_derived_columns_follow_their_definitions(records):
    """Queue and run seconds are the time differences, finished follows status, day is UTC."""
    result = normalize("requests", records, project="p", extracted_at=NOW, object_type="pipeline")
    assert result.rejects.height == 0

    def moment(text: object) -> datetime | None:
        return None if text is None else datetime.fromisoformat(str(text))

    for record, row in zip(records, result.rows.iter_rows(named=True), strict=True):
        created, started = moment(record["time_created"]), moment(record["time_started"])
        completed = moment(record["time_completed"])
        queued = None if started is None else (started - created).total_seconds()
        running = None if completed is None else (completed - started).total_seconds()
        # Polars divides a column by a scalar through its reciprocal: within 1 ulp, not exact.
        for got, want in ((row["seconds_queued"], queued), (row["seconds_running"], running)):
            assert got == want or got == pytest.approx(want, rel=1e-15, abs=1e-12)
        assert row["finished"] == (record["status"] in FINISHED)
        assert row["day"] == created.date()
        assert row["object_type"] == "pipeline"
