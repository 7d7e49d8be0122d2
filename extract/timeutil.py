"""The API's datetimes: parse every documented form, send one canonical form, stay in UTC."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def parse_api_datetime(value: str) -> datetime:
    """A UTC datetime from `...Z`, `...+00:00`, 0-9 fractional digits; naive means UTC.

    7-9 fractional digits (nanoseconds in log dates) are cut to microseconds, which Python
    can hold; the same cut is applied everywhere, so ordering and window membership agree.
    This runs once per record, so it avoids regular expressions (a 10x difference).
    """
    text = value.strip()
    if len(text) > 27 and text[19] == "." and text[20:27].isdigit():
        end = 27
        while end < len(text) and text[end].isdigit():
            end += 1
        text = text[:26] + text[end:]
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is UTC:
        return parsed
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
