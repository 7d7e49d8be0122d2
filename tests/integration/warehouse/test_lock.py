"""One writer at a time; the OS frees the lock when a holder is killed."""

import os
import signal
import subprocess
import sys

import pytest

from warehouse import Lake, LakeBusy
from warehouse.layout import JOURNAL_DIR


def test_second_holder_is_told_who_holds_the_lock(root):
    """While the lock is held, another attempt fails with LakeBusy naming the holder pid."""
    lake = Lake.open(root)
    with lake.lock() as holder:
        with pytest.raises(LakeBusy) as info, Lake.open(root).lock():
            pass
        assert info.value.holder["pid"] == holder["pid"] == os.getpid()
    with lake.lock():
        pass


def test_locks_with_other_names_are_independent(root):
    """A 'compact' lock does not block the 'sync' lock."""
    lake = Lake.open(root)
    with lake.lock("compact"), lake.lock("sync"):
        pass


def test_killed_holder_releases_the_lock(root):
    """After the holding process is SIGKILLed, the lock can be taken at once."""
    script = (
        "import sys, time\n"
        "from warehouse import Lake\n"
        "with Lake.open(sys.argv[1]).lock():\n"
        "    print('held', flush=True)\n"
        "    sys.stdin.read()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "held"
        with pytest.raises(LakeBusy) as info, Lake.open(root).lock():
            pass
        assert info.value.holder["pid"] == proc.pid
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        with Lake.open(root).lock(wait=False):
            pass
    finally:
        if proc.poll() is None:
            proc.kill()


def test_repair_leaves_a_live_writers_transaction_alone(root, frame):
    """Opening the lake while another writer holds the lock does not undo its pending work."""
    writer = Lake.open(root)
    entry = root / JOURNAL_DIR / "live.json"
    entry.parent.mkdir(parents=True)
    entry.write_text(
        '{"txid": "live", "status": "pending", "add": ["logs/x.parquet"], "remove": []}'
    )
    with writer.lock():
        report = Lake.open(root).repair()
        assert report.skipped_busy
        assert entry.exists()
        assert writer.repair().rolled_back == ("live",)
    assert not entry.exists()
