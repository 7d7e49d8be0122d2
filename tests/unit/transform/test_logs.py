"""Normalisation rules and reject reasons of the logs table, on tiny literal pages."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from transform import SCHEMAS


def test_valid_logs_are_typed_in_schema_order(run, log, log_row, rows, rejects):
    """Valid records become one typed row each, in input order, with no rejects."""
    page = [log(0), log(1, system=True, level="error", deployment_name="d-1"), log(2)]
    result = run("logs", page)
    expected = [log_row(0), log_row(1, system=True, level="error", deployment_name="d-1")]
    assert_frame_equal(result.rows, rows("logs", [*expected, log_row(2)]))
    assert_frame_equal(result.rejects, rejects("logs", []))


def test_rows_have_exactly_the_declared_schema(run, log):
    """Column names, order and dtypes equal the declared schema, even for an empty page."""
    assert run("logs", [log(0)]).rows.schema == SCHEMAS["logs"].polars_schema
    assert run("logs", []).rows.schema == SCHEMAS["logs"].polars_schema


@pytest.mark.parametrize(
    ("raw_date", "expected"),
    [
        ("2020-01-01T10:00:00.123456Z", datetime(2020, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2020-01-01T10:00:00.123456789Z", datetime(2020, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2020-01-01T10:00:00.123456+00:00", datetime(2020, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2020-01-01T10:00:00.5+02:00", datetime(2020, 1, 1, 8, 0, 0, 500000, tzinfo=UTC)),
        ("2020-01-01T10:00:00.123", datetime(2020, 1, 1, 10, 0, 0, 123000, tzinfo=UTC)),
    ],
)
def test_date_forms_become_utc(run, log, log_row, rows, raw_date, expected):
    """Each timestamp form the API uses lands as the same UTC instant."""
    result = run("logs", [log(0, date=raw_date)])
    assert_frame_equal(result.rows, rows("logs", [log_row(0, date=expected)]))


def test_day_is_the_utc_day_of_date(run, log, log_row, rows):
    """A log stamped before midnight in a positive offset belongs to the previous UTC day."""
    result = run("logs", [log(0, date="2020-01-02T01:00:00+02:00")])
    when = datetime(2020, 1, 1, 23, 0, tzinfo=UTC)
    assert_frame_equal(result.rows, rows("logs", [log_row(0, date=when, day=date(2020, 1, 1))]))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "id: missing"),
        ({"id": ""}, "id: empty"),
        ({"date": None}, "date: missing"),
        ({"date": "yesterday"}, "date: unparseable timestamp 'yesterday'"),
        ({"date": "2020-02-30T00:00:00Z"}, "date: unparseable timestamp '2020-02-30T00:00:00Z'"),
        ({"log": None}, "log: missing"),
        ({"level": "warning"}, "level: unknown value 'warning'"),
        ({"log": 42}, "log: expected string, got number"),
        ({"log": True}, "log: expected string, got boolean"),
        ({"log": {"text": "x"}}, "log: expected string, got object"),
        ({"log": ["x"]}, "log: expected string, got array"),
        ({"system": "true"}, "system: expected boolean, got string"),
        ({"system": 1}, "system: expected boolean, got number"),
        ({"id": 7}, "id: expected string, got number"),
        ({"date": 1577836800}, "date: expected string, got number"),
    ],
)
def test_untypeable_record_is_rejected_with_reason(
    run, log, log_row, rows, rejects, change, reason
):
    """A record that cannot be typed goes to rejects, raw and with its reason; others stay."""
    bad = {k: v for k, v in log(1, **change).items() if v is not None}
    result = run("logs", [log(0), bad, log(2)])
    assert_frame_equal(result.rows, rows("logs", [log_row(0), log_row(2)]))
    assert_frame_equal(result.rejects, rejects("logs", [(bad, reason)]))


@pytest.mark.parametrize(
    ("raw", "json_type"),
    [(None, "null"), ("a string", "string"), (5, "number"), (["a", "list"], "array")],
)
def test_non_object_record_is_rejected(run, log, log_row, rows, rejects, raw, json_type):
    """A page item that is not a JSON object is a reject, not a crash."""
    result = run("logs", [log(0), raw])
    assert_frame_equal(result.rows, rows("logs", [log_row(0)]))
    reason = f"not a JSON object (got {json_type})"
    assert_frame_equal(result.rejects, rejects("logs", [(raw, reason)]))


def test_first_problem_in_column_order_is_the_reason(run, rejects):
    """A record with several problems is rejected once, for the first column's problem."""
    bad = {"date": "nope", "log": "x", "level": "loud"}
    assert_frame_equal(run("logs", [bad]).rejects, rejects("logs", [(bad, "id: missing")]))


