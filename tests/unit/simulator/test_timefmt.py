"""Datetime parsing and formatting of the simulator's wire formats."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.timefmt import format_log_date, format_ms, parse_iso_ns

BASE_NS = int(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()) * 1_000_000_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02T03:04:05Z", BASE_NS),
        ("2026-01-02T03:04:05", BASE_NS),
        ("2026-01-02T05:04:05+02:00", BASE_NS),
        ("2026-01-02T03:04:05.123456789Z", BASE_NS + 123_456_789),
        ("2026-01-02T03:04:05.5+00:00", BASE_NS + 500_000_000),
        ("2026-01-02T01:04:05.000001-0200", BASE_NS + 1_000),
        ("2026-01-02", BASE_NS - (3 * 3600 + 4 * 60 + 5) * 1_000_000_000),
    ],
)
def test_parse_accepts_iso_variants_exactly(text: str, expected: int) -> None:
    """Z, offsets, naive (UTC), date-only and up to 9 fractional digits parse to exact ns."""
    assert parse_iso_ns(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2026-13-01T00:00:00Z",
        "2026-01-02T03:04:05.1234567890Z",
        "2026-01-02T25:00:00Z",
        "2026-01-02T03:04:05+25:00",
        "1700000000",
    ],
)
def test_parse_rejects_non_iso(text: str) -> None:
    """Anything that is not an ISO 8601 datetime raises ValueError."""
    with pytest.raises(ValueError):
        parse_iso_ns(text)


@given(st.integers(min_value=0, max_value=4_000_000_000 * 1_000_000_000), st.integers(0, 3))
def test_log_dates_round_trip(ts_ns: int, style: int) -> None:
    """Every log date style parses back to the stored instant (to the digits it shows)."""
    text = format_log_date(ts_ns, style)
    precision = 1 if style & 2 else 1_000
    assert parse_iso_ns(text) == ts_ns - ts_ns % precision
    assert text.endswith("Z" if style & 1 else "+00:00")


def test_request_datetimes_have_millis_and_offset() -> None:
    """Request/audit datetimes look like 2020-03-28T20:00:26.613+00:00."""
    assert format_ms(1585425626613) == "2020-03-28T20:00:26.613+00:00"
