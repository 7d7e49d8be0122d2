"""The `_extra` column: undeclared fields as one JSON object per record, exactly as sent."""

from __future__ import annotations

import json

import pytest

from transform.extra import extra_column


@pytest.mark.parametrize(
    "values",
    [
        ["text", None, "null", "None", "", 'quote" back\\ nul\u0000 😀'],
        [1, None, -5, 2**70, 0],
        [1.5, None, -0.25, 1e300],
        [True, None, False],
        [{"a": [1, None]}, None, [], {}],
        [1, "1", None, True, 1.5, [1]],
    ],
    ids=["text", "integers", "floats", "booleans", "nested", "mixed"],
)
def test_each_value_decodes_back_to_what_was_sent(values):
    """Whatever one field holds across a batch, each record's member decodes to its value."""
    records = [{"field": value} for value in values]
    column = extra_column(records, ["field"]).to_list()
    decoded = [None if text is None else json.loads(text) for text in column]
    assert decoded == [None if v is None else {"field": v} for v in values]


def test_members_are_sorted_and_nulls_left_out():
    """Members come in key order; a record whose undeclared fields are all null has null."""
    records = [{"b": 1, "a": "x"}, {"a": None, "b": None}, {}, {"b": 2}]
    column = extra_column(records, ["b", "a"]).to_list()
    assert column == ['{"a":"x","b":1}', None, None, '{"b":2}']


def test_no_undeclared_fields_is_a_null_column():
    """Without undeclared fields the column is all null, one value per record."""
    assert extra_column([{}, {}], []).to_list() == [None, None]