def test_numeric_looking_text_is_not_mistaken_for_a_number(run, log, log_row, rows):
    """Text that reads like a number or boolean (`"42"`, `"true"`) is valid text."""
    page = [log(0, log="42"), log(1, log="true", deployment_name="1.5")]
    expected = [log_row(0, log="42"), log_row(1, log="true", deployment_name="1.5")]
    assert_frame_equal(run("logs", page).rows, rows("logs", expected))


def test_unknown_fields_are_kept_in_extra(run, log, log_row, rows):
    """Fields the schema does not declare are kept as a JSON object, null when none."""
    page = [log(0, trace_id="hook", attempt=2), log(1), log(2, meta={"a": [1, None]})]
    result = run("logs", page)
    expected = [
        log_row(0, _extra='{"attempt":2,"trace_id":"hook"}'),
        log_row(1),
        log_row(2, _extra='{"meta":{"a":[1,null]}}'),
    ]
    assert_frame_equal(result.rows, rows("logs", expected))


def test_extra_of_a_mixed_type_field_keeps_each_value_as_sent(run, log):
    """An undeclared field holding a number in one record and text in another is not coerced."""
    result = run("logs", [log(0, extra_field=5), log(1, extra_field="5")])
    decoded = [json.loads(x) for x in result.rows["_extra"]]
    assert decoded == [{"extra_field": 5}, {"extra_field": "5"}]


def test_extracted_at_and_project_are_stamped(run, log):
    """Every row carries the project and the extraction time passed in (naive = UTC)."""
    naive = datetime(2024, 6, 1, 8, 30)
    result = run("logs", [log(0), log(1)], project="other", extracted_at=naive)
    assert result.rows["project"].to_list() == ["other", "other"]
    assert result.rows["_extracted_at"].to_list() == [naive.replace(tzinfo=UTC)] * 2


def test_log_text_survives_byte_exact(run, log):
    """A 200 KB line with emoji, RTL text, control characters and NUL is stored unchanged."""
    text = ("x" * 200_000) + "😀 שלום עולם \u202e\u0000\u0001\x7f\r\n\t" + "end"
    result = run("logs", [log(0, log=text)])
    assert result.rows["log"].to_list() == [text]
    assert result.rows["log"].str.len_bytes().to_list() == [len(text.encode())]


def test_rejected_raw_json_decodes_to_the_record_as_received(run, log):
    """The raw JSON of a reject decodes to exactly the record received, odd text included."""
    bad = log(0, log="NUL\u0000 emoji😀 rtl\u202e", level="loud", unknown=[1, {"b": None}])
    raw = run("logs", [bad]).rejects["raw"].to_list()
    assert [json.loads(r) for r in raw] == [bad]


def test_unknown_table_is_an_error(run, log):
    """Passing an unknown table is an error, not an empty result."""
    with pytest.raises(ValueError, match="unknown table"):
        run("log_lines", [log(0)])


def test_the_enum_is_typed(run, log):
    """`level` is an Enum of the declared levels, not free text."""
    dtype = run("logs", [log(0)]).rows.schema["level"]
    assert dtype == pl.Enum(["info", "error"])


@pytest.mark.parametrize("wrong", [5, 1.5, True, False])
def test_large_batches_also_catch_non_text_in_text_fields(run, log, wrong):
    """One number or boolean among thousands of text values is caught; look-alike text is kept."""
    page = [log(n) for n in range(2_500)]
    page[1_234] = log(1_234, log=wrong)
    page[2_000] = log(2_000, log=str(wrong).lower())
    result = run("logs", page)
    assert result.rows.height == 2_499
    assert [json.loads(raw) for raw in result.rejects["raw"]] == [page[1_234]]
    kept = result.rows.filter(pl.col("id") == page[2_000]["id"])["log"].to_list()
    assert kept == [str(wrong).lower()]


def test_extra_keeps_fields_with_odd_names(run, log):
    """Undeclared fields named "", with quotes or non-ASCII text are kept under their names."""
    odd = {"": 1, 'say "hi"': "x", "naïve😀": [True], "a\u0000b": None}
    result = run("logs", [log(0, **odd)])
    decoded = json.loads(result.rows["_extra"].item())
    assert decoded == {"": 1, 'say "hi"': "x", "naïve😀": [True]}


def test_explicit_null_is_the_same_as_a_missing_field(run, log, rejects):
    """A required field sent as JSON null is refused like one that was not sent at all."""
    page = [log(0, id=None), log(1, date=None), log(2, log=None)]
    reasons = ["id: missing", "date: missing", "log: missing"]
    expected = rejects("logs", list(zip(page, reasons, strict=True)))
    assert_frame_equal(run("logs", page).rejects, expected)


def test_extraction_time_in_another_zone_is_stored_as_utc(run, log):
    """An aware extraction time in any zone is stored as the same instant in UTC."""
    amsterdam = datetime(2024, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    stored = run("logs", [log(0)], extracted_at=amsterdam).rows["_extracted_at"].item()
    assert stored == datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
