"""Wire formats of UbiOps datetimes, and a nanosecond-exact ISO 8601 parser for inputs."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from functools import lru_cache

NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_iso_ns(text: str) -> int:
    """Parse ISO 8601 (`Z`, an offset, or naive = UTC; up to 9 fractional digits) to epoch ns.

    datetime.fromisoformat would drop digits 7-9, which would break inclusive log cursors on
    9-digit dates, hence a parser of our own. Raises ValueError on anything else.
    """
    match = _ISO.match(text.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 datetime: {text!r}")
    year, month, day, hour, minute, second, frac, zone = match.groups()
    base = datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        tzinfo=UTC,
    )
    ns = int(base.timestamp()) * NS_PER_S + int((frac or "0").ljust(9, "0"))
    return ns - _offset_seconds(zone) * NS_PER_S


def _offset_seconds(zone: str | None) -> int:
    if zone is None or zone in ("Z", "z"):
        return 0
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"bad UTC offset: {zone!r}")
    return sign * (hours * 3600 + minutes * 60)


@lru_cache(maxsize=8192)
def _second_prefix(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def format_log_date(ts_ns: int, style: int) -> str:
    """A log `date` as the live service writes it: style picks 6 or 9 digits and `Z`/`+00:00`."""
    second, frac_ns = divmod(ts_ns, NS_PER_S)
    frac = f"{frac_ns:09d}" if style & 2 else f"{frac_ns // 1000:06d}"
    return f"{_second_prefix(second)}.{frac}{'Z' if style & 1 else '+00:00'}"


def format_ms(ts_ms: int) -> str:
    """A request/audit datetime, e.g. `2020-03-28T20:00:26.613+00:00`."""
    second, millis = divmod(ts_ms, 1000)
    return f"{_second_prefix(second)}.{millis:03d}+00:00"


def format_day(ts_ns: int) -> str:
    """A usage-period boundary, e.g. `2019-08-01T00:00:00Z`."""
    return f"{_second_prefix(ts_ns // NS_PER_S)}Z"
