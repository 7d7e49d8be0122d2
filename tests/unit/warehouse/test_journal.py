"""A journaled change is all-or-nothing: crashes are repaired, errors rolled back at once."""

import errno
import json

import pytest

from warehouse.journal import Transaction, repair
from warehouse.layout import JOURNAL_DIR
from lake_examples import CrashAt, FailWith, MemoryStorage, SimulatedCrash, StepRecorder


def _change(storage):
    tx = Transaction(storage, kind="test")
    tx.add("t/new1.parquet", b"n1")
    tx.add("t/new2.parquet", b"n2")
    tx.remove("t/old.parquet")
    return tx


def _seeded(hook=None):
    storage = MemoryStorage(hook)
    storage.files["t/old.parquet"] = b"old"
    return storage


def _count_steps():
    recorder = StepRecorder()
    _change(_seeded(recorder)).commit()
    return len(recorder.steps)


OLD = {"t/old.parquet"}
NEW = {"t/new1.parquet", "t/new2.parquet"}


def test_commit_adds_new_and_removes_old_files():
    """A finished transaction leaves exactly the new files and no journal entry."""
    storage = _seeded()
    _change(storage).commit()
    assert set(storage.files) == NEW


@pytest.mark.parametrize("at", range(1, _count_steps() + 1))
def test_crash_at_any_step_repairs_to_old_or_new(at):
    """Whatever step a crash hits, repair leaves all old files or all new ones, never a mix."""
    storage = _seeded(CrashAt(at=at))
    with pytest.raises(SimulatedCrash):
        _change(storage).commit()
    repair(storage)
    assert set(storage.files) in (OLD, NEW)
    assert storage.list(JOURNAL_DIR) == []


def test_crash_after_commit_mark_rolls_forward():
    """Once the entry says committed, repair finishes the change rather than undoing it."""
    storage = _seeded()
    tx = _change(storage)
    storage.files[tx.key] = json.dumps(
        {
            "txid": tx.txid,
            "kind": "t",
            "status": "committed",
            "add": sorted(NEW),
            "remove": sorted(OLD),
        }
    ).encode()
    storage.files.update(dict.fromkeys(NEW, b"x"))
    report = repair(storage)
    assert report.rolled_forward == (tx.txid,)
    assert set(storage.files) == NEW


def test_repair_is_idempotent():
    """Repairing twice is the same as once, and a clean store reports clean."""
    storage = _seeded(CrashAt(at=4))
    with pytest.raises(SimulatedCrash):
        _change(storage).commit()
    repair(storage)
    after_first = dict(storage.files)
    assert repair(storage).clean
    assert storage.files == after_first


def test_disk_full_rolls_back_immediately():
    """An ordinary I/O error mid-change undoes it in-process and is raised to the caller."""
    storage = _seeded(FailWith(prefix="t/new2"))
    with pytest.raises(OSError) as info:
        _change(storage).commit()
    assert info.value.errno == errno.ENOSPC
    assert set(storage.files) == OLD


def test_empty_transaction_writes_nothing():
    """A change with nothing to add or remove leaves no journal entry behind."""
    storage = MemoryStorage()
    Transaction(storage, kind="noop").commit()
    assert storage.files == {}


class _FailSecondJournalWrite(StepRecorder):
    """Disk full when the journal entry is rewritten as committed."""

    def on_step(self, number, step, key):
        journal_writes = [s for s in self.steps if s == ("write:temp", key)]
        if key.startswith(JOURNAL_DIR) and step == "write:temp" and len(journal_writes) == 2:
            raise OSError(errno.ENOSPC, "disk full", key)


def test_failed_commit_mark_rolls_back_immediately():
    """If marking the change committed fails, it is undone at once: old files, no entry."""
    storage = _seeded(_FailSecondJournalWrite())
    with pytest.raises(OSError):
        _change(storage).commit()
    assert set(storage.files) == OLD


def test_failed_delete_after_commit_is_rolled_forward_by_repair():
    """A delete that fails after the commit mark leaves work that repair finishes."""
    storage = _seeded(FailWith(step="delete:before", prefix="t/old"))
    with pytest.raises(OSError):
        _change(storage).commit()
    report = repair(storage)
    assert len(report.rolled_forward) == 1
    assert set(storage.files) == NEW
