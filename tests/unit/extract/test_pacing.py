"""Pacing that follows the server's rate-limit headers and 429s, on an injected clock."""

from __future__ import annotations

import bisect
import itertools
import threading

import httpx
import pytest

from extract.pacing import Pacer, Pacing, RateSignal, endpoint_group, shared_pacing


def most_in_any_minute(slots: list[float]) -> int:
    slots = sorted(slots)
    return max(bisect.bisect_left(slots, start + 60) - i for i, start in enumerate(slots))


def reserve_slots(pacer: Pacer, clock, calls: int) -> list[float]:
    """Slots for `calls` callers arriving at once (none of them waits yet)."""
    return [clock.now + pacer.reserve() for _ in range(calls)]


async def test_without_any_signal_calls_are_not_paced(clock):
    """No header and no 429: the pacer never makes anyone wait (concurrency bounds calls)."""
    pacer = Pacer(clock)
    for _ in range(1000):
        assert await pacer.acquire() == 0
    assert pacer.rate_per_minute() is None
    assert clock.sleeps == []


async def test_an_explicit_cap_gives_a_burst_then_even_spacing(clock):
    """With only the user's cap, calls come in a burst, then 60/cap seconds apart."""
    pacer = Pacer(clock, cap_per_minute=120, burst=3)
    for _ in range(9):
        await pacer.acquire()
    assert clock.sleeps == [0.5] * 6


def test_the_limit_header_paces_to_at_least_95_percent_without_exceeding_it(clock):
    """`x-ratelimit-limit: 300`: never more than 300 calls in any 60 s, and at least 285/min."""
    pacer = Pacer(clock, burst=5)
    pacer.observe(RateSignal(limit=300))
    slots = reserve_slots(pacer, clock, 3000)
    assert most_in_any_minute(slots) <= 300
    per_minute = (len(slots) - 5) / (slots[-1] - slots[0]) * 60
    assert per_minute >= 0.95 * 300


def test_calls_made_before_the_first_header_count_against_the_limit(clock):
    """The first responses arrive after a few unpaced calls: those still fit the minute."""
    pacer = Pacer(clock, burst=5)
    early = reserve_slots(pacer, clock, 8)
    assert set(early) == {clock.now}
    pacer.observe(RateSignal(limit=60, remaining=52))
    later = reserve_slots(pacer, clock, 200)
    assert most_in_any_minute(early + later) <= 60


def test_the_cap_wins_over_a_larger_server_limit(clock):
    """`--rate-per-minute 100` against a server allowing 5,000: 100 a minute (plus burst)."""
    pacer = Pacer(clock, cap_per_minute=100, burst=1)
    pacer.observe(RateSignal(limit=5000))
    assert pacer.rate_per_minute() == 100
    assert most_in_any_minute(reserve_slots(pacer, clock, 500)) <= 101


def test_a_larger_server_limit_lifts_the_pace(clock):
    """A server allowing 5,000 a minute is paced at 4,995, not at the documented 300."""
    pacer = Pacer(clock, burst=5)
    pacer.observe(RateSignal(limit=5000))
    assert pacer.rate_per_minute() == 4995


async def test_remaining_and_reset_spread_the_calls_left(clock):
    """10 calls left for the next 30 s: 20 a minute until the reset, the limit's pace after."""
    pacer = Pacer(clock, burst=1)
    pacer.observe(RateSignal(limit=300, remaining=10, reset_s=30))
    assert pacer.rate_per_minute() == 20
    for _ in range(5):
        await pacer.acquire()
    assert clock.sleeps == [3.0] * 4
    clock.now += 30
    assert pacer.rate_per_minute() == 299


async def test_nothing_remaining_holds_the_group_until_the_reset(clock):
    """`x-ratelimit-remaining: 0` with a reset of 12 s: the next call waits 12 s."""
    pacer = Pacer(clock)
    pacer.observe(RateSignal(limit=300, remaining=0, reset_s=12))
    assert await pacer.acquire() == pytest.approx(12.0)


