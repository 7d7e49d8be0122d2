"""One API budget that several processes draw from: the callers' side and the budget's side.

`Pacing` (extract.pacing) paces the calls of one process. When the tasks of a run are spread
over several processes (the workers of a Dask cluster), one `Pacing` is kept in one place and
every process asks it for its slots through a `SharedPacing`: nothing here knows where the
budget lives or how it is reached; the caller injects `ask`, which carries a group's request
to the budget's side and brings back how long to wait (`answer` runs there).

Each request also carries what the process's responses said since its last request (rate
headers, 429s), with their age, so the one `Pacing` learns the limit, holds and slows down for
every process at once; every pacing rule of `extract.pacing` holds for all of them together.
A caller sleeps the whole wait it is told, so a slot is used at most the reply's transit time
late, never early.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from extract.errors import ExtractError
from extract.pacing import GROUPS, Clock, EndpointGroup, Pacing, RateSignal, SystemClock

# What one response said, as plain values any transport can carry:
# ["observe", age_s, limit, remaining, reset_s] or ["throttled", age_s, hold_s].
Event = list[Any]
Ask = Callable[[EndpointGroup, list[Event]], Awaitable[float]]


class SharedPacer:
    """One endpoint group's slots, granted by a budget held elsewhere."""

    def __init__(self, group: EndpointGroup, ask: Ask, clock: Clock) -> None:
        self._group = group
        self._ask = ask
        self._clock = clock
        self._lock = threading.Lock()
        self._events: list[tuple[str, float, Any, Any, Any]] = []

    async def acquire(self) -> float:
        """Report what was seen since the last slot, get the next slot, wait for it."""
        with self._lock:
            pending, self._events = self._events, []
        now = self._clock.monotonic()
        events = [[kind, now - at, *values] for kind, at, *values in pending]
        try:
            delay = float(await self._ask(self._group, events))
        except Exception as exc:  # the budget's host is gone: no call may go out unpaced
            raise ExtractError(
                f"the shared API budget did not answer ({type(exc).__name__}: {exc})"
            ) from exc
        if delay > 0:
            await self._clock.sleep(delay)
        return max(delay, 0.0)

    def observe(self, signal: RateSignal) -> None:
        if signal == RateSignal():
            return
        with self._lock:
            at = self._clock.monotonic()
            self._events.append(("observe", at, signal.limit, signal.remaining, signal.reset_s))

    def throttled(self, hold_s: float | None) -> None:
        with self._lock:
            self._events.append(("throttled", self._clock.monotonic(), hold_s, None, None))


class SharedPacing:
    """The pacers of both endpoint groups, each drawing from the shared budget."""

    def __init__(self, ask: Ask, clock: Clock | None = None) -> None:
        real_clock = clock or SystemClock()
        self.by_group = {group: SharedPacer(group, ask, real_clock) for group in GROUPS}

    def __getitem__(self, group: EndpointGroup) -> SharedPacer:
        return self.by_group[group]


def answer(pacing: Pacing, group: str, events: Sequence[Sequence[Any]]) -> float:
    """The budget's side of one request: learn what the caller's responses said (times moved
    on by their age), then reserve the caller's slot; returns the seconds to wait."""
    pacer = pacing[_group(group)]
    for kind, age, *values in events:
        if kind == "observe":
            limit, remaining, reset_s = values[:3]
            left = None if reset_s is None else reset_s - age
            if left is not None and left <= 0:  # the window it spoke of is over
                remaining, left = None, None
            pacer.observe(RateSignal(limit=limit, remaining=remaining, reset_s=left))
        elif kind == "throttled":
            hold = values[0]
            pacer.throttled(None if hold is None else max(0.0, hold - age))
    return pacer.reserve()


def _group(name: str) -> EndpointGroup:
    for group in GROUPS:
        if group == name:
            return group
    raise ValueError(f"unknown endpoint group {name!r}")
