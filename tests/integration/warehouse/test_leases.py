"""Leases in the lake root: one writer per (project, stream), taken over once the holder is
gone. Time is an injected clock; the store is real (a local root and an S3 server)."""

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from warehouse import Lake, LeaseBusy, LeaseLost
from warehouse.leases import LEASE_DIR

T0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
TTL = dt.timedelta(minutes=5)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def lake(root, clock):
    return Lake.open(root, clock=clock, lease_ttl=TTL)


def test_a_live_lease_refuses_others_and_says_who(lake):
    """While held and unexpired, a second taker gets LeaseBusy naming the holder's run."""
    lake.leases.take("alpha/logs", "run-a")
    with pytest.raises(LeaseBusy) as busy:
        lake.leases.take("alpha/logs", "run-b")
    assert busy.value.holder["run"] == "run-a"
    assert "run-a" in str(busy.value)
    lake.leases.take("alpha/requests", "run-b")  # another stream is independent


def test_a_released_lease_is_free_at_once(lake):
    """Releasing ends the lease for everyone; the next taker gets the next generation."""
    first = lake.leases.take("alpha/logs", "run-a")
    first.release()
    second = lake.leases.take("alpha/logs", "run-b")
    assert second.generation == first.generation + 1


def test_an_expired_lease_is_taken_over(lake, clock):
    """A holder that stopped renewing (it died elsewhere) loses the lease after the TTL."""
    lake.leases.take("alpha/logs", "run-a")
    clock.now = T0 + TTL - dt.timedelta(seconds=1)
    with pytest.raises(LeaseBusy):
        lake.leases.take("alpha/logs", "run-b")
    clock.now = T0 + TTL
    assert lake.leases.take("alpha/logs", "run-b").doc["run"] == "run-b"


def test_renewing_keeps_the_lease_past_its_first_expiry(lake, clock):
    """A heartbeat pushes the expiry forward, so a long run keeps its lease."""
    held = lake.leases.take("alpha/logs", "run-a")
    clock.now = T0 + TTL * 0.9
    held.renew()
    clock.now = T0 + TTL * 1.5
    with pytest.raises(LeaseBusy):
        lake.leases.take("alpha/logs", "run-b")


def test_a_holder_whose_lease_was_taken_over_learns_it_lost(lake, clock):
    """After a takeover the old holder's renew raises LeaseLost and its release leaves the
    new holder's lease alone."""
    old = lake.leases.take("alpha/logs", "run-a")
    clock.now = T0 + TTL * 2
    new = lake.leases.take("alpha/logs", "run-b")
    with pytest.raises(LeaseLost):
        old.renew()
    old.release()
    assert lake.leases.holder("alpha/logs")["run"] == "run-b"
    new.release()


def test_only_one_of_two_racing_takers_wins(lake):
    """Two runs that both saw the lease free race to create the same generation: the
    conditional create lets exactly one win; the other sees it busy."""
    key = f"{LEASE_DIR}/alpha/logs/{1:012d}.json"
    assert lake.store.create(
        key, json.dumps({"run": "x", "expires_at": "9999-01-01T00:00:00+00:00"}).encode()
    )
    assert not lake.store.create(key, b"{}")
    with pytest.raises(LeaseBusy):
        lake.leases.take("alpha/logs", "run-b")


def test_a_dead_holder_on_this_host_is_known_dead_at_once(lake):
    """A lease whose holder process on this host has exited is free before it expires (a
    killed cron run does not block the next one for the TTL)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    held = lake.leases.take("alpha/logs", "dead-run")
    held.doc["pid"] = int(child.stdout)
    held.renew()  # rewrite it as if the exited child had taken it
    assert lake.leases.take("alpha/logs", "run-b").doc["pid"] == os.getpid()


def test_old_generations_are_forgotten(lake):
    """Each take deletes the generations before it, so lease folders stay small."""
    for run in range(4):
        lake.leases.take("alpha/logs", f"run-{run}").release()
    keys = [i.key for i in lake.store.list(f"{LEASE_DIR}/alpha/logs")]
    assert keys == [f"{LEASE_DIR}/alpha/logs/{4:012d}.json"]
