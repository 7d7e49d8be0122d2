"""Stream state and the run ledger are plain JSON, committed atomically."""

import datetime as dt

import pytest

from warehouse.errors import InvalidName
from warehouse.state import RunLedger, StateStore
from lake_examples import CrashAt, MemoryStorage, SimulatedCrash


def test_state_round_trips():
    """A committed state loads back equal, per (project, stream)."""
    store = StateStore(MemoryStorage())
    state = {"cursor": "abc", "intervals": [[1, 2], [5, 9]], "note": "ünïcode"}
    store.commit("demo", "logs", state)
    assert store.load("demo", "logs") == state
    assert store.load("demo", "requests") is None
    assert store.streams() == [("demo", "logs")]


def test_state_commit_replaces_previous():
    """A second commit replaces the first wholesale."""
    store = StateStore(MemoryStorage())
    store.commit("demo", "logs", {"a": 1})
    store.commit("demo", "logs", {"b": 2})
    assert store.load("demo", "logs") == {"b": 2}


def test_crash_during_state_commit_keeps_old_state():
    """A crash before the new state is in place leaves the previous state readable."""
    storage = MemoryStorage()
    StateStore(storage).commit("demo", "logs", {"v": 1})
    crashing = MemoryStorage(CrashAt(at=1))
    crashing.files = storage.files
    with pytest.raises(SimulatedCrash):
        StateStore(crashing).commit("demo", "logs", {"v": 2})
    assert StateStore(storage).load("demo", "logs") == {"v": 1}


def test_state_names_are_validated():
    """A stream or project name that is not a safe path segment is refused."""
    with pytest.raises(InvalidName):
        StateStore(MemoryStorage()).commit("demo", "../../x", {})


def test_ledger_appends_in_order_across_months():
    """Ledger entries come back in the order appended, over month files."""
    now = [dt.datetime(2026, 1, 31, 23, tzinfo=dt.UTC)]
    ledger = RunLedger(MemoryStorage(), clock=lambda: now[0])
    ledger.append({"run": 1})
    now[0] = dt.datetime(2026, 2, 1, 1, tzinfo=dt.UTC)
    ledger.append({"run": 2, "at": now[0]})
    ledger.append({"run": 3})
    assert [e["run"] for e in ledger.read()] == [1, 2, 3]
    assert ledger.read()[1]["at"] == "2026-02-01 01:00:00+00:00"
