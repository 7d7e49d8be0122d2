"""Client-side pacing: one token bucket per endpoint group, shared by all work in the process.

UbiOps limits each endpoint group (requests endpoints, everything else) to about 300 calls
a minute. Pacing here means a large backfill spreads its calls instead of collecting 429s.

The bucket is a GCRA ("reserve a slot, then sleep until it"): the slot is computed under a
thread lock and the wait is an `await` on the injected clock, so one limiter works across
threads and event loops (Prefect may run tasks on several) and tests never wait on the wall.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Literal, Protocol

EndpointGroup = Literal["requests", "general"]
GROUPS: tuple[EndpointGroup, ...] = ("requests", "general")


class Clock(Protocol):
    """Monotonic time and a sleep that honours it; tests inject a fake that never waits."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class RateLimiter:
    """At most `burst + rate_per_minute` calls in any minute, spaced evenly after the burst."""

    def __init__(self, rate_per_minute: float, burst: int, clock: Clock) -> None:
        self._interval = 60.0 / rate_per_minute
        self._slack = (burst - 1) * self._interval
        self._clock = clock
        self._lock = threading.Lock()
        self._theoretical_arrival = float("-inf")

    def reserve(self) -> float:
        """Claim the next slot; return how long the caller must wait before using it."""
        with self._lock:
            now = self._clock.monotonic()
            arrival = max(self._theoretical_arrival, now)
            self._theoretical_arrival = arrival + self._interval
            return max(0.0, arrival - now - self._slack)

    def hold(self, seconds: float) -> None:
        """Push every later slot past `seconds` from now (a 429 told the whole group to wait)."""
        with self._lock:
            resume_at = self._clock.monotonic() + seconds + self._slack
            self._theoretical_arrival = max(self._theoretical_arrival, resume_at)

    async def acquire(self) -> float:
        """Wait for a slot; return the seconds waited."""
        delay = self.reserve()
        if delay > 0:
            await self._clock.sleep(delay)
        return delay


class RateLimits:
    """The limiters of both endpoint groups."""

    def __init__(
        self,
        general_per_minute: float,
        requests_per_minute: float,
        burst: int,
        clock: Clock | None = None,
    ) -> None:
        real_clock = clock or SystemClock()
        self.by_group: dict[EndpointGroup, RateLimiter] = {
            "general": RateLimiter(general_per_minute, burst, real_clock),
            "requests": RateLimiter(requests_per_minute, burst, real_clock),
        }

    def __getitem__(self, group: EndpointGroup) -> RateLimiter:
        return self.by_group[group]


_SHARED: dict[tuple[str, float, float, int], RateLimits] = {}
_SHARED_LOCK = threading.Lock()


def shared_rate_limits(
    host: str, general_per_minute: float, requests_per_minute: float, burst: int
) -> RateLimits:
    """The process-wide limiters for one host, so every client in the process paces together."""
    key = (host, general_per_minute, requests_per_minute, burst)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = RateLimits(general_per_minute, requests_per_minute, burst)
        return _SHARED[key]


def endpoint_group(path: str) -> EndpointGroup:
    """UbiOps counts the requests endpoints apart from the rest."""
    return "requests" if path.rstrip("/").endswith("/requests") else "general"