async def test_a_429_holds_the_group_then_paces_at_70_percent_and_grows_back(clock):
    """After a 429 on an unlabelled server: wait as told, then 0.7x the measured rate, which
    grows back past the old rate along the cubic curve (botocore's adaptive mode)."""
    pacer = Pacer(clock)
    for _ in range(120):  # 2 calls a second for a minute, unpaced
        await pacer.acquire()
        clock.now += 0.5
    pacer.throttled(5.0)
    after = pacer.rate_per_minute()
    assert after is not None
    assert 0.65 * 120 <= after <= 0.75 * 120
    assert await pacer.acquire() == pytest.approx(5.0)
    started = clock.now
    while clock.now < started + 120:  # calls keep coming as fast as the pacer lets them
        await pacer.acquire()
    assert pacer.rate_per_minute() > 120  # type: ignore[operator]


def test_a_429_never_speeds_up_a_paced_group(clock):
    """A throttle while paced by a header lowers the pace below the header's."""
    pacer = Pacer(clock, burst=5)
    pacer.observe(RateSignal(limit=300))
    reserve_slots(pacer, clock, 100)
    pacer.throttled(None)
    assert pacer.rate_per_minute() < 295  # type: ignore[operator]


def test_headers_are_read_case_insensitively_and_garbage_is_ignored():
    """Numbers are read from the three headers; absent or malformed ones are None."""
    headers = httpx.Headers(
        {"X-RateLimit-Limit": "5000", "x-ratelimit-remaining": "12", "x-ratelimit-reset": "soon"}
    )
    assert RateSignal.from_headers(headers) == RateSignal(limit=5000, remaining=12)
    assert RateSignal.from_headers(httpx.Headers({"x-ratelimit-limit": "-3"})) == RateSignal()


def test_requests_endpoints_are_their_own_group():
    """Requests list paths count against the requests group, everything else general."""
    assert endpoint_group("/projects/p/requests") == "requests"
    assert endpoint_group("/projects/p/logs") == "general"
    assert endpoint_group("/projects") == "general"


def test_shared_pacing_is_one_per_host_and_cap():
    """Every client of one host in one process shares one budget per group."""
    first = shared_pacing("https://a.test", None, 5)
    assert shared_pacing("https://a.test", None, 5) is first
    assert shared_pacing("https://b.test", None, 5) is not first
    assert isinstance(first, Pacing)


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


async def test_client_follows_the_headers_of_its_responses(make_client, clock):
    """A response saying `limit: 60` paces the group's next calls a second apart."""
    headers = {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "59"}
    client = make_client(lambda request: httpx.Response(200, json=[], headers=headers))
    for _ in range(40):
        await client.get("/projects/p/logs")
    assert sum(clock.sleeps) >= (40 - 8) * 60 / 59
    assert client.stats.groups["general"].paced_s == pytest.approx(sum(clock.sleeps))


async def test_client_holds_the_group_after_a_429(make_client, clock):
    """A 429 with a reset of 30 s: the group waits 30 s before its next call."""
    responses = [
        httpx.Response(429, headers={"x-ratelimit-reset": "30", "x-ratelimit-limit": "300"}),
        httpx.Response(200, json=[]),
    ]
    client = make_client(lambda request: responses.pop(0))
    await client.get("/projects")
    assert sum(clock.sleeps) == pytest.approx(30.0, abs=0.5)
    assert client.stats.groups["general"].throttled == 1


def test_one_pacer_paces_callers_on_several_threads(clock):
    """Reservations from several threads never share a slot."""
    pacer = Pacer(clock, cap_per_minute=600, burst=1)
    slots: list[float] = []
    lock = threading.Lock()

    def reserve_many() -> None:
        for _ in range(200):
            delay = pacer.reserve()
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
