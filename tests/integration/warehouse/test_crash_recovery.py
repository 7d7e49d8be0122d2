"""A crash at any storage step of a sync or a compaction is repaired to an exact lake.

Each case crashes at one numbered step (temp written, renamed, journal marked, old file
deleted, state committed, ledger appended...), re-opens the lake, and checks the raw Parquet
files with DuckDB: every id once, each table at its old or its new content as a whole, state
never ahead of data. Then the interrupted round runs again and the lake is exactly final.
"""

import datetime as dt
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from warehouse import Lake, LocalStorage, run_sql
from lake_examples import CrashAt, SimulatedCrash, StepRecorder, example_frame

T = dt.datetime(2026, 4, 1, 23, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
LOG_IDS_BEFORE = {f"{n:024x}" for n in range(10)}
LOG_IDS_AFTER = {f"{n:024x}" for n in range(15)}
REQUESTS_BEFORE = [("r1", "pending"), ("r2", "pending")]
REQUESTS_AFTER = [("r1", "pending"), ("r2", "completed"), ("r3", "pending")]


def _open(root, hook=None):
    # Crashes here are simulated in-process, not power cuts: fsync adds nothing but time.
    return Lake.open(root, LocalStorage(root, hook=hook, durable=False))


def _logs(make, numbers):
    return make(
        "logs", [{"id": f"{n:024x}", "date": T + n * H, "_extracted_at": T} for n in numbers]
    )


def _seed(root, make):
    lake = _open(root)
    lake.write("logs", _logs(make, range(10)))
    lake.write("requests", make("requests", [{"id": "r1"}, {"id": "r2"}]))
    lake.write("project_users", make("project_users", [{"id": "u1"}, {"id": "u2"}]))
    lake.state.commit("alpha", "logs", {"round": 1})
    return lake


def _round_two(lake, make):
    lake.write("logs", _logs(make, range(5, 15)))
    done = {"id": "r2", "status": "completed", "finished": True, "_extracted_at": T + 30 * H}
    lake.write("requests", make("requests", [done, {"id": "r3", "_extracted_at": T + 30 * H}]))
    lake.write("project_users", make("project_users", [{"id": "u3"}]))
    lake.state.commit("alpha", "logs", {"round": 2})
    lake.ledger.append({"round": 2})


def _steps_of_round_two(make):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _seed(root, make)
        recorder = StepRecorder()
        _round_two(_open(root, recorder), make)
        return len(recorder.steps)


def _steps_of_compaction(make):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        _fragment(root, make)
        recorder = StepRecorder()
        _open(root, recorder).compact()
        return len(recorder.steps)


def _fragment(root, make):
    lake = _open(root)
    for start in range(0, 12, 3):
        lake.write("logs", _logs(make, range(start, start + 3)))
    lake.write("requests", make("requests", [{"id": "r1"}]))
    lake.write("requests", make("requests", [{"id": "r2"}]))


def _assert_exact(root, direct):
    for table in ("logs", "requests"):
        ids = [r[0] for r in direct(root, table, "id")]
        assert len(ids) == len(set(ids)), f"{table} holds an id twice"


@pytest.mark.parametrize("step", range(1, _steps_of_round_two(example_frame) + 1))
def test_crash_during_sync_round_is_repaired(root, frame, direct, step):
    """Crash at this step of a sync round: re-open gives an exact lake; re-run gives final."""
    _seed(root, frame)
    crashing = _open(root, CrashAt(at=step))
    with pytest.raises(SimulatedCrash):
        _round_two(crashing, frame)
    # Before repair, queries through the views are exact already.
    view = run_sql(root, "SELECT id, count(*) FROM logs GROUP BY id HAVING count(*) > 1").rows
    assert view == []
    users_view = run_sql(root, "SELECT id FROM project_users ORDER BY id").rows
    assert users_view in ([("u1",), ("u2",)], [("u3",)])
    lake = _open(root)
    _assert_exact(root, direct)
    logs = {r[0] for r in direct(root, "logs", "id")}
    requests = direct(root, "requests", "id, status::VARCHAR")
    assert logs in (LOG_IDS_BEFORE, LOG_IDS_AFTER)
    assert requests in (REQUESTS_BEFORE, REQUESTS_AFTER)
    users = direct(root, "project_users", "id")
    assert users in ([("u1",), ("u2",)], [("u3",)])
    if lake.state.load("alpha", "logs") == {"round": 2}:
        assert (logs, requests, users) == (LOG_IDS_AFTER, REQUESTS_AFTER, [("u3",)])
    _round_two(lake, frame)
    assert {r[0] for r in direct(root, "logs", "id")} == LOG_IDS_AFTER
    assert direct(root, "requests", "id, status::VARCHAR") == REQUESTS_AFTER
    assert direct(root, "project_users", "id") == [("u3",)]
    assert not list((root / "_tmp").iterdir())
    assert not list((root / "_state" / "journal").iterdir())


@pytest.mark.parametrize("step", range(1, _steps_of_compaction(example_frame) + 1))
def test_crash_during_compaction_is_repaired(root, frame, direct, step):
    """Crash at this step of a compaction: the lake holds the same rows, each once."""
    _fragment(root, frame)
    before = {t: direct(root, t) for t in ("logs", "requests")}
    with pytest.raises(SimulatedCrash):
        _open(root, CrashAt(at=step)).compact()
    assert run_sql(root, "SELECT count(*), count(DISTINCT id) FROM logs").rows == [(12, 12)]
    _open(root).compact()
    assert {t: direct(root, t) for t in ("logs", "requests")} == before
    assert len(list((root / "logs").rglob("*.parquet"))) == 2


def test_views_are_exact_in_the_middle_of_a_rewrite(root, frame, direct):
    """While a copy-on-write rewrite has old and new files side by side, views show each once."""
    _seed(root, frame)
    seen = {}

    def observe(step, key):
        # Just before the old requests file is deleted, both versions are on disk.
        if step == "delete:before" and key.startswith("requests/") and not seen:
            seen["raw"] = direct(root, "requests", "id, status::VARCHAR")
            seen["view"] = run_sql(root, "SELECT id, status FROM requests ORDER BY id").rows

    _round_two(_open(root, observe), frame)
    assert len(seen["raw"]) > len(REQUESTS_AFTER)
    assert seen["view"] == REQUESTS_AFTER


KILLED_WRITER = """
import datetime as dt, sys
from warehouse import Lake
from lake_examples import EXAMPLE_TIME, example_frame
lake = Lake.open(sys.argv[1])
with lake.lock():
    for i in range(100_000):
        logs = [{"id": f"{n:024x}"} for n in range(i * 50, i * 50 + 100)]
        lake.write("logs", example_frame("logs", logs))
        at = EXAMPLE_TIME + dt.timedelta(minutes=i)
        requests = [{"id": f"r{n}", "_extracted_at": at} for n in range(30)]
        lake.write("requests", example_frame("requests", requests))
        print(i, flush=True)
"""


def test_sigkilled_writer_leaves_a_repairable_lake(root, direct):
    """A writer killed with SIGKILL mid-run leaves a lake that re-opens exact and unlocked."""
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        while int(proc.stdout.readline()) < 3:
            pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    lake = Lake.open(root)
    with lake.lock():
        pass
    logs = [r[0] for r in direct(root, "logs", "id")]
    assert len(logs) == len(set(logs))
    assert logs == [f"{n:024x}" for n in range(len(logs))]
    requests = [r[0] for r in direct(root, "requests", "id")]
    assert sorted(requests) == sorted(f"r{n}" for n in range(30))
    assert not list((root / "_state" / "journal").iterdir())
