"""Pacing that follows what the server says: one budget per endpoint group.

UbiOps limits each endpoint group (requests endpoints, everything else) per minute and says
so on every response (`x-ratelimit-limit`, `x-ratelimit-remaining`; `x-ratelimit-reset` on a
429). A `Pacer` turns those signals into a pace, like botocore's adaptive retry mode:

1. No signal yet (no header, no 429): no pacing; the client's concurrency bounds the calls.
2. `x-ratelimit-limit: L`: at most `L - burst` calls a minute plus a burst, so any 60 s
   holds at most L calls (the calls made before the first header count against it).
3. `x-ratelimit-remaining: R` with `x-ratelimit-reset: S`: the R calls left are spread over
   the S seconds; R = 0 holds the group for S seconds.
4. A 429 holds the whole group for the server's hint; the pace then drops to 70% of the
   rate measured over the last minute and grows back along botocore's cubic curve, never
   above twice the rate measured.
5. `cap_per_minute` (the user's `--rate-per-minute`) is never exceeded.

The client asks a `Budget` for each group's slots. `Pacing` is this process's; when several
processes call one API together (the workers of a distributed run), one `Pacing` is kept in
one place and every process draws from it (`extract.budget`), so the rules above hold for
all their calls together and no process's part of the budget sits idle.

The slot is computed under a thread lock and the wait is an `await` on the injected clock,
so one pacer works across threads and event loops and tests never wait on the wall clock.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

EndpointGroup = Literal["requests", "general"]
GROUPS: tuple[EndpointGroup, ...] = ("requests", "general")
WINDOW_S = 60.0
# botocore's adaptive mode (CUBIC): the rate after a throttle and the growth constant.
BETA = 0.7
CUBIC_C = 0.4


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


@dataclass(frozen=True)
class RateSignal:
    """What one response said about the budget; None where it said nothing usable."""

    limit: int | None = None
    remaining: int | None = None
    reset_s: float | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateSignal:
        """Read the `x-ratelimit-*` headers (case-insensitive mappings such as httpx's)."""
        return cls(
            limit=_count(headers.get("x-ratelimit-limit")),
            remaining=_count(headers.get("x-ratelimit-remaining")),
            reset_s=_seconds(headers.get("x-ratelimit-reset")),
        )


def _count(value: str | None) -> int | None:
    try:
        number = int(float(value)) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number >= 0 else None


def _seconds(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) and number >= 0 else None


@dataclass
class _Cubic:
    """The rate after a throttle at `since`: `BETA * max_rate`, growing back past it."""

    since: float
    max_rate_s: float

    def rate_s(self, now: float) -> float:
        k = math.cbrt(self.max_rate_s * (1 - BETA) / CUBIC_C)
        return max(0.1, CUBIC_C * (now - self.since - k) ** 3 + self.max_rate_s)


class GroupBudget(Protocol):
    """What the client needs of one endpoint group's budget."""

    async def acquire(self) -> float:
        """Wait for the next call's slot; return the seconds waited."""
        ...

    def observe(self, signal: RateSignal) -> None:
        """Learn from a response's rate-limit headers."""
        ...

    def throttled(self, hold_s: float | None) -> None:
        """A 429: hold the group for `hold_s` (None: no hint) and slow down."""
        ...


class Budget(Protocol):
    """The budgets of both endpoint groups."""

    def __getitem__(self, group: EndpointGroup) -> GroupBudget: ...


class Pacer:
    """The budget of one endpoint group: waits before calls, learns from responses."""

    def __init__(self, clock: Clock, *, cap_per_minute: float | None = None, burst: int = 5):
        self._clock = clock
        self._cap = cap_per_minute
        self._burst = burst
        self._lock = threading.Lock()
        self._tat = -math.inf  # theoretical arrival time of the next call (GCRA)
        self._held_until = -math.inf
        self._limit: int | None = None
        self._spread: tuple[float, float] | None = None  # (calls per minute, until)
        self._cubic: _Cubic | None = None
        self._sent: deque[float] = deque()

    def rate_per_minute(self) -> float | None:
        """The pace now (None: not paced at all)."""
        with self._lock:
            return self._rate(self._clock.monotonic())

    def _rate(self, now: float) -> float | None:
        rates = [] if self._cap is None else [self._cap]
        if self._limit is not None:
            rates.append(max(self._limit - self._burst, self._limit / 2, 1.0))
        if self._spread is not None and now < self._spread[1]:
            rates.append(self._spread[0])
        if self._cubic is not None:
            # As botocore: never more than twice the rate measured, so growth follows use.
            grown = min(self._cubic.rate_s(now), 2 * max(self._measured_rate_s(now), 0.1))
            rates.append(grown * WINDOW_S)
        return min(rates) if rates else None

    def reserve(self) -> float:
        """Claim the next slot; return how long the caller must wait before using it."""
        with self._lock:
            now = self._clock.monotonic()
            rate = self._rate(now)
            earliest = max(now, self._held_until)
            while self._sent and self._sent[0] <= now - WINDOW_S:
                self._sent.popleft()
            if rate is None:
                arrival = earliest
            else:
                interval = WINDOW_S / rate
                slack = (self._burst - 1) * interval
                arrival = max(earliest, self._tat - slack)
                self._tat = max(self._tat, earliest) + interval
            self._sent.append(arrival)
            return arrival - now

    async def acquire(self) -> float:
        """Wait for a slot; return the seconds waited."""
        delay = self.reserve()
        if delay > 0:
            await self._clock.sleep(delay)
        return delay

    def observe(self, signal: RateSignal) -> None:
        """Learn from a response's headers (rules 2 and 3)."""
        with self._lock:
            now = self._clock.monotonic()
            if signal.limit is not None and signal.limit > 0:
                first = self._limit is None
                self._limit = signal.limit
                rate = self._rate(now)
                if first and rate is not None and self._sent:
                    # The calls made before the limit was known count against it.
                    interval = WINDOW_S / rate
                    self._tat = max(self._tat, self._sent[0] + len(self._sent) * interval)
            if signal.remaining is None or signal.reset_s is None:
                return
            if signal.remaining == 0:
                self._held_until = max(self._held_until, now + signal.reset_s)
            elif signal.reset_s > 0:
                self._spread = (signal.remaining * WINDOW_S / signal.reset_s, now + signal.reset_s)

    def throttled(self, hold_s: float | None) -> None:
        """A 429: hold the group for `hold_s` and slow down (rule 4)."""
        with self._lock:
            now = self._clock.monotonic()
            if hold_s is not None:
                self._held_until = max(self._held_until, now + hold_s)
            current = self._rate(now)
            measured = self._measured_rate_s(now)
            before = measured if current is None else min(measured, current / WINDOW_S)
            self._cubic = _Cubic(since=now, max_rate_s=max(before, 0.1 / BETA))

    def _measured_rate_s(self, now: float) -> float:
        recent = [t for t in self._sent if t > now - WINDOW_S]
        if not recent:
            return 0.0
        span = max(now - recent[0], 1.0)
        return len(recent) / span


class Pacing:
    """The pacers of both endpoint groups."""

    def __init__(
        self, clock: Clock | None = None, *, cap_per_minute: float | None = None, burst: int = 5
    ) -> None:
        real_clock = clock or SystemClock()
        self.by_group: dict[EndpointGroup, Pacer] = {
            group: Pacer(real_clock, cap_per_minute=cap_per_minute, burst=burst) for group in GROUPS
        }

    def __getitem__(self, group: EndpointGroup) -> Pacer:
        return self.by_group[group]


_SHARED: dict[tuple[str, float | None, int], Pacing] = {}
_SHARED_LOCK = threading.Lock()


def shared_pacing(host: str, cap_per_minute: float | None, burst: int) -> Pacing:
    """The process-wide pacers for one host, so every client in the process paces together
    (and, on a Dask scheduler, every worker of the cluster: `extract.budget`)."""
    key = (host, cap_per_minute, burst)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = Pacing(cap_per_minute=cap_per_minute, burst=burst)
        return _SHARED[key]


def endpoint_group(path: str) -> EndpointGroup:
    """UbiOps counts the requests endpoints apart from the rest."""
    return "requests" if path.rstrip("/").endswith("/requests") else "general"
