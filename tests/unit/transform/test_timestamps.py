"""Every timestamp form the API uses parses to the same UTC instant, whichever path runs."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from polars.testing import assert_series_equal

from transform.timestamps import UTC_TS, parse_utc

FORMS = [
    ("2020-01-01T10:00:00.123456Z", datetime(2020, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)),
    ("2020-01-01T10:00:00.123456789Z", datetime(2020, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)),
    ("2020-01-01T10:00:00.123456+00:00", datetime(2020, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)),
    ("2020-01-01T10:00:00.123456789+00:00", datetime(2020, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)),
    ("2020-03-28T20:00:26.613+00:00", datetime(2020, 3, 28, 20, 0, 26, 613000, tzinfo=UTC)),
    ("2020-03-28T20:00:26.613-05:30", datetime(2020, 3, 29, 1, 30, 26, 613000, tzinfo=UTC)),
    ("2020-03-28T20:00:26+0200", datetime(2020, 3, 28, 18, 0, 26, tzinfo=UTC)),
    ("2019-08-01T00:00:00Z", datetime(2019, 8, 1, tzinfo=UTC)),
    ("2020-03-28 20:00:26.613+00:00", datetime(2020, 3, 28, 20, 0, 26, 613000, tzinfo=UTC)),
]
NAIVE_OR_DATE = [
    ("2020-03-28T20:00:26.613", datetime(2020, 3, 28, 20, 0, 26, 613000, tzinfo=UTC)),
    ("2020-03-28T20:00:26", datetime(2020, 3, 28, 20, 0, 26, tzinfo=UTC)),
    ("2020-03-28 20:00:26.5", datetime(2020, 3, 28, 20, 0, 26, 500000, tzinfo=UTC)),
    ("2018-10-26", datetime(2018, 10, 26, tzinfo=UTC)),
]
INVALID = [
    "",
    "garbage",
    "2020-02-30T00:00:00Z",
    "2020-01-01T25:00:00Z",
    "2020-01-01T00:00:00Zjunk",
]


def _series(values: list[str | None]) -> pl.Series:
    return pl.Series("d", values, dtype=pl.String())


@pytest.mark.parametrize(("text", "expected"), FORMS + NAIVE_OR_DATE)
def test_each_form_alone_parses_to_utc(text, expected):
    """A column of one form parses to the UTC instant it denotes (naive and dates as UTC)."""
    assert_series_equal(parse_utc(_series([text])), pl.Series("d", [expected], dtype=UTC_TS))


def test_mixed_forms_in_one_column_all_parse():
    """A batch mixing every form (which the fast Arrow cast refuses) still parses each value."""
    texts = [t for t, _ in FORMS + NAIVE_OR_DATE] + [None]
    expected = [e for _, e in FORMS + NAIVE_OR_DATE] + [None]
    assert_series_equal(parse_utc(_series(texts)), pl.Series("d", expected, dtype=UTC_TS))


@pytest.mark.parametrize("text", INVALID)
def test_invalid_values_become_null_and_spare_the_rest(text):
    """An unparseable value is null; the valid values of the same column still parse."""
    text_good, good = FORMS[0]
    result = parse_utc(_series([text_good, text, None]))
    assert_series_equal(result, pl.Series("d", [good, None, None], dtype=UTC_TS))


def test_nine_digits_truncate_to_the_microsecond():
    """Nanoseconds beyond the microsecond are dropped, never rounded up into the next one."""
    result = parse_utc(_series(["2020-01-01T00:00:00.999999999Z"]))
    assert result.to_list() == [datetime(2020, 1, 1, 0, 0, 0, 999999, tzinfo=UTC)]
