"""Clocks: the simulator never reads the wall clock directly, so tests can drive time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that can say what time it is now (timezone-aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock, for the standalone server and live demos."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; thread-safe because a served app reads it too."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward by `delta` (never backwards) and return the new now."""
        if delta < timedelta(0):
            raise ValueError("ManualClock cannot go backwards")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, when: datetime) -> None:
        """Jump to `when`, which must not be earlier than the current time."""
        with self._lock:
            target = when.astimezone(UTC)
            if target < self._now:
                raise ValueError("ManualClock cannot go backwards")
            self._now = target


def to_ns(when: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime (exact, no float rounding)."""
    delta = when.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
