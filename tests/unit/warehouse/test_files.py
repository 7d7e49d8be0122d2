"""The Parquet files of a Delta append and the statistics their add actions record."""

import datetime as dt
import io
import json

import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transform.schemas import LOGS
from warehouse.files import (
    data_files,
    encode,
    file_columns,
    partition_value,
    partitions,
    statistics,
)
from warehouse.merge import partitions_of
from warehouse.tables import PLAIN_COLUMNS

UTC = dt.UTC
instants = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(UTC)
)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def stats_of(frame: pl.DataFrame) -> dict[str, dict[str, object]]:
    _, footer = encode(file_columns(frame), plain=())
    parsed: dict[str, dict[str, object]] = json.loads(statistics(footer))
    return parsed


def instant(text: object) -> dt.datetime:
    assert isinstance(text, str)
    assert text.endswith("Z")
    return dt.datetime.fromisoformat(text)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.none() | instants, st.none() | texts, st.none() | st.integers(-(2**62), 2**62)
        ),
        min_size=1,
        max_size=40,
    )
)
def test_the_recorded_range_holds_every_value_and_the_null_counts_are_exact(rows):
    """Whatever the values, each column's least and greatest recorded values bound the
    file's values (instants to the millisecond, rounded outward), and null counts are exact:
    a reader that skips a file by them never skips a matching row."""
    frame = pl.DataFrame(
        rows,
        schema={"at": pl.Datetime("us", "UTC"), "text": pl.String, "n": pl.Int64},
        orient="row",
    )
    stats = stats_of(frame)
    assert stats["numRecords"] == frame.height
    for name in frame.columns:
        values = frame.get_column(name).drop_nulls().to_list()
        assert stats["nullCount"][name] == frame.height - len(values)
        if not values:
            assert name not in stats["minValues"]
            assert name not in stats["maxValues"]
            continue
        low, high = stats["minValues"][name], stats["maxValues"][name]
        if name == "at":
            low, high = instant(low), instant(high)
            assert low.microsecond % 1000 == 0
            assert high.microsecond % 1000 == 0
            assert min(values) - low < dt.timedelta(milliseconds=1)
            assert high - max(values) < dt.timedelta(milliseconds=1)
        assert low <= min(values)
        assert max(values) <= high


def test_instants_are_recorded_as_delta_writes_them():
    """Milliseconds and a Z, as delta-rs records them; exact values are kept as they are."""
    at = pl.Series("at", [dt.datetime(2026, 3, 1, 10, 0, 0, 123456, UTC)])
    stats = stats_of(pl.DataFrame([at]))
    assert stats["minValues"]["at"] == "2026-03-01T10:00:00.123Z"
    assert stats["maxValues"]["at"] == "2026-03-01T10:00:00.124Z"
    exact = stats_of(pl.DataFrame([at.dt.truncate("1s")]))
    assert exact["minValues"]["at"] == exact["maxValues"]["at"] == "2026-03-01T10:00:00.000Z"


def test_a_value_too_long_for_the_footer_leaves_the_range_unrecorded():
    """The Parquet writer keeps no statistics for a value longer than it stores; the add
    action then records no range (readers must open the file), and still the null count."""
    frame = pl.DataFrame({"message": ["x" * 10_000, "short", None]})
    stats = stats_of(frame)
    assert stats["nullCount"] == {"message": 1}
    assert stats["minValues"] == {}
    assert stats["maxValues"] == {}


def test_floats_that_json_cannot_hold_are_left_out():
    stats = stats_of(pl.DataFrame({"x": [float("inf"), 1.5, float("-inf")]}))
    assert "x" not in stats["minValues"]
    assert "x" not in stats["maxValues"]
    assert stats["nullCount"] == {"x": 0}


def test_one_file_per_partition_without_the_partition_columns(frame):
    """Each partition's rows in one file under `project=<p>/day=<d>/`, the partition columns
    kept in the add action instead, and the distinct columns without dictionaries."""
    logs = frame(
        "logs",
        [
            {"id": "a" * 24, "date": dt.datetime(2026, 3, 1, 9, tzinfo=UTC)},
            {"id": "b" * 24, "date": dt.datetime(2026, 3, 2, 9, tzinfo=UTC)},
            {"id": "c" * 24, "date": dt.datetime(2026, 3, 1, 10, tzinfo=UTC)},
        ],
    )
    files = list(data_files(logs, list(LOGS.partition_keys), PLAIN_COLUMNS))
    assert [f.partition for f in files] == [
        {"project": "alpha", "day": "2026-03-01"},
        {"project": "alpha", "day": "2026-03-02"},
    ]
    assert [f.path.rsplit("/", 1)[0] for f in files] == [
        "project=alpha/day=2026-03-01",
        "project=alpha/day=2026-03-02",
    ]
    first = pq.ParquetFile(io.BytesIO(files[0].body))
    # polars' string views go in, plain Parquet strings come out, with no Arrow schema that
    # would show a reader on an older Arrow release a type it does not know
    assert b"ARROW:schema" not in (first.metadata.metadata or {})
    assert first.schema_arrow.field("id").type == "string"
    assert "project" not in first.schema_arrow.names
    assert "day" not in first.schema_arrow.names
    assert first.read().column("id").to_pylist() == ["a" * 24, "c" * 24]
    group = first.metadata.row_group(0)
    dictionary = {
        group.column(i).path_in_schema: group.column(i).has_dictionary_page
        for i in range(group.num_columns)
    }
    assert not dictionary["id"]
    assert not dictionary["log"]
    assert dictionary["level"]
    stats = json.loads(files[0].stats)
    assert stats["maxValues"]["id"] == "c" * 24
    # free text gets no statistics: they would copy whole log lines into the Delta log
    assert "log" not in stats["maxValues"]
    assert "log" not in stats["nullCount"]
    assert (
        not first.metadata.row_group(0).column(first.schema_arrow.names.index("log")).is_stats_set
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("project", "Alpha"), ("project", "a/b"), ("day", "2026-03-01"), ("day", None)],
)
def test_a_partition_value_that_is_not_a_project_or_a_date_is_refused(name, value):
    with pytest.raises(ValueError):
        partition_value(name, value)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["alpha", "beta"]), st.dates(dt.date(2026, 3, 1), dt.date(2026, 3, 3))
        ),
        min_size=1,
        max_size=30,
    )
)
def test_partitions_hold_each_partitions_rows_once_in_batch_order(rows):
    """Whether the batch holds its partitions in runs (taken as slices) or mixed, each
    partition comes once, first seen first, with its rows in batch order; the batch's
    partitions are read off the same runs."""
    frame = pl.DataFrame(rows, schema={"project": pl.String, "day": pl.Date}, orient="row")
    frame = frame.with_row_index("n")
    got = [
        (values, part.get_column("n").to_list())
        for values, part in partitions(frame, ["project", "day"])
    ]
    seen = list(dict.fromkeys(rows))
    assert partitions_of(frame, ["project", "day"]) == seen
    assert [values for values, _ in got] == seen
    for values, ns in got:
        assert ns == [i for i, row in enumerate(rows) if row == values]
    assert all(part.columns == ["n"] for _, part in partitions(frame, ["project", "day"]))
