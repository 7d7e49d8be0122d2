"""The API's datetimes: parse every documented form, send one canonical form, stay in UTC."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

# 7-9 fractional digits (nanoseconds in log dates) are cut to microseconds, which Python
# can hold; the same cut is applied everywhere, so ordering and window membership agree.
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_api_datetime(value: str) -> datetime:
    """A UTC datetime from `...Z`, `...+00:00`, 0-9 fractional digits; naive means UTC."""
    parsed = datetime.fromisoformat(_LONG_FRACTION.sub(r"\1", value.strip()))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_api_datetime(value: datetime) -> str:
    """ISO 8601 with microseconds and `+00:00`, the form the API documents for filters."""
    return as_utc(value).isoformat(timespec="microseconds")


def as_utc(value: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def ceil_seconds(start: datetime, end: datetime) -> int:
    """Whole seconds from start that reach at least `end`, never less than 1."""
    return max(1, math.ceil((end - start).total_seconds()))
