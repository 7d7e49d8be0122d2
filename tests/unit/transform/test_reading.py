"""How raw records are read: input shapes, purity, and the slow path for odd batches."""

from __future__ import annotations

import copy
import json
from collections import OrderedDict
from types import MappingProxyType

import polars as pl
from polars.testing import assert_frame_equal

from transform import REJECTS_SCHEMA


def test_input_records_are_not_modified(run, log):
    """normalize is pure: the records passed in are unchanged afterwards."""
    page = [log(0, extra={"a": 1}), log(1, log=5), {"no": "id"}]
    before = copy.deepcopy(page)
    run("logs", page)
    assert page == before


def test_mappings_that_are_not_dicts_are_read(run, log, log_row, rows):
    """Any Mapping works as a record, not only dict (it goes through the checked path)."""
    page = [MappingProxyType(log(0)), OrderedDict(log(1))]
    assert_frame_equal(run("logs", page).rows, rows("logs", [log_row(0), log_row(1)]))


def test_one_bad_record_does_not_change_the_others(run, log, log_row, rows):
    """A batch pushed onto the slow path by one bad record types the rest identically."""
    good = [log(n, deployment_name=f"d{n}", extra_field=n) for n in range(4)]
    clean = run("logs", good).rows
    mixed = run("logs", [*good[:2], log(9, system="yes"), *good[2:]])
    assert_frame_equal(mixed.rows, clean)
    assert mixed.rejects["reason"].to_list() == ["system: expected boolean, got string"]


def test_records_without_any_declared_field_are_each_rejected(run, rejects):
    """Records holding only unknown fields are one reject each, never one collapsed row."""
    page = [{"foo": 1}, {}, {"bar": "x"}]
    result = run("logs", page)
    assert result.rows.height == 0
    assert_frame_equal(result.rejects, rejects("logs", [(r, "id: missing") for r in page]))


def test_snapshot_without_required_fields_keeps_one_row_per_record(run):
    """A resource-counts object with no known field is still a row (no column is required)."""
    result = run("resource_counts", [{}, {"future_counter": 3}])
    assert result.rows.height == 2
    assert [None if x is None else json.loads(x) for x in result.rows["_extra"]] == [
        None,
        {"future_counter": 3},
    ]


def test_rejects_have_the_rejects_schema_when_empty_and_full(run, log):
    """The rejects frame has REJECTS_SCHEMA whether or not anything was rejected."""
    assert run("logs", [log(0)]).rejects.schema == REJECTS_SCHEMA
    assert run("logs", [{"x": 1}]).rejects.schema == REJECTS_SCHEMA
    assert run("logs", [log(0)]).rejects.height == 0
    assert isinstance(run("logs", []).rows, pl.DataFrame)


def test_a_one_shot_iterable_is_read_in_full(run, log, log_row, rows):
    """Records given as an iterator (read once) are all typed, none lost to an early pass."""
    records = iter([log(0), log(1)])
    assert_frame_equal(run("logs", records).rows, rows("logs", [log_row(0), log_row(1)]))
