"""Parse the times users type: ISO 8601 instants or relative ages such as `7d`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flows.core.errors import EXIT_USAGE, UserError

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class BadTime(UserError, ValueError):
    """A time flag that is neither ISO 8601 nor a relative age; the message says what to type."""

    exit_code = EXIT_USAGE


def parse_age(text: str) -> timedelta:
    """`90s`, `15m`, `12h`, `7d`, `2w` -> a positive duration."""
    match = _AGE.match(text)
    if match is None:
        raise BadTime(f"{text!r} is not a duration; use a number and a unit: 90s, 15m, 12h, 7d, 2w")
    amount, unit = float(match.group(1)), match.group(2).lower()
    return timedelta(**{_UNITS[unit]: amount})


def parse_instant(text: str, *, now: datetime) -> datetime:
    """An ISO 8601 date or instant (naive means UTC), `now`, or an age before `now` (`7d`)."""
    value = text.strip()
    if value.lower() == "now":
        return now
    if _AGE.match(value):
        return now - parse_age(value)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise BadTime(
            f"{text!r} is not a time; use ISO 8601 (2026-11-01, 2026-11-01T12:00:00Z) "
            "or an age before now (30m, 12h, 7d)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
