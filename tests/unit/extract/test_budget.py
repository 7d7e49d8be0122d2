"""One API budget drawn from by several processes (`extract.budget`), on a simulated clock:
the callers' side (`SharedPacing`) talks to the budget's side (`answer`) through an
injected `ask`, as Dask workers talk to the scheduler."""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from extract.budget import SharedPacing, answer
from extract.errors import ExtractError
from extract.pacing import EndpointGroup, Pacer, Pacing, RateSignal

LIMIT = 120  # calls a minute per endpoint group, as the server says


class SimClock:
    """Time that the simulation moves; a sleep only records (the simulation accounts for
    it), so every caller shares one timeline and nothing waits on the wall clock."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def most_in_any_minute(slots: Sequence[float]) -> int:
    ordered = sorted(slots)
    return max(bisect.bisect_left(ordered, start + 60) - i for i, start in enumerate(ordered))


def on(budget: Pacing) -> Any:
    """`ask` that reaches `budget` directly (in a real run: a round trip to the scheduler)."""

    async def ask(group: EndpointGroup, events: list[list[Any]]) -> float:
        return answer(budget, group, events)

    return ask


async def simulate(
    workers: list[SharedPacing], calls: list[int], clock: SimClock, lanes: int = 4
) -> list[list[float]]:
    """Each worker makes its calls on `lanes` concurrent lanes; a call lasts 20 ms, then its
    response (stating LIMIT) is observed. Returns the times of each worker's calls."""
    sent: list[list[float]] = [[] for _ in workers]
    left = list(calls)
    ready = [(clock.now, n, lane) for n in range(len(workers)) for lane in range(lanes)]
    heapq.heapify(ready)
    while ready:
        at, n, lane = heapq.heappop(ready)
        if left[n] == 0:
            continue
        left[n] -= 1
        clock.now = at
        delay = await workers[n]["general"].acquire()
        sent[n].append(at + delay)
        clock.now = at + delay + 0.02
        workers[n]["general"].observe(RateSignal(limit=LIMIT, remaining=1))
        heapq.heappush(ready, (clock.now, n, lane))
    return sent


async def test_four_workers_together_never_exceed_the_limit_in_any_minute():
    """Four processes, each with four calls in flight, drawing from one budget: all their
    calls together never exceed the limit in any 60 s, the burst before the first header
    included, and use at least 95% of it."""
    clock = SimClock()
    budget = Pacing(clock, burst=5)
    workers = [SharedPacing(on(budget), clock) for _ in range(4)]
    sent = await simulate(workers, [300] * 4, clock)
    every = [at for calls in sent for at in calls]
    assert most_in_any_minute(every) <= LIMIT
    span = max(every) - min(every)
    assert len(every) / span * 60 >= 0.95 * (LIMIT - 5)


async def test_an_idle_workers_share_is_used_by_the_busy_one():
    """One worker has almost all the work, three have a little: once they are done, the busy
    one makes the whole limit's calls a minute, not a quarter of them (a static split of the
    budget would leave three quarters idle)."""
    clock = SimClock()
    budget = Pacing(clock, burst=5)
    workers = [SharedPacing(on(budget), clock) for _ in range(4)]
    sent = await simulate(workers, [600, 10, 10, 10], clock)
    busy = sent[0]
    others_done = max(max(calls) for calls in sent[1:])
    later = [at for at in busy if at > others_done + 60]
    assert later, "the busy worker finished too soon to measure"
    rate = len(later) / (max(later) - min(later)) * 60
    assert rate >= 0.95 * (LIMIT - 5)
    assert most_in_any_minute([at for calls in sent for at in calls]) <= LIMIT


async def test_a_429_seen_by_one_worker_holds_every_worker():
    """Worker A is told to hold for 30 s; 10 s later it asks for its next slot and reports
    it: worker B's next call waits the 20 s left too."""
    clock = SimClock()
    budget = Pacing(clock)
    a, b = SharedPacing(on(budget), clock), SharedPacing(on(budget), clock)
    a["general"].throttled(30.0)
    clock.now += 10
    assert await a["general"].acquire() == pytest.approx(20.0)
    assert await b["general"].acquire() == pytest.approx(20.0)
    assert await b["requests"].acquire() == 0  # the other group is not held


async def test_the_limit_one_worker_learns_paces_them_all():
    """Only worker A has seen `x-ratelimit-limit: 60`; after the burst, A's and B's calls
    together come a second apart, and what is stale about a reset is dropped."""
    clock = SimClock()
    budget = Pacing(clock, burst=1)
    a, b = SharedPacing(on(budget), clock), SharedPacing(on(budget), clock)
    a["general"].observe(RateSignal(limit=60, remaining=10, reset_s=5))
    clock.now += 6  # the reset it spoke of has passed: only the limit still counts
    slots = [clock.now + await (a if n % 2 else b)["general"].acquire() for n in range(10)]
    slots.append(clock.now + await b["general"].acquire())
    assert budget["general"].rate_per_minute() == 59
    assert most_in_any_minute(slots) <= 60
    gaps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    assert min(gaps[1:]) == pytest.approx(60 / 59)


async def test_the_users_cap_holds_across_workers():
    """`--rate-per-minute 60` is one cap for every worker together, not 60 each."""
    clock = SimClock()
    budget = Pacing(clock, cap_per_minute=60, burst=1)
    workers = [SharedPacing(on(budget), clock) for _ in range(3)]
    slots = [clock.now + await workers[n % 3]["general"].acquire() for n in range(90)]
    assert most_in_any_minute(slots) <= 61


def test_workers_on_several_threads_never_share_a_slot():
    """Four threads, each with its own event loop (as tasks on a Dask worker), reserve from
    one budget at once: 800 distinct slots, at least one interval apart."""
    clock = SimClock()
    budget = Pacing(clock, cap_per_minute=600, burst=1)
    slots: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        pacing = SharedPacing(on(budget), clock)

        async def calls() -> None:
            for _ in range(200):
                delay = await pacing["general"].acquire()
                with lock:
                    slots.append(clock.now + delay)

        asyncio.run(calls())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slots.sort()
    assert len(slots) == 800
    assert min(later - earlier for earlier, later in itertools.pairwise(slots)) >= 0.1 - 1e-9


async def test_a_budget_that_does_not_answer_stops_the_call():
    """If the budget's host cannot be reached, the call fails with an extract error rather
    than going out unpaced."""
    clock = SimClock()

    async def gone(group: EndpointGroup, events: list[list[Any]]) -> float:
        raise ConnectionError("scheduler at tcp://10.0.0.5:8786 is gone")

    with pytest.raises(ExtractError, match=r"shared API budget did not answer.*gone"):
        await SharedPacing(gone, clock)["general"].acquire()


def test_an_unknown_group_is_refused():
    """The budget's side checks the group it is asked for."""
    with pytest.raises(ValueError, match="group"):
        answer(Pacing(SimClock()), "uploads", [])
    assert isinstance(Pacing(SimClock())["general"], Pacer)
