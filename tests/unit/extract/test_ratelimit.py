"""Client-side pacing per endpoint group, on an injected clock."""

from __future__ import annotations

import bisect

import httpx

from extract.ratelimit import RateLimiter, RateLimits, endpoint_group, shared_rate_limits


async def test_burst_then_even_spacing(clock):
    """After the burst, calls are spaced 60/rate seconds apart."""
    limiter = RateLimiter(rate_per_minute=120, burst=3, clock=clock)
    for _ in range(9):
        await limiter.acquire()
    assert clock.sleeps == [0.5] * 6


def test_never_more_than_rate_plus_burst_in_a_minute(clock):
    """A thousand callers at once get slots with at most rate + burst in any 60 s."""
    limiter = RateLimiter(rate_per_minute=290, burst=5, clock=clock)
    slots = sorted(clock.now + limiter.reserve() for _ in range(1000))
    worst = max(bisect.bisect_left(slots, start + 60) - i for i, start in enumerate(slots))
    assert worst <= 295
    assert slots[-1] - slots[0] >= (1000 - 5) * 60 / 290 - 1e-6


async def test_hold_delays_the_next_slot(clock):
    """hold(s) makes the next caller wait about s seconds."""
    limiter = RateLimiter(rate_per_minute=600, burst=1, clock=clock)
    limiter.hold(12.0)
    waited = await limiter.acquire()
    assert 12.0 <= waited <= 12.2


def test_requests_endpoints_are_their_own_group():
    """Requests list paths count against the requests group, everything else general."""
    assert endpoint_group("/projects/p/requests") == "requests"
    assert endpoint_group("/projects/p/logs") == "general"
    assert endpoint_group("/projects") == "general"


def test_shared_limits_are_one_per_host_and_rates():
    """Two clients of one host in one process get the same limiters."""
    first = shared_rate_limits("https://a.test", 290, 290, 5)
    assert shared_rate_limits("https://a.test", 290, 290, 5) is first
    assert shared_rate_limits("https://b.test", 290, 290, 5) is not first


async def test_client_paces_each_group_separately(make_client, clock):
    """Requests calls do not use up the general group's budget."""
    client = make_client(
        lambda request: httpx.Response(200, json=[]), rate_per_minute=60, rate_burst=1
    )
    await client.get("/projects/p/requests")
    await client.get("/projects/p/audit")
    assert clock.sleeps == []
    await client.get("/projects/p/users")
    assert clock.sleeps == [1.0]
    assert isinstance(client._limits, RateLimits)


def test_one_limiter_paces_callers_on_several_threads(clock):
    """Reservations from several threads (each with its own event loop) never share a slot."""
    import itertools
    import threading

    limiter = RateLimiter(rate_per_minute=600, burst=1, clock=clock)
    slots: list[float] = []
    lock = threading.Lock()

    def reserve_many() -> None:
        for _ in range(200):
            delay = limiter.reserve()
            with lock:
                slots.append(clock.now + delay)

    threads = [threading.Thread(target=reserve_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slots.sort()
    gaps = [later - earlier for earlier, later in itertools.pairwise(slots)]
    assert len(slots) == 800
    assert min(gaps) >= 0.1 - 1e-9
